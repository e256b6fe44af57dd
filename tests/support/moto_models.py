"""CloudFormation models registered with moto, so the rehearsal deploys the real dev template as AWS would.

Applied inside the moto server process by `tests/support/moto_server.py` (after `moto_patches`). moto 5.2.5's
CloudFormation skips resource types it has no model for and ignores some properties of those it has; the
integration suite checks exactly those parts, so each gap below is filled with a model that creates the resource
through moto's own service backend (so `describe_*` returns what the template asked for), never a canned answer:

- `AWS::ElastiCache::SubnetGroup`, `AWS::ElastiCache::ReplicationGroup`: skipped by moto. Created through the
  ElastiCache backend with every property the template sets (encryption at rest with its KMS key, in transit,
  Multi-AZ, failover, node type, clusters). The AUTH token's `{{resolve:secretsmanager:...}}` dynamic reference is
  resolved against Secrets Manager as CloudFormation does, so a missing secret fails the deployment.
- `AWS::SecretsManager::Secret`: skipped. Created with `GenerateSecretString` honoured (template, key, length,
  excluded characters) through the backend's own password generator.
- `AWS::SecretsManager::SecretTargetAttachment`: skipped. Adds `engine`, `host`, `port`, `dbname` of the RDS
  instance to the secret, as AWS does; `Ref` is the secret's ARN.
- `AWS::SecretsManager::RotationSchedule`: skipped. Records the rotation Lambda and the schedule on the secret
  (`RotationEnabled`, `AutomaticallyAfterDays` from `rate(N days)`, and the `ScheduleExpression` AWS returns) without
  invoking the Lambda (moto would need Docker to run it).
- `AWS::SecretsManager::ResourcePolicy`: skipped. Attached to the secret through the backend.
- `AWS::Serverless::Application`: skipped (in AWS it is a nested stack from the Serverless Application
  Repository). Modelled as its `Outputs.RotationLambdaARN`, the ARN of the function named by `functionName`.
- `AWS::ApplicationAutoScaling::ScalableTarget` and `::ScalingPolicy`: skipped. Registered through the Application
  Auto Scaling backend (which checks that the ECS service exists).
- `AWS::ApiGateway::Stage`: skipped (moto's Deployment makes no stage without `StageName`). Created with its
  deployment, access-log setting, X-Ray tracing, variables and per-method settings (logging, metrics, throttling).
- `AWS::ApiGateway::Model`, `::RequestValidator`: skipped; created through the backend. `AWS::ApiGateway::Method`:
  moto keeps only authorization and the integration's type/URI/verb; created with validator, models, parameters,
  method responses and the integration's credentials, request templates, connection and responses (the rehearsal's
  API data plane, `api_gateway.py`, serves requests from exactly these).
- `AWS::ApiGateway::Account`: skipped. Sets the account's CloudWatch role ARN.
- `AWS::Kinesis::Stream`: moto ignores `StreamEncryption` and `StreamModeDetails`; the stream is created by moto's
  own model, then encrypted with the given key and put in the given capacity mode through the backend.
- `AWS::KMS::Key`: moto's model passes the template's `Tags` (Key/Value) to the KMS API, which wants
  TagKey/TagValue, and fails every tagged key; they are translated (and the policy given as JSON text).
- `AWS::RDS::DBInstance`: moto's model drops `DeletionProtection`, `EnableIAMDatabaseAuthentication`, log exports,
  `MaxAllocatedStorage` and the given `DBInstanceIdentifier`, takes the parameter group object for its name, and
  leaves the password's `{{resolve:secretsmanager:...}}` unresolved. Created through the RDS backend with all of
  them, the dynamic references resolved as CloudFormation does.
- `AWS::EFS::FileSystem`, `AWS::EFS::AccessPoint`: moto's models answer no `Fn::GetAtt` (and `Ref` of an access
  point is the Python object); `Arn` and the ids are answered from the backend's objects.
- `AWS::ElasticLoadBalancingV2::LoadBalancer`: moto's model ignores `Type` and makes the internal NLB an
  application load balancer, which then rejects the TCP listener; created with its type, scheme and tags.
- `AWS::EC2::SubnetRouteTableAssociation`: moto's model records the association aside from the route table, so
  `describe_route_tables` shows no subnet in any table; associated through `AssociateRouteTable` as AWS does.
- `AWS::EC2::VPC`: moto's model ignores `EnableDnsSupport` / `EnableDnsHostnames` (so task ENIs get no private DNS
  name and RunTask fails); both are applied.
- `AWS::ECS::TaskDefinition`: moto's model keeps only containers, volumes and memory; registered with the task's
  cpu, memory, network mode, compatibilities, roles and runtime platform. Running a Fargate task then sizes it by
  those task-level values, as Fargate does (moto sums container-level memory the template does not set).
- `AWS::ECS::Service`: moto's model keeps only cluster, name, task definition and desired count; created with
  the launch type, awsvpc network configuration (subnets, security groups, public IP), load balancers and tags.
- ECS services' running count: moto reports a fixed `runningCount` (env `MOTO_ECS_SERVICE_RUNNING`, default 0), as
  no task ever runs. Here a service's running count is the number of its tasks (group `service:<name>`) that are
  RUNNING, so the rehearsal, which runs the processor's commands locally, registers each process as a task
  (RunTask) and stops it (StopTask) with the process: the count tells the truth about what runs.
- Template `Rules`: moto ignores them. They are evaluated for the assertion form CDK emits
  (`CheckBootstrapVersion`: `Fn::Not` of `Fn::Contains` over the `BootstrapVersion` parameter), so deploying into an
  environment bootstrapped with a too old version fails with CDK's own message, as in AWS.

Every other type the template uses and the suite does not inspect (WAF, VPC link, models, validators, alarms,
security-group egress) is left as moto leaves it: skipped with a warning.
"""

from __future__ import annotations

import functools
import json
import re
import time
from typing import Any

from moto.apigateway.models import apigateway_backends
from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models import vpcs as ec2_vpcs
from moto.ecs import models as ecs_models
from moto.efs import models as efs_models
from moto.elasticache.models import elasticache_backends
from moto.elbv2 import models as elbv2_models
from moto.kinesis import models as kinesis_models
from moto.kms import models as kms_models
from moto.rds import models as rds_models
from moto.rds.models import rds_backends
from moto.secretsmanager import models as secrets_models
from moto.secretsmanager.models import secretsmanager_backends

_RESOLVE = re.compile(
    r"\{\{resolve:secretsmanager:(?P<id>arn:[^:]+:secretsmanager:[^:]+:\d+:secret:[^:]+|[^:}]+)"
    r"(?::SecretString:(?P<key>[^:}]*):(?P<stage>[^:}]*):(?P<version>[^:}]*))?\}\}"
)
_RATE_DAYS = re.compile(r"^rate\((\d+) days?\)$")


def _bool(value: Any) -> bool:
    return str(value).lower() == "true"


def _tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t["Value"]} for t in properties.get("Tags", [])]


def _resolve_dynamic_references(value: str, account_id: str, region_name: str) -> str:
    """Resolve `{{resolve:secretsmanager:...}}` as CloudFormation does; a missing secret fails the resource."""

    def secret_value(match: re.Match[str]) -> str:
        backend = secretsmanager_backends[account_id][region_name]
        try:
            secret = backend.get_secret_value(match["id"], None, match["stage"] or None)
        except Exception as error:  # the backend raises its own exceptions
            raise ValidationError(message=f"Unable to resolve dynamic reference {match[0]}: {error}") from error
        text = secret["SecretString"]
        return json.loads(text)[match["key"]] if match["key"] else text

    return _RESOLVE.sub(secret_value, value)


class _Model(CloudFormationModel):
    """Common plumbing: a physical id, attributes by name, nothing to wait for."""

    TYPE = ""
    ATTRIBUTES: tuple[str, ...] = ()

    def __init__(self, physical_id: str, attributes: dict[str, Any] | None = None) -> None:
        self._physical_id = physical_id
        self._attributes = attributes or {}

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self._attributes:
            raise ValidationError(message=f"{self.TYPE} has no attribute {attribute_name}")
        return self._attributes[attribute_name]

    def is_created(self) -> bool:
        return True


class ElastiCacheSubnetGroup(_Model):
    TYPE = "AWS::ElastiCache::SubnetGroup"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "CacheSubnetGroupName"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ElastiCacheSubnetGroup:
        props = cloudformation_json["Properties"]
        name = props.get("CacheSubnetGroupName", resource_name).lower()
        elasticache_backends[account_id][region_name].create_cache_subnet_group(
            cache_subnet_group_name=name,
            cache_subnet_group_description=props["Description"],
            subnet_ids=props["SubnetIds"],
            tags=_tags(props),
        )
        return cls(name)


class ElastiCacheReplicationGroup(_Model):
    TYPE = "AWS::ElastiCache::ReplicationGroup"
    ATTRIBUTES = (
        "PrimaryEndPoint.Address",
        "PrimaryEndPoint.Port",
        "ReaderEndPoint.Address",
        "ReaderEndPoint.Port",
    )

    @staticmethod
    def cloudformation_name_type() -> str:
        return "ReplicationGroupId"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ElastiCacheReplicationGroup:
        props = cloudformation_json["Properties"]
        group_id = props.get("ReplicationGroupId", resource_name).lower()[:40].rstrip("-")
        auth_token = props.get("AuthToken")
        if auth_token is not None:
            auth_token = _resolve_dynamic_references(auth_token, account_id, region_name)
        group = elasticache_backends[account_id][region_name].create_replication_group(
            replication_group_id=group_id,
            replication_group_description=props["ReplicationGroupDescription"],
            global_replication_group_id=props.get("GlobalReplicationGroupId"),
            primary_cluster_id=props.get("PrimaryClusterId"),
            automatic_failover_enabled=_bool(props.get("AutomaticFailoverEnabled", False)),
            multi_az_enabled=_bool(props.get("MultiAZEnabled", False)),
            num_cache_clusters=int(props.get("NumCacheClusters", 1)),
            preferred_cache_cluster_azs=props.get("PreferredCacheClusterAZs", []),
            num_node_groups=int(props.get("NumNodeGroups", 1)),
            replicas_per_node_group=int(props.get("ReplicasPerNodeGroup", 0)),
            node_group_configuration=props.get("NodeGroupConfiguration", []),
            cache_node_type=props.get("CacheNodeType"),
            engine=props.get("Engine", "redis"),
            engine_version=props.get("EngineVersion"),
            cache_parameter_group_name=props.get("CacheParameterGroupName"),
            cache_subnet_group_name=props.get("CacheSubnetGroupName"),
            cache_security_group_names=props.get("CacheSecurityGroupNames", []),
            security_group_ids=props.get("SecurityGroupIds", []),
            tags=_tags(props),
            snapshot_arns=props.get("SnapshotArns", []),
            snapshot_name=props.get("SnapshotName"),
            preferred_maintenance_window=props.get("PreferredMaintenanceWindow"),
            port=int(props.get("Port", 6379)),
            notification_topic_arn=props.get("NotificationTopicArn"),
            auto_minor_version_upgrade=_bool(props.get("AutoMinorVersionUpgrade", True)),
            snapshot_retention_limit=int(props.get("SnapshotRetentionLimit", 0)),
            snapshot_window=props.get("SnapshotWindow"),
            auth_token=auth_token,
            transit_encryption_enabled=_bool(props.get("TransitEncryptionEnabled", False)),
            at_rest_encryption_enabled=_bool(props.get("AtRestEncryptionEnabled", False)),
            kms_key_id=props.get("KmsKeyId"),
            user_group_ids=props.get("UserGroupIds", []),
            log_delivery_configurations=props.get("LogDeliveryConfigurations", []),
            data_tiering_enabled=_bool(props.get("DataTieringEnabled", False)),
            network_type=props.get("NetworkType"),
            ip_discovery=props.get("IpDiscovery"),
            transit_encryption_mode=props.get("TransitEncryptionMode"),
            cluster_mode=props.get("ClusterMode"),
            serverless_cache_snapshot_name=None,
        )
        node_group = group.node_groups[0]
        return cls(
            group_id,
            {
                "PrimaryEndPoint.Address": node_group["primary_endpoint_address"],
                "PrimaryEndPoint.Port": str(group.port),
                "ReaderEndPoint.Address": node_group["reader_endpoint_address"],
                "ReaderEndPoint.Port": str(group.port),
            },
        )


class SecretsManagerSecret(_Model):
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
                exclude_numbers=_bool(generate.get("ExcludeNumbers", False)),
                exclude_punctuation=_bool(generate.get("ExcludePunctuation", False)),
                exclude_uppercase=_bool(generate.get("ExcludeUppercase", False)),
                exclude_lowercase=_bool(generate.get("ExcludeLowercase", False)),
                include_space=_bool(generate.get("IncludeSpace", False)),
                require_each_included_type=_bool(generate.get("RequireEachIncludedType", True)),
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
            tags=_tags(props),
            kms_key_id=props.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        arn = json.loads(response)["ARN"]
        return cls(arn, {"Id": arn})


class SecretTargetAttachment(_Model):
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


class RotationSchedule(_Model):
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


class SecretResourcePolicy(_Model):
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


class ServerlessApplication(_Model):
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


class SubnetRouteTableAssociation(_Model):
    """Associates the subnet with its route table (moto's model records it aside; describe_route_tables misses it)."""

    TYPE = "AWS::EC2::SubnetRouteTableAssociation"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> SubnetRouteTableAssociation:
        props = cloudformation_json["Properties"]
        association_id = ec2_backends[account_id][region_name].associate_route_table(
            route_table_id=props["RouteTableId"], subnet_id=props["SubnetId"]
        )
        return cls(association_id)


class ScalableTarget(_Model):
    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ScalableTarget:
        props = cloudformation_json["Properties"]
        applicationautoscaling_backends[account_id][region_name].register_scalable_target(
            namespace=props["ServiceNamespace"],
            r_id=props["ResourceId"],
            dimension=props["ScalableDimension"],
            min_capacity=int(props["MinCapacity"]),
            max_capacity=int(props["MaxCapacity"]),
            role_arn=props.get("RoleARN", ""),
            suspended_state=props.get("SuspendedState"),
        )
        physical = f"{props['ResourceId']}|{props['ScalableDimension']}|{props['ServiceNamespace']}"
        return cls(physical)


def _camel(document: Any) -> Any:
    """CloudFormation's PascalCase property names to the API's camelCase."""
    if isinstance(document, dict):
        return {key[0].lower() + key[1:]: _camel(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_camel(item) for item in document]
    return document


class ScalingPolicy(_Model):
    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ScalingPolicy:
        props = cloudformation_json["Properties"]
        if "ScalingTargetId" in props:
            resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
        else:
            resource_id, dimension, namespace = (
                props["ResourceId"],
                props["ScalableDimension"],
                props["ServiceNamespace"],
            )
        body_key = next(
            key
            for key in ("TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration")
            if key in props
        )
        policy = applicationautoscaling_backends[account_id][region_name].put_scaling_policy(
            policy_name=props["PolicyName"],
            service_namespace=namespace,
            resource_id=resource_id,
            scalable_dimension=dimension,
            policy_body=_camel(props[body_key]),
            policy_type=props["PolicyType"],
        )
        return cls(policy.policy_arn)


class ApiGatewayStage(_Model):
    TYPE = "AWS::ApiGateway::Stage"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "StageName"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayStage:
        props = cloudformation_json["Properties"]
        backend = apigateway_backends[account_id][region_name]
        stage = backend.create_stage(
            function_id=props["RestApiId"],
            stage_name=props["StageName"],
            deploymentId=getattr(props["DeploymentId"], "id", props["DeploymentId"]),
            variables=props.get("Variables", {}),
            description=props.get("Description", ""),
            cacheClusterEnabled=_bool(props.get("CacheClusterEnabled", False)),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags={t["Key"]: t["Value"] for t in props.get("Tags", [])},
            tracing_enabled=_bool(props.get("TracingEnabled", False)),
        )
        access_log = props.get("AccessLogSetting")
        if access_log:
            stage.access_log_settings = {
                "destinationArn": access_log["DestinationArn"],
                "format": access_log.get("Format", ""),
            }
        for setting in props.get("MethodSettings", []):
            path = setting.get("ResourcePath", "/*").lstrip("/").replace("/", "~1") or "*"
            key = f"{path}/{setting.get('HttpMethod', '*')}"
            stage.method_settings[key] = {
                "metricsEnabled": _bool(setting.get("MetricsEnabled", False)),
                "loggingLevel": setting.get("LoggingLevel", "OFF"),
                "dataTraceEnabled": _bool(setting.get("DataTraceEnabled", False)),
                "throttlingBurstLimit": int(setting.get("ThrottlingBurstLimit", 5000)),
                "throttlingRateLimit": float(setting.get("ThrottlingRateLimit", 10000)),
                "cachingEnabled": _bool(setting.get("CachingEnabled", False)),
                "cacheTtlInSeconds": int(setting.get("CacheTtlInSeconds", 300)),
                "cacheDataEncrypted": _bool(setting.get("CacheDataEncrypted", False)),
                "requireAuthorizationForCacheControl": True,
                "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
            }
        return cls(props["StageName"])


class ApiGatewayModel(_Model):
    TYPE = "AWS::ApiGateway::Model"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayModel:
        props = cloudformation_json["Properties"]
        schema = props.get("Schema", {})
        model = apigateway_backends[account_id][region_name].create_model(
            rest_api_id=props["RestApiId"],
            name=props.get("Name", resource_name),
            content_type=props.get("ContentType", "application/json"),
            description=props.get("Description", ""),
            schema=schema if isinstance(schema, str) else json.dumps(schema),
        )
        return cls(model.name)


class ApiGatewayRequestValidator(_Model):
    TYPE = "AWS::ApiGateway::RequestValidator"
    ATTRIBUTES = ("RequestValidatorId",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayRequestValidator:
        props = cloudformation_json["Properties"]
        validator = apigateway_backends[account_id][region_name].create_request_validator(
            restapi_id=props["RestApiId"],
            name=props.get("Name", resource_name),
            body=_bool(props.get("ValidateRequestBody", False)),
            params=_bool(props.get("ValidateRequestParameters", False)),
        )
        return cls(validator.id, {"RequestValidatorId": validator.id})


class ApiGatewayMethod(_Model):
    """A method with its request validator, models, parameters, integration (templates, credentials, VPC link)
    and responses: moto's model keeps only the authorization and the integration's type, URI and verb."""

    TYPE = "AWS::ApiGateway::Method"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayMethod:
        props = cloudformation_json["Properties"]
        backend = apigateway_backends[account_id][region_name]
        api, resource, verb = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
        backend.put_method(
            function_id=api,
            resource_id=resource,
            method_type=verb,
            authorization_type=props.get("AuthorizationType", "NONE"),
            api_key_required=_bool(props.get("ApiKeyRequired", False)),
            request_parameters=props.get("RequestParameters"),
            request_models=props.get("RequestModels"),
            request_validator_id=props.get("RequestValidatorId"),
        )
        for response in props.get("MethodResponses", []):
            backend.put_method_response(
                api, resource, verb, response["StatusCode"], response.get("ResponseModels"),
                response.get("ResponseParameters"),
            )  # fmt: skip
        integration = props.get("Integration")
        if integration:
            backend.put_integration(
                function_id=api,
                resource_id=resource,
                method_type=verb,
                integration_type=integration["Type"],
                uri=integration.get("Uri", ""),
                integration_method=integration.get("IntegrationHttpMethod", verb),
                credentials=integration.get("Credentials"),
                request_templates=integration.get("RequestTemplates"),
                passthrough_behavior=integration.get("PassthroughBehavior"),
                request_parameters=integration.get("RequestParameters"),
                connection_type=integration.get("ConnectionType"),
            )
            for response in integration.get("IntegrationResponses", []):
                backend.put_integration_response(
                    api, resource, verb, response["StatusCode"], response.get("SelectionPattern", ""),
                    response.get("ResponseTemplates", {}), response.get("ResponseParameters", {}),
                )  # fmt: skip
        return cls(f"{api}|{resource}|{verb}")


class ApiGatewayAccount(_Model):
    TYPE = "AWS::ApiGateway::Account"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayAccount:
        role = cloudformation_json["Properties"].get("CloudWatchRoleArn")
        if role:
            apigateway_backends[account_id][region_name].update_account(
                [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
            )
        return cls(f"{account_id}-{region_name}-apigateway-account")


_original_stream_create = kinesis_models.Stream.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_stream(
    cls: type[kinesis_models.Stream],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> kinesis_models.Stream:
    """moto's stream model, plus the `StreamEncryption` and `StreamModeDetails` it ignores."""
    props = cloudformation_json.get("Properties", {})
    stream = _original_stream_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    backend = kinesis_models.kinesis_backends[account_id][region_name]
    mode = props.get("StreamModeDetails")
    if mode:
        backend.update_stream_mode(stream.arn, {"StreamMode": mode["StreamMode"]})
    encryption = props.get("StreamEncryption")
    if encryption:
        backend.start_stream_encryption(
            stream_arn=stream.arn,
            stream_name=stream.stream_name,
            encryption_type=encryption["EncryptionType"],
            key_id=encryption["KeyId"],
        )
    return stream


_original_key_create = kms_models.Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_key(
    cls: type[kms_models.Key],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> kms_models.Key:
    """moto's key model with `Tags` in the KMS API's TagKey/TagValue form and the policy as JSON text."""
    props = dict(cloudformation_json.get("Properties", {}))
    props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags", [])]
    if not isinstance(props.get("KeyPolicy"), str):
        props["KeyPolicy"] = json.dumps(props.get("KeyPolicy"))
    document = {**cloudformation_json, "Properties": props}
    return _original_key_create(cls, resource_name, document, account_id, region_name, **kwargs)


def _create_db_instance(
    cls: type[rds_models.DBInstance],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> rds_models.DBInstance:
    """An RDS instance with every property the template sets (moto's model drops several, see the docstring)."""
    props = cloudformation_json["Properties"]

    def name_of(value: Any) -> str | None:
        return getattr(value, "name", value)

    password = props.get("MasterUserPassword")
    if password is not None:
        password = _resolve_dynamic_references(password, account_id, region_name)
    username = props.get("MasterUsername")
    if username is not None:
        username = _resolve_dynamic_references(username, account_id, region_name)
    db_kwargs = {
        "db_instance_identifier": props.get("DBInstanceIdentifier", resource_name).replace("_", "-").lower(),
        "db_instance_class": props.get("DBInstanceClass"),
        "engine": props.get("Engine"),
        "engine_version": props.get("EngineVersion"),
        "port": int(props.get("Port", 5432 if props.get("Engine") == "postgres" else 3306)),
        "allocated_storage": int(props.get("AllocatedStorage", 20)),
        "max_allocated_storage": int(props["MaxAllocatedStorage"]) if "MaxAllocatedStorage" in props else None,
        "backup_retention_period": int(props.get("BackupRetentionPeriod", 1)),
        "auto_minor_version_upgrade": _bool(props.get("AutoMinorVersionUpgrade", True)),
        "db_name": props.get("DBName"),
        "db_subnet_group_name": name_of(props.get("DBSubnetGroupName")),
        "db_parameter_group_name": name_of(props.get("DBParameterGroupName")),
        "copy_tags_to_snapshot": _bool(props.get("CopyTagsToSnapshot", False)),
        "master_username": username,
        "master_user_password": password,
        "multi_az": _bool(props.get("MultiAZ", False)),
        "preferred_backup_window": props.get("PreferredBackupWindow", "13:14-13:44"),
        "preferred_maintenance_window": props.get("PreferredMaintenanceWindow", "wed:06:38-wed:07:08").lower(),
        "publicly_accessible": _bool(props.get("PubliclyAccessible", False)),
        "storage_type": props.get("StorageType"),
        "storage_encrypted": _bool(props.get("StorageEncrypted", False)),
        "kms_key_id": props.get("KmsKeyId"),
        "tags": _tags(props),
        "vpc_security_group_ids": props.get("VPCSecurityGroups", props.get("VpcSecurityGroupIds", [])),
        "deletion_protection": _bool(props.get("DeletionProtection", False)),
        "enable_cloudwatch_logs_exports": props.get("EnableCloudwatchLogsExports", []),
        "enable_iam_database_authentication": _bool(props.get("EnableIAMDatabaseAuthentication", False)),
        "availability_zone": props.get("AvailabilityZone"),
    }
    return rds_backends[account_id][region_name].create_db_instance(db_kwargs)


def _efs_attribute(self: Any, attribute_name: str) -> Any:
    """`Fn::GetAtt` of EFS file systems and access points (moto's models have none)."""
    attributes = {
        "Arn": getattr(self, "file_system_arn", None) or getattr(self, "access_point_arn", None),
        "FileSystemId": getattr(self, "file_system_id", None),
        "AccessPointId": getattr(self, "access_point_id", None),
    }
    if attributes.get(attribute_name) is None:
        raise ValidationError(message=f"EFS resource has no attribute {attribute_name}")
    return attributes[attribute_name]


def _create_load_balancer(
    cls: type[elbv2_models.FakeLoadBalancer],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> elbv2_models.FakeLoadBalancer:
    """A load balancer of the template's `Type` (moto's model makes every one an application load balancer)."""
    props = cloudformation_json["Properties"]
    return elbv2_models.elbv2_backends[account_id][region_name].create_load_balancer(
        name=props.get("Name", resource_name),
        security_groups=props.get("SecurityGroups", []),
        subnet_ids=props.get("Subnets", []),
        subnet_mappings=props.get("SubnetMappings"),
        scheme=props.get("Scheme", "internet-facing"),
        loadbalancer_type=props.get("Type", "application"),
        ip_address_type=props.get("IpAddressType", "ipv4"),
        tags=_tags(props),
    )


def _create_task_definition(
    cls: type[ecs_models.TaskDefinition],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> ecs_models.TaskDefinition:
    """A task definition with everything the template sets (moto's model keeps only containers, volumes, memory)."""
    props = cloudformation_json["Properties"]
    camel = ecs_models.remap_nested_keys
    return ecs_models.ecs_backends[account_id][region_name].register_task_definition(
        family=props.get("Family", resource_name),
        container_definitions=camel(props.get("ContainerDefinitions", []), ecs_models.pascal_to_camelcase),
        volumes=camel(props.get("Volumes", []), ecs_models.pascal_to_camelcase),
        network_mode=props.get("NetworkMode"),
        tags=[{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
        requires_compatibilities=props.get("RequiresCompatibilities"),
        cpu=props.get("Cpu"),
        memory=props.get("Memory"),
        task_role_arn=props.get("TaskRoleArn"),
        execution_role_arn=props.get("ExecutionRoleArn"),
        runtime_platform=camel(props["RuntimePlatform"], ecs_models.pascal_to_camelcase)
        if "RuntimePlatform" in props
        else None,
    )


_original_vpc_create = ec2_vpcs.VPC.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_vpc(
    cls: type[ec2_vpcs.VPC],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> ec2_vpcs.VPC:
    """moto's VPC with the `EnableDnsSupport` / `EnableDnsHostnames` the template sets."""
    vpc = _original_vpc_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    props = cloudformation_json["Properties"]
    for prop, attribute in (("EnableDnsSupport", "enable_dns_support"), ("EnableDnsHostnames", "enable_dns_hostnames")):
        if prop in props:
            vpc.ec2_backend.modify_vpc_attribute(vpc.id, attribute, _bool(props[prop]))
    return vpc


def _create_service(
    cls: type[ecs_models.Service],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> ecs_models.Service:
    """A service with its launch type, network configuration, load balancers and tags (moto's model drops them)."""
    props = cloudformation_json["Properties"]
    cluster, definition = props["Cluster"], props["TaskDefinition"]
    camel = ecs_models.remap_nested_keys
    network = props.get("NetworkConfiguration")
    return ecs_models.ecs_backends[account_id][region_name].create_service(
        cluster_str=getattr(cluster, "name", cluster),
        service_name=props.get("ServiceName", resource_name),
        desired_count=int(props.get("DesiredCount", 1)),
        task_definition_str=getattr(definition, "arn", definition),
        load_balancers=camel(props.get("LoadBalancers", []), ecs_models.pascal_to_camelcase),
        scheduling_strategy=props.get("SchedulingStrategy"),
        tags=[{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
        deployment_controller=camel(props["DeploymentController"], ecs_models.pascal_to_camelcase)
        if "DeploymentController" in props
        else None,
        launch_type=props.get("LaunchType"),
        platform_version=props.get("PlatformVersion"),
        propagate_tags=props.get("PropagateTags", "NONE"),
        network_configuration=camel(network, ecs_models.pascal_to_camelcase) if network else None,
        role_arn=props.get("Role"),
    )


_original_requirements = ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements


def _task_requirements(task_definition: ecs_models.TaskDefinition) -> dict[str, Any]:
    """Fargate sizes a task by its task-level cpu/memory; its containers need not state any (moto requires them)."""
    if "FARGATE" in (task_definition.requires_compatibilities or []):
        return {"CPU": int(task_definition.cpu), "MEMORY": int(task_definition.memory), "PORTS": [], "PORTS_UDP": []}
    return _original_requirements(task_definition)


_original_describe_services = ecs_models.EC2ContainerServiceBackend.describe_services


def _describe_services(
    self: ecs_models.EC2ContainerServiceBackend, cluster_str: str, service_names_or_arns: list[str]
) -> tuple[list[Any], list[dict[str, str]]]:
    """Running and pending counts from the service's RUNNING tasks, instead of a fixed number."""
    services, failures = _original_describe_services(self, cluster_str, service_names_or_arns)
    for service in services:
        tasks = self.tasks.get(service.cluster_name, {}).values()
        running = sum(1 for t in tasks if t.group == f"service:{service.name}" and t.last_status == "RUNNING")
        service.running_count = running
        service.pending_count = max(service.desired_count - running, 0)
        for deployment in service.deployments:
            deployment["runningCount"] = running
            deployment["pendingCount"] = service.pending_count
            complete = running >= service.desired_count
            deployment["rolloutState"] = "COMPLETED" if complete else "IN_PROGRESS"
    return services, failures


_original_stack_create_resources = cfn_models.Stack.create_resources


def _check_rules(stack: cfn_models.Stack) -> None:
    """Evaluate the template's `Rules` assertions of the form CDK emits; a failing one fails the stack."""
    resources = stack.resource_map
    for rule_name, rule in (stack.template_dict.get("Rules") or {}).items():
        for assertion in rule.get("Assertions", []):
            if not _evaluate(assertion["Assert"], resources):
                raise ValidationError(message=f"Rule {rule_name}: {assertion.get('AssertDescription', 'failed')}")


def _evaluate(condition: Any, resources: Any) -> Any:
    if isinstance(condition, dict) and len(condition) == 1:
        ((function, argument),) = condition.items()
        if function == "Fn::Not":
            return not _evaluate(argument[0], resources)
        if function == "Fn::Contains":
            values, value = (_evaluate(a, resources) for a in argument)
            return value in values
        if function == "Fn::Equals":
            left, right = (_evaluate(a, resources) for a in argument)
            return left == right
        if function in ("Fn::And", "Fn::Or"):
            results = [_evaluate(a, resources) for a in argument]
            return all(results) if function == "Fn::And" else any(results)
        return parsing.clean_json(condition, resources)
    if isinstance(condition, list):
        return [_evaluate(item, resources) for item in condition]
    return condition


def _create_resources(self: cfn_models.Stack) -> None:
    _check_rules(self)
    _original_stack_create_resources(self)


MODELS = (
    ElastiCacheSubnetGroup,
    ElastiCacheReplicationGroup,
    SecretsManagerSecret,
    SecretTargetAttachment,
    RotationSchedule,
    SecretResourcePolicy,
    ServerlessApplication,
    SubnetRouteTableAssociation,
    ScalableTarget,
    ScalingPolicy,
    ApiGatewayStage,
    ApiGatewayModel,
    ApiGatewayRequestValidator,
    ApiGatewayMethod,
    ApiGatewayAccount,
)


def apply() -> None:
    """Register the models above with moto's CloudFormation and apply the property fixes."""
    secrets_models.FakeSecret.to_dict = _secret_to_dict
    kinesis_models.Stream.create_from_cloudformation_json = classmethod(_create_stream)  # type: ignore[assignment]
    rds_models.DBInstance.create_from_cloudformation_json = classmethod(_create_db_instance)  # type: ignore[assignment]
    for efs_model in (efs_models.FileSystem, efs_models.AccessPoint):
        efs_model.get_cfn_attribute = _efs_attribute  # type: ignore[attr-defined]
        efs_model.has_cfn_attr = classmethod(lambda cls, attr: attr in ("Arn", "FileSystemId", "AccessPointId"))
    efs_models.AccessPoint.physical_resource_id = property(lambda self: self.access_point_id)  # type: ignore[attr-defined]
    elbv2_models.FakeLoadBalancer.create_from_cloudformation_json = classmethod(  # type: ignore[assignment]
        _create_load_balancer
    )
    ecs_models.TaskDefinition.create_from_cloudformation_json = classmethod(  # type: ignore[assignment]
        _create_task_definition
    )
    ec2_vpcs.VPC.create_from_cloudformation_json = classmethod(_create_vpc)  # type: ignore[assignment]
    ecs_models.Service.create_from_cloudformation_json = classmethod(_create_service)  # type: ignore[assignment]
    ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(_task_requirements)
    kms_models.Key.create_from_cloudformation_json = classmethod(_create_key)  # type: ignore[assignment]
    ecs_models.EC2ContainerServiceBackend.describe_services = _describe_services
    cfn_models.Stack.create_resources = _create_resources
    # moto maps types to models from CloudFormationModel's direct subclasses, once; ours come after (and win).
    moto_models = parsing.get_model_list()
    parsing.get_model_list = functools.lru_cache(lambda: [*moto_models, *MODELS])
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    registered = parsing.get_model_map()
    missing = [model.TYPE for model in MODELS if registered.get(model.TYPE) is not model]
    if missing:
        raise RuntimeError(f"moto did not register the models for {missing}")
