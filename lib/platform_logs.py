"""Log groups that carry platform data (flow logs, database exports, both services, API access logs), encrypted with
a customer-managed key of their own, with the environment's retention and removal policy."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from lib.cdk_enums import REMOVAL_POLICY, retention
from lib.keys import customer_managed_key
from platform_config import EnvironmentSettings


class PlatformLogs(Construct):
    """The logs key, and `group()`, which makes every log group of the platform (in its caller's scope)."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.key = customer_managed_key(self, "Key", purpose="CloudWatch Logs of the IoT platform", settings=settings)
        stack = Stack.of(self)
        # CloudWatch Logs encrypts with the key for this account's and region's log groups only.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

    def group(
        self, scope: Construct, construct_id: str, *, name: str | None = None, retention_days: int | None = None
    ) -> logs.LogGroup:
        return logs.LogGroup(
            scope,
            construct_id,
            log_group_name=name,
            encryption_key=self.key,
            retention=retention(retention_days or self.settings.log_retention_days),
            removal_policy=REMOVAL_POLICY[self.settings.removal_policy],
        )
