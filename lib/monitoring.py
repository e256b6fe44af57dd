"""Monitoring: the platform dashboard of one environment, its alarms, and who hears about them.

Built with cdk-monitoring-constructs (one `MonitoringFacade`): Kinesis incoming records and iterator age, ECS CPU /
memory / running tasks per Fargate service, RDS CPU / connections / free storage, Redis CPU / memory / evictions per
node, API Gateway 4xx / 5xx / latency, and the processor's embedded metrics (namespace ``IotPlatform/Processor``,
dimension ``StreamName``: records processed / stored / duplicate / conflicting / invalid = dead letters, batch latency,
leases held; per shard: lag and read throttles; per service: database authentication failures, which a rotation that
went wrong causes). Alarms that mean
users are hurt are "Critical" and roll up into the ``iot-<env>-users-hurt`` composite alarm, which the pipeline's
health conditions watch (staging's bake, prod's rollback: pipeline/conditions.py); "Warning" alarms only notify. Every
alarm notifies an encrypted SNS topic with the environment's ``monitoring.alarm_emails``.
"""

from __future__ import annotations

from aws_cdk import Duration, Fn
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk.aws_apigateway import IRestApi
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    CustomMetricGroup,
    CustomMetricWithAlarm,
    CustomThreshold,
    DefaultDashboardFactory,
    ElastiCacheClusterType,
    ErrorRateThreshold,
    LatencyThreshold,
    MaxIteratorAgeThreshold,
    MinUsageCountThreshold,
    MonitoringFacade,
    SnsAlarmActionStrategy,
    UsageThreshold,
)
from constructs import Construct

from lib.keys import customer_managed_key
from platform_config import EnvironmentSettings, contract
from platform_config.alarms import METRIC_DIMENSION, METRIC_NAMESPACE, alarm_prefix, users_hurt_alarm_name

CRITICAL = "Critical"  # users are hurt: part of the users-hurt composite (bake and rollback conditions)
WARNING = "Warning"  # needs attention, users not (yet) affected
GIB = 1024**3


class PlatformMonitoring(Construct):
    """Dashboard, alarms and alarm topic of one environment (cdk-monitoring-constructs)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        stream: kinesis.IStream,
        consume: ecs.FargateService,
        serve: ecs.FargateService,
        database: rds.IDatabaseInstance,
        cache: elasticache.CfnReplicationGroup,
        rest_api: IRestApi,
        api_stage: str,
    ) -> None:
        super().__init__(scope, construct_id)
        mon, svc = settings.monitoring, settings.service
        key = customer_managed_key(self, "TopicKey", purpose="IoT platform alarm notifications", settings=settings)
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self, "AlarmTopic", display_name=f"IoT platform alarms ({settings.name})", master_key=key, enforce_ssl=True
        )
        for email in mon.alarm_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        prefix = alarm_prefix(settings.name)
        self.facade = MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=AlarmFactoryDefaults(
                alarm_name_prefix=prefix,
                actions_enabled=True,
                action=SnsAlarmActionStrategy(on_alarm_topic=self.topic, on_ok_topic=self.topic),
                datapoints_to_alarm=3,
                evaluation_periods=5,
            ),
            dashboard_factory=DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=f"iot-platform-{settings.name}",
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
                detail_dashboard_range=Duration.hours(6),
            ),
        )
        facade = self.facade
        facade.add_large_header(f"IoT sensor platform ({settings.name})")
        facade.monitor_kinesis_data_stream(
            stream_name=stream.stream_name,
            alarm_friendly_name="Stream",
            human_readable_name="Readings stream (Kinesis)",
            add_iterator_max_age_alarm={CRITICAL: MaxIteratorAgeThreshold(max_age_in_millis=mon.iterator_age_alarm_ms)},
        )
        for name, service, low, high in (
            ("Consume", consume, svc.consume_min_tasks, svc.consume_max_tasks),
            ("Serve", serve, svc.serve_min_tasks, svc.serve_max_tasks),
        ):
            facade.monitor_simple_fargate_service(
                fargate_service=service,
                alarm_friendly_name=name,
                human_readable_name=f"Processor {name.lower()} (ECS Fargate)",
                min_auto_scaling_task_count=low,
                max_auto_scaling_task_count=high,
                add_memory_usage_alarm={WARNING: UsageThreshold(max_usage_percent=90)},
            )
        facade.monitor_rds_instance(
            instance=database,
            alarm_friendly_name="Database",
            human_readable_name="PostgreSQL (RDS)",
            add_cpu_usage_alarm={WARNING: UsageThreshold(max_usage_percent=90)},
            add_free_storage_space_alarm={
                CRITICAL: MinUsageCountThreshold(min_count=mon.db_min_free_storage_gib * GIB)
            },
        )
        for member in range(1, settings.cache.num_cache_clusters + 1):
            facade.monitor_elasti_cache_cluster(
                cluster_type=ElastiCacheClusterType.REDIS,
                cluster_id=Fn.join("-", [cache.ref, f"{member:03d}"]),
                alarm_friendly_name=f"Cache{member:03d}",
                human_readable_name=f"Redis node {member:03d} (ElastiCache)",
                add_redis_engine_cpu_usage_alarm={WARNING: UsageThreshold(max_usage_percent=90)},
            )
        facade.monitor_api_gateway(
            api=rest_api,
            api_stage=api_stage,
            alarm_friendly_name="Api",
            human_readable_name="REST API (API Gateway)",
            add5_xx_fault_rate_alarm={CRITICAL: ErrorRateThreshold(max_error_rate=mon.api_5xx_percent / 100)},
            add_latency_p99_alarm={CRITICAL: LatencyThreshold(max_latency=Duration.millis(mon.api_p99_latency_ms))},
        )

        def processor(
            metric: str, statistic: str, label: str, minutes: int = 5, dimensions: dict[str, str] | None = None
        ) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRIC_NAMESPACE,
                metric_name=metric,
                dimensions_map=dimensions or {METRIC_DIMENSION: stream.stream_name},
                statistic=statistic,
                period=Duration.minutes(minutes),
                label=label,
            )

        def per_shard(metric: str, statistic: str) -> cloudwatch.MathExpression:
            # One line per shard, whatever shards the stream has now (a reshard adds and closes some): a search.
            dimensions = f"{{{METRIC_NAMESPACE},ShardId,{METRIC_DIMENSION}}}"
            query = f'{dimensions} MetricName="{metric}" {METRIC_DIMENSION}="{stream.stream_name}"'
            return cloudwatch.MathExpression(
                expression=f"SEARCH('{query}', '{statistic}', 300)", period=Duration.minutes(5), label=metric
            )

        facade.monitor_custom(
            alarm_friendly_name="Processor",
            human_readable_name="Sensor processor (embedded metrics)",
            metric_groups=[
                CustomMetricGroup(
                    title="Records per 5 minutes",
                    metrics=[
                        processor("RecordsProcessed", "Sum", "processed"),
                        processor("RecordsStored", "Sum", "stored"),
                    ],
                ),
                CustomMetricGroup(
                    title="Dead letters (invalid records) per 5 minutes",
                    metrics=[
                        CustomMetricWithAlarm(
                            metric=processor("RecordsInvalid", "Sum", "dead letters"),
                            alarm_friendly_name="DeadLetters",
                            add_alarm={
                                WARNING: CustomThreshold(
                                    threshold=mon.dead_letters_per_5_minutes,
                                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                                )
                            },
                        )
                    ],
                ),
                CustomMetricGroup(
                    title="Duplicates and conflicting readings per 5 minutes",
                    metrics=[
                        processor("RecordsDuplicate", "Sum", "duplicates (producer retries)"),
                        processor("RecordsConflicting", "Sum", "conflicting (dead-lettered)"),
                    ],
                ),
                CustomMetricGroup(
                    title="Batch latency and lag per shard (ms)",
                    metrics=[
                        processor("BatchLatency", "p99", "batch latency p99"),
                        per_shard("MillisBehindLatest", "Maximum"),
                    ],
                ),
                CustomMetricGroup(
                    title="Shards held and read throttles",
                    metrics=[
                        processor("LeasesHeld", "Sum", "shards held (all tasks)", minutes=1),
                        per_shard("ReadThrottles", "Sum"),
                    ],
                ),
                CustomMetricGroup(
                    title="Database authentication failures (the secret does not log in even after a re-read)",
                    metrics=[
                        CustomMetricWithAlarm(
                            metric=processor(
                                "DatabaseAuthFailures",
                                "Sum",
                                command,
                                dimensions={METRIC_DIMENSION: stream.stream_name, "Service": command},
                            ),
                            alarm_friendly_name=f"DatabaseAuth{command.capitalize()}",
                            add_alarm={
                                WARNING: CustomThreshold(
                                    threshold=0,
                                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                                )
                            },
                        )
                        for command in (contract.CONSUME, contract.SERVE)
                    ],
                ),
            ],
        )
        self.users_hurt = facade.create_composite_alarm_using_disambiguator(
            CRITICAL,
            disambiguator=CRITICAL,
            alarm_name_override=users_hurt_alarm_name(settings.name),
            alarm_description=f"Users of {settings.name} are hurt: errors, latency, stale readings or a full database.",
        )
