"""Processing service: the ECS cluster and the two Fargate services built from services/processor.

One image (built from `services/processor`) runs as two Fargate services in the private subnets without public IPs:
`consume` (reads every shard of the stream and writes PostgreSQL, Redis and EFS dead letters) and `serve` (HTTP behind
the internal NLB). Each task role holds only what its command needs, deployments roll back through the circuit
breaker, and both services scale automatically (scaling.py).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from lib.platform_logs import PlatformLogs
from lib.processing.scaling import scale_consume, scale_serve
from lib.processing.tasks import DatabaseAccess, processor_task
from lib.security_groups import SERVE_PORT
from platform_config import EnvironmentSettings
from platform_config import contract as env

PROCESSOR_IMAGE_DIR = Path(__file__).resolve().parents[2] / "services" / "processor"
DATA_DIR = env.DEFAULT_DATA_DIR
STREAM_READ_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)


class ProcessingService(Construct):
    """ECS cluster plus the `consume` and `serve` Fargate services of the sensor processor."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        logs: PlatformLogs,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        stream: kinesis.IStream,
        stream_key: kms.IKey,
        database: DatabaseAccess,
        redis_endpoint: str,
        redis_port: str,
        redis_auth_token: secretsmanager.ISecret,
        file_system: efs.IFileSystem,
        access_point: efs.IAccessPoint,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        # Local build output (gitignored) must not change the asset hash between machines.
        image = ecs.ContainerImage.from_asset(
            str(PROCESSOR_IMAGE_DIR), exclude=["build", "*.egg-info", "**/__pycache__", ".pytest_cache"]
        )
        environment = {
            env.AWS_REGION: Stack.of(self).region,
            env.STREAM_NAME: stream.stream_name,
            env.REDIS_HOST: redis_endpoint,
            env.REDIS_PORT: redis_port,
            env.REDIS_TLS: "true",
        }
        secrets = {env.REDIS_AUTH_TOKEN: ecs.Secret.from_secrets_manager(redis_auth_token)}
        self.log_groups: dict[str, logs.LogGroup] = {
            env.CONSUME: logs.group(self, "ConsumeLogs"),
            env.SERVE: logs.group(self, "ServeLogs"),
        }

        def task(name: str, command: str, extra: dict[str, str], port: int | None = None) -> ecs.FargateTaskDefinition:
            return processor_task(
                self, name, command=command, image=image, settings=settings, database=database,
                environment={**environment, **extra}, secrets=secrets, log_group=self.log_groups[command], port=port,
            )  # fmt: skip

        # consume: reads the stream (and decrypts it), writes dead letters to EFS through the access point.
        consume_task = task("Consume", env.CONSUME, {env.DATA_DIR: DATA_DIR})
        consume_task.add_volume(
            name="data",
            efs_volume_configuration=ecs.EfsVolumeConfiguration(
                file_system_id=file_system.file_system_id,
                transit_encryption="ENABLED",
                authorization_config=ecs.AuthorizationConfig(
                    access_point_id=access_point.access_point_id, iam="ENABLED"
                ),
            ),
        )
        container = consume_task.default_container
        assert container is not None
        container.add_mount_points(ecs.MountPoint(source_volume="data", container_path=DATA_DIR, read_only=False))
        for statement in (
            iam.PolicyStatement(actions=list(STREAM_READ_ACTIONS), resources=[stream.stream_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[stream_key.key_arn]),
            iam.PolicyStatement(
                actions=["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                resources=[file_system.file_system_arn],
                conditions={"StringEquals": {"elasticfilesystem:AccessPointArn": access_point.access_point_arn}},
            ),
        ):
            consume_task.add_to_task_role_policy(statement)
        # serve: reads PostgreSQL (with the application secret) and Redis over the network.
        serve_task = task("Serve", env.SERVE, {env.PORT: str(SERVE_PORT)}, port=SERVE_PORT)

        def service(name: str, definition: ecs.FargateTaskDefinition, min_tasks: int) -> ecs.FargateService:
            return ecs.FargateService(
                self,
                name,
                cluster=self.cluster,
                task_definition=definition,
                desired_count=min_tasks,
                security_groups=[security_group],
                vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                assign_public_ip=False,
                circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
                min_healthy_percent=100,
                max_healthy_percent=200,
            )

        self.consume = service("ConsumeService", consume_task, settings.service.consume_min_tasks)
        self.serve = service("ServeService", serve_task, settings.service.serve_min_tasks)
        scale_consume(self.consume, settings.service, stream)
        scale_serve(self.serve, settings.service)
