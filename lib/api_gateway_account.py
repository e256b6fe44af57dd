"""API Gateway's account-level setting: the role it writes execution and access logs with, one per account and region.

`AWS::ApiGateway::Account` is a singleton of the account and region, not of an environment: when every environment
shares one account, per-environment copies would fight over it and deleting one environment would remove the role the
others log with. So it lives in a stack of its own per account and region (held by the first deployment there in
promotion order, stages/platform_stage.py), deployed before any environment there and removed with none of them.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct

from lib.compliance import acknowledge

PUSH_TO_LOGS = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


class ApiGatewayAccountStack(Stack):
    """The logging role and the account setting that points API Gateway at it."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(PUSH_TO_LOGS)],
            description="API Gateway writes the execution and access logs of every API of this account and region",
        )
        role.apply_removal_policy(RemovalPolicy.RETAIN)  # the account setting may outlive this stack
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge(
            role,
            "API Gateway's account-level logging role must carry AmazonAPIGatewayPushToCloudWatchLogs; it is the "
            "service-owned policy API Gateway documents for writing execution and access logs.",
            f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{PUSH_TO_LOGS}]",
        )
