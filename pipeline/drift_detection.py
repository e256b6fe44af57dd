"""Scheduled drift detection: on `pipeline.drift_schedule` (daily by default), every deployment's platform stack is
checked for drift from what git deployed (python -m preflight.drift, read-only as each account's CDK lookup role).
What drifted goes to the pipeline's topic; the count per deployment to CloudWatch, shown on the pipeline dashboard and
watched by an alarm that notifies the same topic; a run that could not detect (its build failed) notifies it too.

EventBridge Scheduler starts a CodeBuild build of the branch (the repository through CodeConnections): the job reads
the deployed stacks, not git, so it runs the checks as committed.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from lib.compliance import acknowledge
from pipeline.codebuild import BUILD_IMAGE, STEP_COMPUTE, with_runtime
from pipeline.repository import repository_project
from pipeline.steps.buildspec import buildspec_document
from platform_config import PipelineSettings
from platform_config.alarms import DRIFT_METRIC, PIPELINE_METRIC_NAMESPACE


class DriftDetection(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PipelineSettings,
        deployments: list[str],
        lookup_roles: list[str],
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.project = repository_project(
            self,
            "Project",
            settings,
            {"branch_or_ref": settings.branch, "report_build_status": False},  # a schedule, not a commit's check
            build_spec=codebuild.BuildSpec.from_object(with_runtime(buildspec_document("drift"))),
            environment=codebuild.BuildEnvironment(
                build_image=BUILD_IMAGE,
                compute_type=STEP_COMPUTE,
                environment_variables={"TOPIC_ARN": codebuild.BuildEnvironmentVariable(value=topic.topic_arn)},
            ),
            timeout=Duration.minutes(60),
            description="Drift of every deployment from what git deployed",
        )
        self.project.add_to_role_policy(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=lookup_roles))
        topic.grant_publish(self.project)
        acknowledge(
            self.project,
            "Publishing to the encrypted topic needs kms:GenerateDataKey* on the topic's key (Topic.grantPublish); "
            "the grant names that one key.",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        )
        self.project.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData takes no resource; the condition scopes it to one namespace
                conditions={"StringEquals": {"cloudwatch:namespace": PIPELINE_METRIC_NAMESPACE}},
            )
        )
        acknowledge(
            self.project,
            "cloudwatch:PutMetricData supports no resource-level permission; the statement's condition limits it "
            f"to the {PIPELINE_METRIC_NAMESPACE} namespace, where the job writes {DRIFT_METRIC} per deployment.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.expression(settings.drift_schedule),
            target=targets.CodeBuildStartBuild(self.project),
            description="Drift detection of every deployment of the IoT platform",
        )
        self.metrics = {
            name: cloudwatch.Metric(
                namespace=PIPELINE_METRIC_NAMESPACE,
                metric_name=DRIFT_METRIC,
                dimensions_map={"Deployment": name},
                statistic="Maximum",
                period=Duration.days(1),
                label=name,
            )
            for name in deployments
        }
        self.alarm = cloudwatch.Alarm(
            self,
            "Drifted",
            alarm_name="iot-pipeline-drift",
            alarm_description="A deployment drifted from what git deployed (the topic's message says what)",
            metric=cloudwatch.MathExpression(
                expression=f"MAX([{', '.join(f'm{i}' for i in range(len(deployments)))}])",
                using_metrics={f"m{i}": metric for i, metric in enumerate(self.metrics.values())},
                period=Duration.days(1),
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarm.add_alarm_action(actions.SnsAction(topic))
        # A job that cannot detect (an account that refuses the lookup role, an API error) puts no metric, which the
        # alarm treats as no drift: its failed build notifies the topic instead.
        self.failed = self.project.notify_on_build_failed(
            "Failed", topic, notification_rule_name="iot-pipeline-drift-detection-failed"
        )
