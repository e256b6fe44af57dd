"""Pipeline dashboard: executions succeeded / failed and their duration, failures per stage, the duration of the
synth, pre-flight and integration-test steps, the time since the last prod deployment, and drift per deployment.

CodePipeline's own events (execution and stage state changes) go through an EventBridge rule into a log group;
metric filters turn them into metrics (namespace ``IotPlatform/Pipeline``). Widgets come from cdk-monitoring-constructs
(`monitor_custom` for the event metrics, `monitor_code_build_project` for step durations) except two it has no widget
for: execution duration (a Logs Insights query over the events, since no CloudWatch metric carries it) and the
hours since the last prod deployment (a single-value metric-math widget).
"""

from __future__ import annotations

import jsii
from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from cdk_monitoring_constructs import CustomMetricGroup, DefaultDashboardFactory, MonitoringFacade
from constructs import Construct

from platform_config.alarms import PIPELINE_METRIC_NAMESPACE

EVENTS_LOG_GROUP = "/aws/events/iot-sensor-platform-pipeline"  # EventBridge log targets must be under /aws/events/
EXECUTION_EVENT = "CodePipeline Pipeline Execution State Change"
STAGE_EVENT = "CodePipeline Stage Execution State Change"
# Hours from the last Prod success to each period's end: EPOCH of a gap-free series minus the last deploy's time.
HOURS_SINCE_PROD = "(EPOCH(FILL(deploys, 0)) - FILL(EPOCH(deploys), REPEAT)) / 3600"
EXECUTION_DURATION_QUERY = (
    f"filter `detail-type` = '{EXECUTION_EVENT}'\n"
    "| stats (max(@timestamp) - min(@timestamp)) / 60000 as minutes, latest(detail.state) as state "
    "by `detail.execution-id`\n"
    "| sort minutes desc\n"
    "| limit 50"
)


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """EventBridge target: a log group by ARN (its resource policy is created beside it)."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def bind(self, _rule: events.IRule, _id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self.arn)


class PipelineMonitoring(Construct):
    """Events log + metric filters + the pipeline dashboard (cdk-monitoring-constructs)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline: codepipeline.IPipeline,
        stage_names: list[str],
        prod_stage: str,
        projects: dict[str, codebuild.IProject],
        drift: dict[str, cloudwatch.IMetric],
    ) -> None:
        super().__init__(scope, construct_id)
        self.events_log = logs.LogGroup(
            self,
            "Events",
            log_group_name=EVENTS_LOG_GROUP,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        events_log_arn = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=EVENTS_LOG_GROUP,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # A native resource policy lets EventBridge write the events (the L2 target would add a Lambda for it).
        logs.ResourcePolicy(
            self,
            "EventsDelivery",
            policy_statements=[
                iam.PolicyStatement(
                    principals=[
                        iam.ServicePrincipal("events.amazonaws.com"),
                        iam.ServicePrincipal("delivery.logs.amazonaws.com"),
                    ],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[f"{events_log_arn}:*"],
                )
            ],
        )
        events.Rule(
            self,
            "StateChanges",
            description="CodePipeline execution and stage state changes of the IoT platform pipeline",
            event_pattern=events.EventPattern(
                source=["aws.codepipeline"],
                detail_type=[EXECUTION_EVENT, STAGE_EVENT],
                detail={"pipeline": [pipeline.pipeline_name]},
            ),
            targets=[_LogGroupTarget(events_log_arn)],
        )

        def counter(name: str, event: str, state: str, stage: str | None = None, dimension: bool = False) -> None:
            conditions = [
                logs.FilterPattern.string_value("$.detail-type", "=", event),
                logs.FilterPattern.string_value("$.detail.state", "=", state),
            ]
            if stage is not None:
                conditions.append(logs.FilterPattern.string_value("$.detail.stage", "=", stage))
            logs.MetricFilter(
                self,
                f"{name}Filter",
                log_group=self.events_log,
                filter_pattern=logs.FilterPattern.all(*conditions),
                metric_namespace=PIPELINE_METRIC_NAMESPACE,
                metric_name=name,
                metric_value="1",
                dimensions={"Stage": "$.detail.stage"} if dimension else None,
            )

        counter("ExecutionsSucceeded", EXECUTION_EVENT, "SUCCEEDED")
        counter("ExecutionsFailed", EXECUTION_EVENT, "FAILED")
        counter("StageFailures", STAGE_EVENT, "FAILED", dimension=True)
        counter("ProdDeployments", STAGE_EVENT, "SUCCEEDED", stage=prod_stage)

        def metric(name: str, label: str, **dimensions: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=PIPELINE_METRIC_NAMESPACE,
                metric_name=name,
                dimensions_map=dimensions or None,
                statistic="Sum",
                period=Duration.hours(1),
                label=label,
            )

        self.facade = MonitoringFacade(
            self,
            "Facade",
            dashboard_factory=DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix="iot-pipeline",
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
                detail_dashboard_range=Duration.days(14),
            ),
        )
        facade = self.facade
        facade.add_large_header("IoT sensor platform pipeline")
        facade.add_widget(
            cloudwatch.SingleValueWidget(
                title="Hours since the last prod deployment",
                metrics=[
                    cloudwatch.MathExpression(
                        expression=HOURS_SINCE_PROD,
                        using_metrics={"deploys": metric("ProdDeployments", "prod deployments")},
                        label="hours since last prod deployment",
                        period=Duration.hours(1),
                    )
                ],
                width=8,
                height=5,
            )
        )
        facade.add_widget(
            cloudwatch.LogQueryWidget(
                title="Execution duration (minutes, latest 50)",
                log_group_names=[self.events_log.log_group_name],
                query_lines=EXECUTION_DURATION_QUERY.split("\n"),
                view=cloudwatch.LogQueryVisualizationType.TABLE,
                width=16,
                height=5,
            )
        )
        facade.monitor_custom(
            alarm_friendly_name="Executions",
            human_readable_name="Pipeline executions and failures per stage",
            metric_groups=[
                CustomMetricGroup(
                    title="Executions per hour",
                    metrics=[
                        metric("ExecutionsSucceeded", "succeeded"),
                        metric("ExecutionsFailed", "failed"),
                    ],
                ),
                CustomMetricGroup(
                    title="Failures per stage per hour",
                    metrics=[metric("StageFailures", stage, Stage=stage) for stage in stage_names],
                ),
            ],
        )
        facade.monitor_custom(
            alarm_friendly_name="Drift",
            human_readable_name="Drift from what git deployed (resources changed outside CloudFormation)",
            metric_groups=[CustomMetricGroup(title="Drifted resources per deployment", metrics=list(drift.values()))],
        )
        for name, project in projects.items():
            facade.monitor_code_build_project(
                project=project, alarm_friendly_name=name, human_readable_name=f"Step {name} (CodeBuild)"
            )
