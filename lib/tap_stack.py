"""TapStack: one environment of the IoT sensor platform, wired from one construct per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack, StackProps
from constructs import Construct

from lib.api import Api
from lib.cache import Cache
from lib.database import Database
from lib.file_storage import FileStorage
from lib.ingestion import Ingestion
from lib.integration_test_role import IntegrationTestRole, TestedResources
from lib.monitoring import PlatformMonitoring
from lib.network import Network
from lib.outputs import Outputs
from lib.platform_logs import PlatformLogs
from lib.processing import ProcessingService
from lib.processing.tasks import DatabaseAccess
from lib.security_groups import POSTGRES_PORT, SecurityGroups
from platform_config import EnvironmentSettings

_STACK_PROPS = (
    "analytics_reporting",
    "cross_region_references",
    "description",
    "env",
    "notification_arns",
    "permissions_boundary",
    "property_injectors",
    "stack_name",
    "suppress_template_indentation",
    "synthesizer",
    "tags",
    "termination_protection",
)


class TapStackProps(StackProps):
    """Stack properties plus the environment's settings (`environment_suffix` names the environment)."""

    def __init__(
        self,
        *,
        environment_suffix: str = "dev",
        settings: EnvironmentSettings | None = None,
        integration_test_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.environment_suffix = environment_suffix
        self.settings = settings if settings is not None else EnvironmentSettings(name=environment_suffix)
        # The account whose integration-test runner may assume the integration-test role (the pipeline's); None: none.
        self.integration_test_account = integration_test_account

    def stack_kwargs(self) -> dict[str, Any]:
        """The plain StackProps given to this object, as keyword arguments for Stack."""
        return {name: getattr(self, name) for name in _STACK_PROPS if getattr(self, name) is not None}


class TapStack(Stack):
    """The platform of one environment: network, ingestion, database, cache, file storage, service, API, outputs."""

    def __init__(self, scope: Construct, construct_id: str, props: TapStackProps | None = None, **kwargs: Any) -> None:
        props = props if props is not None else TapStackProps()
        super().__init__(scope, construct_id, **{**props.stack_kwargs(), **kwargs})
        settings = props.settings
        self.environment_suffix = props.environment_suffix

        logs = PlatformLogs(self, "Logs", settings=settings)
        network = Network(self, "Network", settings=settings, logs=logs)
        groups = SecurityGroups(self, "SecurityGroups", vpc=network.vpc, endpoints=network.endpoint_security_group)
        ingestion = Ingestion(self, "Ingestion", settings=settings)
        database = Database(
            self,
            "Database",
            settings=settings,
            logs=logs,
            vpc=network.vpc,
            security_group=groups.database,
            rotation_security_group=groups.rotation,
        )
        cache = Cache(self, "Cache", settings=settings, vpc=network.vpc, security_group=groups.cache)
        storage = FileStorage(
            self, "FileStorage", settings=settings, vpc=network.vpc, security_group=groups.file_system
        )
        service = ProcessingService(
            self,
            "Processing",
            settings=settings,
            logs=logs,
            vpc=network.vpc,
            security_group=groups.service,
            stream=ingestion.stream,
            stream_key=ingestion.key,
            database=DatabaseAccess(
                host=database.instance.db_instance_endpoint_address,
                port=POSTGRES_PORT,
                name=settings.database.database_name,
                master_secret=database.secret,
                app_secret=database.app_secret,
            ),
            redis_endpoint=cache.endpoint_address,
            redis_port=cache.endpoint_port,
            redis_auth_token=cache.auth_token,
            file_system=storage.file_system,
            access_point=storage.access_point,
        )
        api = Api(
            self,
            "Api",
            settings=settings,
            logs=logs,
            vpc=network.vpc,
            load_balancer_security_group=groups.load_balancer,
            stream=ingestion.stream,
            stream_key=ingestion.key,
            serve=service.serve,
        )
        self.monitoring = PlatformMonitoring(
            self,
            "Monitoring",
            settings=settings,
            stream=ingestion.stream,
            consume=service.consume,
            serve=service.serve,
            database=database.instance,
            cache=cache.replication_group,
            rest_api=api.rest_api,
            api_stage=api.rest_api.deployment_stage.stage_name,
        )
        self.network, self.security_groups, self.ingestion = network, groups, ingestion
        self.database, self.cache, self.file_storage = database, cache, storage
        self.processing, self.api = service, api
        self.integration_test_role: IntegrationTestRole | None = None
        if props.integration_test_account:
            self.integration_test_role = IntegrationTestRole(
                self,
                "IntegrationTests",
                deployment=settings.name,
                pipeline_account=props.integration_test_account,
                suite=settings.integration_suite,
                resources=TestedResources(
                    stream=ingestion.stream,
                    stream_key=ingestion.key,
                    secrets=(database.app_secret, cache.auth_token),
                    rest_api=api.rest_api,
                    database=database.instance,
                    replication_group=cache.replication_group,
                    file_system=storage.file_system,
                    access_point=storage.access_point,
                    consume_log_group=service.log_groups["consume"],
                ),
            )
        Outputs(
            self,
            "Outputs",
            values={
                "VpcId": network.vpc.vpc_id,
                "StreamName": ingestion.stream.stream_name,
                "StreamArn": ingestion.stream.stream_arn,
                "StreamKeyArn": ingestion.key.key_arn,
                "DatabaseEndpoint": database.instance.db_instance_endpoint_address,
                "DatabasePort": database.instance.db_instance_endpoint_port,
                "DatabaseIdentifier": database.instance.instance_identifier,
                "DatabaseSecretArn": database.secret.secret_arn,
                "DatabaseAppSecretArn": database.app_secret.secret_arn,
                "DatabaseKeyArn": database.key.key_arn,
                "RedisEndpoint": cache.endpoint_address,
                "RedisPort": cache.endpoint_port,
                "RedisAuthTokenSecretArn": cache.auth_token.secret_arn,
                "CacheKeyArn": cache.key.key_arn,
                "FileSystemId": storage.file_system.file_system_id,
                "FileSystemAccessPointId": storage.access_point.access_point_id,
                "FileSystemKeyArn": storage.key.key_arn,
                "ClusterName": service.cluster.cluster_name,
                "ConsumeServiceName": service.consume.service_name,
                "ConsumeLogGroupName": service.log_groups["consume"].log_group_name,
                "ServeServiceName": service.serve.service_name,
                "LoadBalancerDnsName": api.load_balancer.load_balancer_dns_name,
                "ApiUrl": api.rest_api.url,
                "ApiId": api.rest_api.rest_api_id,
            },
        )
