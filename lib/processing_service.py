"""Processing service: the ECS cluster and the two Fargate services built from services/processor.

Provisions an ECS cluster with Container Insights and one container image (built from `services/processor`) used
by two Fargate services in the private subnets without public IPs: `consume` (reads every shard of the stream and
writes PostgreSQL, Redis and EFS dead letters) and `serve` (HTTP on 8080 behind the internal NLB). Environment and
ECS secrets follow the container contract in ARCHITECTURE.md. Each task role holds only what its command needs,
deployments roll back through the circuit breaker, and both services scale automatically (consume on CPU and on
the stream's iterator age, serve on CPU).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from lib.cdk_enums import REMOVAL_POLICY, retention
from lib.compliance import acknowledge
from lib.security_groups import POSTGRES_PORT, SERVE_PORT
from platform_config import EnvironmentSettings

PROCESSOR_IMAGE_DIR = Path(__file__).resolve().parents[1] / "services" / "processor"
CONTAINER_NAME = "processor"
DATA_DIR = "/mnt/iot"
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
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        stream: kinesis.IStream,
        stream_key: kms.IKey,
        db_endpoint: str,
        db_secret: secretsmanager.ISecret,
        redis_endpoint: str,
        redis_port: str,
        redis_auth_token: secretsmanager.ISecret,
        file_system: efs.IFileSystem,
        access_point: efs.IAccessPoint,
    ) -> None:
        super().__init__(scope, construct_id)
        svc = settings.service
        self.cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        # Local build output (gitignored) must not change the asset hash between machines.
        image = ecs.ContainerImage.from_asset(
            str(PROCESSOR_IMAGE_DIR), exclude=["build", "*.egg-info", "**/__pycache__", ".pytest_cache"]
        )
        environment = {
            "AWS_REGION": Stack.of(self).region,
            "STREAM_NAME": stream.stream_name,
            "DB_HOST": db_endpoint,
            "DB_PORT": str(POSTGRES_PORT),
            "DB_NAME": settings.database.database_name,
            "DB_USER": settings.database.username,
            "REDIS_HOST": redis_endpoint,
            "REDIS_PORT": redis_port,
            "REDIS_TLS": "true",
        }
        secrets = {
            "DB_PASSWORD": ecs.Secret.from_secrets_manager(db_secret, "password"),
            "REDIS_AUTH_TOKEN": ecs.Secret.from_secrets_manager(redis_auth_token),
        }

        self.log_groups: dict[str, logs.LogGroup] = {}

        def task(name: str, command: str, extra_env: dict[str, str]) -> ecs.FargateTaskDefinition:
            log_group = self.log_groups[command] = logs.LogGroup(
                self,
                f"{name}Logs",
                retention=retention(settings.log_retention_days),
                removal_policy=REMOVAL_POLICY[settings.removal_policy],
            )
            definition = ecs.FargateTaskDefinition(
                self,
                f"{name}Task",
                cpu=svc.cpu,
                memory_limit_mib=svc.memory_mib,
                runtime_platform=ecs.RuntimePlatform(
                    cpu_architecture=ecs.CpuArchitecture.X86_64,
                    operating_system_family=ecs.OperatingSystemFamily.LINUX,
                ),
            )
            definition.add_container(
                CONTAINER_NAME,
                image=image,
                command=[command],
                environment={**environment, **extra_env},
                secrets=secrets,
                logging=ecs.LogDrivers.aws_logs(stream_prefix=command, log_group=log_group),
                port_mappings=[ecs.PortMapping(container_port=SERVE_PORT)] if command == "serve" else None,
                # The image's own check: serve answers /health/live, consume's loop touched its heartbeat recently.
                health_check=ecs.HealthCheck(
                    command=["CMD", "processor", "healthcheck"],
                    interval=Duration.seconds(30),
                    timeout=Duration.seconds(5),
                    retries=3,
                    start_period=Duration.seconds(60),
                ),
            )
            acknowledge(
                definition,
                "Only non-secret settings of the container contract (stream name, endpoints, ports, database and "
                "user names) are plain environment variables; DB_PASSWORD and REDIS_AUTH_TOKEN are ECS secrets "
                "resolved from Secrets Manager at task start.",
                "AwsSolutions-ECS2",
            )
            execution_role = definition.obtain_execution_role()
            acknowledge(
                execution_role,
                "ecr:GetAuthorizationToken cannot be scoped to a resource; the execution role's other permissions "
                "(image pull, log stream, the two secrets) are scoped to their ARNs.",
                "AwsSolutions-IAM5[Resource::*]",
            )
            return definition

        # consume: reads the stream (and decrypts it), writes dead letters to EFS through the access point.
        consume_task = task("Consume", "consume", {"DATA_DIR": DATA_DIR})
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
        consume_task.add_to_task_role_policy(
            iam.PolicyStatement(actions=list(STREAM_READ_ACTIONS), resources=[stream.stream_arn])
        )
        consume_task.add_to_task_role_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[stream_key.key_arn])
        )
        consume_task.add_to_task_role_policy(
            iam.PolicyStatement(
                actions=["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                resources=[file_system.file_system_arn],
                conditions={"StringEquals": {"elasticfilesystem:AccessPointArn": access_point.access_point_arn}},
            )
        )
        # serve: reads PostgreSQL and Redis over the network only; its task role has no permissions.
        serve_task = task("Serve", "serve", {"PORT": str(SERVE_PORT)})

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

        self.consume = service("ConsumeService", consume_task, svc.consume_min_tasks)
        self.serve = service("ServeService", serve_task, svc.serve_min_tasks)

        consume_scaling = self.consume.auto_scale_task_count(
            min_capacity=svc.consume_min_tasks, max_capacity=svc.consume_max_tasks
        )
        consume_scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=svc.cpu_target_percent)
        consume_scaling.scale_on_metric(
            "IteratorAge",
            metric=stream.metric_get_records_iterator_age_milliseconds(
                statistic=cloudwatch.Stats.MAXIMUM, period=Duration.minutes(1)
            ),
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            scaling_steps=[
                autoscaling.ScalingInterval(upper=svc.max_iterator_age_ms // 4, change=-1),
                autoscaling.ScalingInterval(lower=svc.max_iterator_age_ms, change=+1),
                autoscaling.ScalingInterval(lower=svc.max_iterator_age_ms * 5, change=+2),
            ],
            cooldown=Duration.minutes(3),
        )
        serve_scaling = self.serve.auto_scale_task_count(
            min_capacity=svc.serve_min_tasks, max_capacity=svc.serve_max_tasks
        )
        serve_scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=svc.cpu_target_percent)
