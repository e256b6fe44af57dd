"""IntegrationTestRole: the role the pipeline's post-deployment step assumes to run the integration suite.

Trusted by the pipeline (tooling) account only, it holds what tests/integration needs and nothing else: read-only
describes of every part, the two secrets' values (to check their contents), the consumer's log (where it reports
each dead letter), and the writes the data test makes (PutRecord on the readings stream with its key, and invoking
the platform's API).
"""

from __future__ import annotations

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

# Read-only describes of control-plane state that hold no data; the data services' describes are scoped below.
DESCRIBE_ACTIONS = (
    "apigateway:GET",
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "cloudformation:DescribeStacks",
    "ec2:DescribeRouteTables",
    "ecs:DescribeClusters",
    "ecs:DescribeServices",
)


def integration_role_name(environment: str) -> str:
    """The role's fixed name, so that the pipeline can name its ARN without a cross-account reference."""
    return f"iot-platform-{environment}-integration-tests"


class IntegrationTestRole(Construct):
    """Role for the post-deployment integration tests, assumable from the pipeline account."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: str,
        trusted_account: str,
        stream: kinesis.IStream,
        stream_key: kms.IKey,
        secrets: list[secretsmanager.ISecret],
        rest_api: apigw.RestApi,
        database: rds.DatabaseInstance,
        replication_group: elasticache.CfnReplicationGroup,
        file_system: efs.IFileSystem,
        access_point: efs.IAccessPoint,
        consume_log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            role_name=integration_role_name(environment),
            assumed_by=iam.AccountPrincipal(trusted_account),
            description=f"Post-deployment integration tests of the IoT platform ({environment})",
        )
        stack = Stack.of(self)
        self.role.add_to_policy(iam.PolicyStatement(actions=list(DESCRIBE_ACTIONS), resources=["*"]))
        statements = {
            # The stream: describe it, and the data test's round trip (put, then read it back).
            (
                "kinesis:DescribeStreamSummary",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:PutRecord",
            ): [stream.stream_arn],
            ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:GetKeyRotationStatus"): [stream_key.key_arn],
            ("rds:DescribeDBInstances",): [database.instance_arn],
            ("elasticache:DescribeReplicationGroups",): [
                stack.format_arn(
                    service="elasticache",
                    resource="replicationgroup",
                    resource_name=replication_group.ref,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            (
                "elasticfilesystem:DescribeAccessPoints",
                "elasticfilesystem:DescribeFileSystems",
                "elasticfilesystem:DescribeMountTargets",
            ): [file_system.file_system_arn, access_point.access_point_arn],
            ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"): [s.secret_arn for s in secrets],
            # The dead-letter test reads the consumer's report of the record it dead-lettered.
            ("logs:FilterLogEvents",): [consume_log_group.log_group_arn],
        }
        for actions, resources in statements.items():
            self.role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=resources))
        stage = rest_api.deployment_stage
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
        acknowledge(
            self.role,
            "The integration tests describe control-plane state that holds no data (API definition, autoscaling "
            "targets, stack outputs, route tables, ECS cluster and services), read-only and named only at run time "
            "from the stack's outputs; every data service's read and write is scoped to this stack's resources.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        self.role_arn = stack.format_arn(
            service="iam", region="", resource="role", resource_name=integration_role_name(environment)
        )
