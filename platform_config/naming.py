"""Naming rules that several parts must agree on: a deployment's stage id and stack name, and the roles the
pipeline assumes in an environment's account (which it names by ARN, with no cross-account reference)."""

from __future__ import annotations

PLATFORM_STACK_ID = "Platform"  # the id of TapStack inside its stage
# One per account and region, whatever environments deploy there: API Gateway's logging role and account setting.
ACCOUNT_SETTINGS_STACK = "IotPlatformAccountSettings"
BOOTSTRAP_QUALIFIER = "hnb659fds"  # `cdk bootstrap`'s default qualifier


def stage_id(deployment: str) -> str:
    """The stage (and pipeline wave) id of a deployment: dev -> Dev, prod-eu-west-1 -> Prod-eu-west-1."""
    return deployment[:1].upper() + deployment[1:]


def stack_name(deployment: str) -> str:
    """The CloudFormation stack name of a deployment's platform: Dev-Platform, Prod-eu-west-1-Platform."""
    return f"{stage_id(deployment)}-{PLATFORM_STACK_ID}"


def resource_prefix(deployment: str) -> str:
    """Prefix of the platform's named resources in one deployment (database identifier, alarms)."""
    return f"iot-{deployment}"


def integration_role_name(deployment: str) -> str:
    """The integration-test role's fixed name in the deployment's account."""
    return f"iot-platform-{deployment}-integration-tests"


def role_arn(account: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def bootstrap_role_arn(kind: str, account: str, region: str, partition: str = "aws") -> str:
    """A CDK bootstrap role of an environment account (kind: lookup, deploy, file-publishing, image-publishing)."""
    return role_arn(account, f"cdk-{BOOTSTRAP_QUALIFIER}-{kind}-role-{account}-{region}", partition)


def database_identifier(deployment: str) -> str:
    """The RDS instance identifier of a deployment's database."""
    return f"{resource_prefix(deployment)}-postgres"


def integration_runner_role_name(deployment: str) -> str:
    """The pipeline's integration-test CodeBuild role (in the pipeline's account): the one principal the deployment's
    integration-test role trusts."""
    return f"iot-platform-{deployment}-integration-runner"
