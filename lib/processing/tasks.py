"""Task definitions of the processor image, per the container contract (platform_config.contract).

Every task runs the image's `db-setup` first (an init container: ECS starts the command only once it exited 0), which
creates the application's database user on a new database and applies the schema, as the master user. The master
secret reaches that container alone, through the execution role; the command itself gets the application secret's ARN
and reads the rotating credentials with its task role.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from lib.compliance import acknowledge
from platform_config import EnvironmentSettings
from platform_config import contract as env

CONTAINER_NAME = "processor"
SETUP_CONTAINER_NAME = "db-setup"


@dataclass(frozen=True)
class DatabaseAccess:
    """Where the database is and the two secrets: the master's (db-setup only) and the application's."""

    host: str
    port: int
    name: str
    master_secret: secretsmanager.ISecret
    app_secret: secretsmanager.ISecret


def processor_task(
    scope: Construct,
    name: str,
    *,
    command: str,
    image: ecs.ContainerImage,
    settings: EnvironmentSettings,
    database: DatabaseAccess,
    environment: dict[str, str],
    secrets: dict[str, ecs.Secret],
    log_group: logs.ILogGroup,
    port: int | None = None,
) -> ecs.FargateTaskDefinition:
    """A task of ``command`` with its db-setup init container; ``environment`` and ``secrets`` are the command's."""
    definition = ecs.FargateTaskDefinition(
        scope,
        f"{name}Task",
        cpu=settings.service.cpu,
        memory_limit_mib=settings.service.memory_mib,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=ecs.CpuArchitecture.X86_64, operating_system_family=ecs.OperatingSystemFamily.LINUX
        ),
    )
    location = {env.DB_HOST: database.host, env.DB_PORT: str(database.port), env.DB_NAME: database.name}
    container = definition.add_container(
        CONTAINER_NAME,
        image=image,
        command=[command],
        environment={**environment, **location, env.DB_SECRET_ARN: database.app_secret.secret_arn},
        secrets=secrets,
        logging=ecs.LogDrivers.aws_logs(stream_prefix=command, log_group=log_group),
        port_mappings=[ecs.PortMapping(container_port=port)] if port else None,
        # The image's own check: serve answers /health/live, consume's loop touched its heartbeat recently.
        health_check=ecs.HealthCheck(
            command=["CMD", "processor", env.HEALTHCHECK],
            interval=Duration.seconds(30),
            timeout=Duration.seconds(5),
            retries=3,
            start_period=Duration.seconds(60),
        ),
    )
    setup = definition.add_container(
        SETUP_CONTAINER_NAME,
        image=image,
        command=[env.DB_SETUP],
        essential=False,
        environment={env.AWS_REGION: environment[env.AWS_REGION], **location},
        secrets={
            env.DB_ADMIN_SECRET: ecs.Secret.from_secrets_manager(database.master_secret),
            env.DB_APP_SECRET: ecs.Secret.from_secrets_manager(database.app_secret),
        },
        logging=ecs.LogDrivers.aws_logs(stream_prefix=env.DB_SETUP, log_group=log_group),
    )
    container.add_container_dependencies(
        ecs.ContainerDependency(container=setup, condition=ecs.ContainerDependencyCondition.SUCCESS)
    )
    database.app_secret.grant_read(definition.task_role)
    acknowledge(
        definition,
        "Only non-secret settings of the container contract (stream name, endpoints, ports, database name, the "
        "application secret's ARN) are plain environment variables; REDIS_AUTH_TOKEN and db-setup's two secrets are "
        "ECS secrets resolved from Secrets Manager at task start.",
        "AwsSolutions-ECS2",
    )
    acknowledge(
        definition.obtain_execution_role(),
        "ecr:GetAuthorizationToken cannot be scoped to a resource; the execution role's other permissions "
        "(image pull, log stream, the task's secrets) are scoped to their ARNs.",
        "AwsSolutions-IAM5[Resource::*]",
    )
    return definition
