"""Secrets Manager: secrets, RDS target attachments, rotation schedules, resource policies and the rotation function's
Serverless application, which moto's CloudFormation skips.

- `AWS::SecretsManager::Secret`: created with `GenerateSecretString` honoured (template, key, length, excluded
  characters) through the backend's own password generator.
- `::SecretTargetAttachment`: adds `engine`, `host`, `port`, `dbname` of the RDS instance to the secret, as AWS does;
  `Ref` is the secret's ARN.
- `::RotationSchedule`: records the rotation function and the schedule on the secret (`RotationEnabled`,
  `AutomaticallyAfterDays` from `rate(N days)`, and the `ScheduleExpression` AWS returns). The function is not invoked
  (moto would need Docker); the rehearsal plays a rotation itself (localaws.rotation), as the function does it.
- `::ResourcePolicy`: attached to the secret through the backend.
- `AWS::Serverless::Application` (in AWS a nested stack from the Serverless Application Repository): modelled as its
  `Outputs.RotationLambdaARN`, the ARN of the function named by `functionName`.
- UpdateSecretVersionStage: moving `AWSCURRENT` (the last step of every rotation) leaves moto's default version on the
  old one, so GetSecretValue without a stage returns the old value; here the default follows `AWSCURRENT`, as in AWS.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.rds.models import rds_backends
from moto.secretsmanager import models as secrets_models
from moto.secretsmanager.models import secretsmanager_backends

from localaws.models.base import Model, flag, tags

_RATE_DAYS = re.compile(r"^rate\((\d+) days?\)$")


class SecretsManagerSecret(Model):
    TYPE = "AWS::SecretsManager::Secret"
    ATTRIBUTES = ("Id",)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> SecretsManagerSecret:
        props = cloudformation_json["Properties"]
        backend = secretsmanager_backends[account_id][region_name]
        secret_string = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if generate is not None:
            password = backend.get_random_password(
                password_length=int(generate.get("PasswordLength", 32)),
                exclude_characters=generate.get("ExcludeCharacters", ""),
                exclude_numbers=flag(generate.get("ExcludeNumbers", False)),
                exclude_punctuation=flag(generate.get("ExcludePunctuation", False)),
                exclude_uppercase=flag(generate.get("ExcludeUppercase", False)),
                exclude_lowercase=flag(generate.get("ExcludeLowercase", False)),
                include_space=flag(generate.get("IncludeSpace", False)),
                require_each_included_type=flag(generate.get("RequireEachIncludedType", True)),
            )
            password = json.loads(password)["RandomPassword"]
            if "SecretStringTemplate" in generate:
                document = json.loads(generate["SecretStringTemplate"])
                document[generate["GenerateStringKey"]] = password
                secret_string = json.dumps(document)
            else:
                secret_string = password
        response = backend.create_secret(
            name=props.get("Name", resource_name),
            secret_string=secret_string,
            secret_binary=None,
            description=props.get("Description"),
            tags=tags(props),
            kms_key_id=props.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        arn = json.loads(response)["ARN"]
        return cls(arn, {"Id": arn})


class SecretTargetAttachment(Model):
    """Adds the database's connection fields to its secret, as AWS does for an RDS instance target."""

    TYPE = "AWS::SecretsManager::SecretTargetAttachment"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> SecretTargetAttachment:
        props = cloudformation_json["Properties"]
        if props["TargetType"] != "AWS::RDS::DBInstance":
            raise ValidationError(message=f"TargetType {props['TargetType']} is not modelled")
        backend = secretsmanager_backends[account_id][region_name]
        instance = rds_backends[account_id][region_name].describe_db_instances(props["TargetId"])[0]
        current = json.loads(backend.get_secret_value(props["SecretId"], None, None)["SecretString"])
        current.update(
            {
                "engine": instance.engine,
                "host": instance.address,
                "port": instance.port,
                "dbname": instance.db_name,
                "dbInstanceIdentifier": instance.db_instance_identifier,
            }
        )
        backend.put_secret_value(props["SecretId"], json.dumps(current), None, None, ["AWSCURRENT"])
        arn = backend.describe_secret(props["SecretId"]).arn
        return cls(arn)


class RotationSchedule(Model):
    """Records the rotation Lambda and schedule on the secret (describe_secret shows them) without running it."""

    TYPE = "AWS::SecretsManager::RotationSchedule"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> RotationSchedule:
        props = cloudformation_json["Properties"]
        rules = props.get("RotationRules", {})
        days = rules.get("AutomaticallyAfterDays")
        expression = rules.get("ScheduleExpression")
        if expression is not None:
            match = _RATE_DAYS.match(expression)
            if match is None:
                raise ValidationError(message=f"ScheduleExpression {expression} is not modelled (rate(N days) is)")
            days = int(match[1])
        if not days or not 1 <= int(days) <= 1000:
            raise ValidationError(message="RotationRules must set a schedule between 1 and 1000 days")
        lambda_arn = props.get("RotationLambdaARN")
        if not lambda_arn and "HostedRotationLambda" not in props:
            raise ValidationError(message="RotationSchedule needs RotationLambdaARN or HostedRotationLambda")
        secret = secretsmanager_backends[account_id][region_name].describe_secret(props["SecretId"])
        secret.rotation_requested = True
        secret.rotation_enabled = True
        secret.rotation_lambda_arn = lambda_arn or ""
        secret.auto_rotate_after_days = int(days)
        secret.schedule_expression = expression
        secret.next_rotation_date = int(time.time()) + int(days) * 86400
        return cls(f"{secret.arn}|rotation")


_original_secret_to_dict = secrets_models.FakeSecret.to_dict


def _secret_to_dict(self: secrets_models.FakeSecret) -> dict[str, Any]:
    """describe_secret with the `ScheduleExpression` AWS returns when rotation was set by one."""
    document = _original_secret_to_dict(self)
    expression = getattr(self, "schedule_expression", None)
    if expression and "RotationRules" in document:
        document["RotationRules"]["ScheduleExpression"] = expression
    if getattr(self, "next_rotation_date", None) and self.rotation_enabled:
        document.setdefault("NextRotationDate", self.next_rotation_date)
    return document


class SecretResourcePolicy(Model):
    TYPE = "AWS::SecretsManager::ResourcePolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> SecretResourcePolicy:
        props = cloudformation_json["Properties"]
        policy = props["ResourcePolicy"]
        secretsmanager_backends[account_id][region_name].put_resource_policy(
            props["SecretId"], policy if isinstance(policy, str) else json.dumps(policy)
        )
        return cls(f"{props['SecretId']}|policy")


class ServerlessApplication(Model):
    """The SAR rotation application, reduced to the output the template reads: the rotation function's ARN."""

    TYPE = "AWS::Serverless::Application"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr.startswith("Outputs.")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ServerlessApplication:
        props = cloudformation_json["Properties"]
        function = props.get("Parameters", {}).get("functionName", resource_name)
        arn = f"arn:aws:lambda:{region_name}:{account_id}:function:{function}"
        stack_arn = f"arn:aws:cloudformation:{region_name}:{account_id}:stack/serverlessrepo-{function}/application"
        return cls(stack_arn, {"Outputs.RotationLambdaARN": arn})


_original_update_version_stage = secrets_models.SecretsManagerBackend.update_secret_version_stage


def _update_secret_version_stage(
    self: secrets_models.SecretsManagerBackend,
    secret_id: str,
    version_stage: str,
    remove_from_version_id: str,
    move_to_version_id: str,
) -> tuple[str, str]:
    """moto's stage move, with GetSecretValue's default (AWSCURRENT) following the move."""
    result = _original_update_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
    if version_stage == "AWSCURRENT" and move_to_version_id:
        self.secrets[secret_id].set_default_version_id(move_to_version_id)
    return result


MODELS = (SecretsManagerSecret, SecretTargetAttachment, RotationSchedule, SecretResourcePolicy, ServerlessApplication)


def patch() -> None:
    secrets_models.FakeSecret.to_dict = _secret_to_dict
    secrets_models.SecretsManagerBackend.update_secret_version_stage = _update_secret_version_stage  # type: ignore[method-assign]
