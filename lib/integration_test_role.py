"""IntegrationTestRole: the role the pipeline's post-deployment step assumes to run tests/integration.

Only the pipeline's own integration-test CodeBuild role may assume it (its fixed ARN in the pipeline's account, checked
with `aws:PrincipalArn`), never any other principal of that account. What it may do follows the environment's suite:
- "smoke" (prod): read-only describes of every part, and no secret value, no write;
- "full": also the data test's writes (PutRecord on the readings stream, invoking the API), reading records back,
  the consumer's dead-letter reports in its log, and the values of the application and Redis secrets (to check them).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from lib.compliance import acknowledge
from platform_config.naming import integration_role_name, integration_runner_role_name, role_arn

# Read-only describes of control-plane state that hold no data; the data services' describes are scoped below.
DESCRIBE_ACTIONS = (
    "apigateway:GET",
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "cloudformation:DescribeStacks",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ecs:DescribeClusters",
    "ecs:DescribeServices",
    "logs:DescribeLogGroups",
)


@dataclass(frozen=True)
class TestedResources:
    """What the suite checks, by the stack's own resources."""

    stream: kinesis.IStream
    stream_key: kms.IKey
    secrets: tuple[secretsmanager.ISecret, ...]
    rest_api: apigw.RestApi
    database: rds.DatabaseInstance
    replication_group: elasticache.CfnReplicationGroup
    file_system: efs.IFileSystem
    access_point: efs.IAccessPoint
    consume_log_group: logs.ILogGroup


class IntegrationTestRole(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: str,
        pipeline_account: str,
        suite: str,
        resources: TestedResources,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        runner = role_arn(pipeline_account, integration_runner_role_name(deployment), stack.partition)
        self.role = iam.Role(
            self,
            "Role",
            role_name=integration_role_name(deployment),
            assumed_by=iam.AccountPrincipal(pipeline_account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": runner}}
            ),
            description=f"Post-deployment integration tests of the IoT platform ({deployment}, {suite} suite)",
        )
        r = resources
        self.role.add_to_policy(iam.PolicyStatement(actions=list(DESCRIBE_ACTIONS), resources=["*"]))
        replication_group_arn = stack.format_arn(
            service="elasticache",
            resource="replicationgroup",
            resource_name=r.replication_group.ref,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        grants: dict[tuple[str, ...], list[str]] = {
            ("kinesis:DescribeStreamSummary",): [r.stream.stream_arn],
            ("kms:DescribeKey", "kms:GetKeyRotationStatus"): [r.stream_key.key_arn],
            ("rds:DescribeDBInstances",): [r.database.instance_arn],
            ("elasticache:DescribeReplicationGroups",): [replication_group_arn],
            (
                "elasticfilesystem:DescribeAccessPoints",
                "elasticfilesystem:DescribeFileSystems",
                "elasticfilesystem:DescribeMountTargets",
            ): [r.file_system.file_system_arn, r.access_point.access_point_arn],
            ("secretsmanager:DescribeSecret",): [s.secret_arn for s in r.secrets],
        }
        if suite == "full":
            grants |= {
                ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:PutRecord"): [r.stream.stream_arn],
                ("kms:Decrypt", "kms:GenerateDataKey"): [r.stream_key.key_arn],
                # The dead-letter test reads the consumer's report of the record it dead-lettered.
                ("logs:FilterLogEvents",): [r.consume_log_group.log_group_arn],
            }
        for actions, arns in grants.items():
            self.role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=arns))
        if suite == "full":
            for secret in r.secrets:
                secret.grant_read(self.role)  # the value (and its key's decrypt), to check the secrets' contents
            self._allow_api_calls(r.rest_api)
        acknowledge(
            self.role,
            "The integration tests describe control-plane state that holds no data (API definition, autoscaling "
            "targets, stack outputs, route tables, security groups, log groups' settings, ECS cluster and services), "
            "read-only and named only at run time from the stack's outputs; every data service's read and write is "
            "scoped to this stack's resources.",
            "AwsSolutions-IAM5[Resource::*]",
        )

    def _allow_api_calls(self, rest_api: apigw.RestApi) -> None:
        stack, stage = Stack.of(self), rest_api.deployment_stage
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["execute-api:Invoke"],
                resources=[rest_api.arn_for_execute_api(method="*", path="/*", stage=stage.stage_name)],
            )
        )
        api_id = stack.get_logical_id(rest_api.node.default_child)  # type: ignore[arg-type]
        stage_id = stack.get_logical_id(stage.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            self.role,
            "The data test calls every route of this API's deployed stage (POST /readings, GET /sensors/{id}/...) "
            "with sensor ids made up at run time: execute-api:Invoke is scoped to this API and stage only.",
            f"AwsSolutions-IAM5[Resource::arn:aws:execute-api:{stack.region}:{stack.account}:<{api_id}>/<{stage_id}>/*/*]",
        )
