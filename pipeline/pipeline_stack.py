"""PipelineStack: the CodePipeline (V2) that updates itself and then deploys dev, staging and prod in order.

Source is the repository's `main` branch through a CodeConnections connection (a push starts a run). The Synth
step runs buildspecs/synth.yml: unit tests with a JUnit report into a CodeBuild report group, then `cdk synth` with
every gate. Self-mutation updates the pipeline before any deployment, all assets are published by one CodeBuild
project, and the environments are deployed in the configured order; an environment whose config sets
`requires_approval` waits for a ManualApprovalStep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from aws_cdk import Environment, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from constructs import Construct

from lib.compliance import acknowledge
from lib.integration_test_role import DESCRIBE_ACTIONS, integration_role_name
from pipeline.health_steps import HealthSteps, acknowledge_step_grants, health_steps
from pipeline.monitoring import PipelineMonitoring
from pipeline.notifications import PipelineNotifications
from stages.config import PlatformConfig
from stages.platform_stage import IotPlatformStage

SYNTH_BUILDSPEC = Path(__file__).resolve().parents[1] / "buildspecs" / "synth.yml"
INTEGRATION_BUILDSPEC = Path(__file__).resolve().parents[1] / "buildspecs" / "integration.yml"
# Which part of tests/integration each environment runs after its deployment: prod only the read-only smoke subset;
# the dead-letter file check needs the EFS mount, which the pipeline's CodeBuild (outside the stage's VPC) lacks.
FULL_SUITE = "not efs_mount"
SMOKE_SUITE = "smoke"
REPORT_ACTIONS = (
    "codebuild:BatchPutCodeCoverages",
    "codebuild:BatchPutTestCases",
    "codebuild:CreateReport",
    "codebuild:UpdateReport",
)


def synth_build_spec(report_group_arn: str, path: Path = SYNTH_BUILDSPEC) -> dict[str, Any]:
    """The synth buildspec from buildspecs/, with its unit-test report bound to the given report group."""
    spec: dict[str, Any] = yaml.safe_load(path.read_text())
    spec["reports"] = {report_group_arn: spec["reports"]["unit-tests"]}
    return spec


def integration_build_spec(report_group_arn: str, path: Path = INTEGRATION_BUILDSPEC) -> dict[str, Any]:
    """The integration-test buildspec from buildspecs/, with its report bound to the given report group."""
    spec: dict[str, Any] = yaml.safe_load(path.read_text())
    spec["reports"] = {report_group_arn: spec["reports"]["integration-tests"]}
    return spec


class PipelineStack(Stack):
    """Self-mutating CDK pipeline that promotes the platform through every configured environment."""

    def __init__(self, scope: Construct, construct_id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        settings = config.pipeline
        super().__init__(
            scope, construct_id, env=Environment(account=settings.account, region=settings.region), **kwargs
        )
        source = pipelines.CodePipelineSource.connection(
            settings.repository, settings.branch, connection_arn=settings.connection_arn, trigger_on_push=True
        )
        self.unit_test_reports = codebuild.ReportGroup(
            self,
            "UnitTestReports",
            type=codebuild.ReportGroupType.TEST,
            removal_policy=RemovalPolicy.DESTROY,
        )
        synth = pipelines.CodeBuildStep(
            "Synth",
            input=source,
            commands=[],
            partial_build_spec=codebuild.BuildSpec.from_object(
                synth_build_spec(self.unit_test_reports.report_group_arn)
            ),
            primary_output_directory="cdk.out",
            role_policy_statements=[
                iam.PolicyStatement(actions=list(REPORT_ACTIONS), resources=[self.unit_test_reports.report_group_arn])
            ],
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="iot-sensor-platform",
            pipeline_type=codepipeline.PipelineType.V2,
            synth=synth,
            self_mutation=True,
            publish_assets_in_parallel=False,
            cross_account_keys=True,
            enable_key_rotation=True,
            docker_enabled_for_synth=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.MEDIUM,
                )
            ),
        )
        self.integration_test_reports = codebuild.ReportGroup(
            self,
            "IntegrationTestReports",
            type=codebuild.ReportGroupType.TEST,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stages: list[IotPlatformStage] = []
        self.integration_steps: dict[str, pipelines.CodeBuildStep] = {}
        self.health_steps: dict[str, HealthSteps] = {}
        for env in config.environments:
            name = env.name.capitalize()
            cross_account = env.account != settings.account
            stage = IotPlatformStage(
                self, name, settings=env, integration_test_account=settings.account if cross_account else None
            )
            pre: list[pipelines.Step] = []
            approval = None
            if env.requires_approval:
                approval = pipelines.ManualApprovalStep(f"PromoteTo{name}", comment=f"Promote to {env.name}?")
                pre.append(approval)
            step = self._integration_step(stage, source, cross_account)
            health = health_steps(self, stage, source, after_approval=approval, after_tests=step)
            self.health_steps[env.name] = health
            self.pipeline.add_wave(name, pre=[*pre, *health.pre]).add_stage(stage, post=[step, *health.post])
            self.stages.append(stage)
            self.integration_steps[env.name] = step
        self.pipeline.build_pipeline()
        self._acknowledge_generated_grants(settings.account, settings.region)
        self._add_notifications_and_dashboard(config)

    def _integration_step(
        self, stage: IotPlatformStage, source: pipelines.IFileSetProducer, cross_account: bool
    ) -> pipelines.CodeBuildStep:
        """Post-deployment step: tests/integration against the stage's stack, as its test role when cross-account."""
        settings = stage.settings
        role_arn = (
            f"arn:{self.partition}:iam::{settings.account}:role/{integration_role_name(settings.name)}"
            if cross_account
            else ""
        )
        statements = [
            iam.PolicyStatement(
                actions=list(REPORT_ACTIONS), resources=[self.integration_test_reports.report_group_arn]
            )
        ]
        if cross_account:
            statements.append(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[role_arn]))
        else:
            statements.append(iam.PolicyStatement(actions=list(DESCRIBE_ACTIONS), resources=["*"]))
        return pipelines.CodeBuildStep(
            "IntegrationTests",
            input=source,
            commands=[],
            partial_build_spec=codebuild.BuildSpec.from_object(
                integration_build_spec(self.integration_test_reports.report_group_arn)
            ),
            env={
                "STACK_NAME": stage.platform.stack_name,
                "AWS_REGION": settings.region,
                "ENVIRONMENT": settings.name,
                "TEST_ROLE_ARN": role_arn,
                "PYTEST_MARKERS": SMOKE_SUITE if settings.requires_approval else FULL_SUITE,
            },
            role_policy_statements=statements,
        )

    def _add_notifications_and_dashboard(self, config: PlatformConfig) -> None:
        """Notifications (pipeline/notifications.py) and the pipeline dashboard (pipeline/monitoring.py)."""
        pipeline = self.pipeline.pipeline
        steps = [step for health in self.health_steps.values() for step in health.all]
        acknowledge_step_grants(self, steps)
        self.notifications = PipelineNotifications(
            self, "Notifications", pipeline=pipeline, settings=config.pipeline.notifications
        )
        projects = {"Synth": self.pipeline.synth_project}
        for env in config.environments:
            name = env.name.capitalize()
            projects.update({f"{step.id}{name}": step.project for step in self.health_steps[env.name].pre[:1]})
            projects[f"IntegrationTests{name}"] = self.integration_steps[env.name].project
        self.monitoring = PipelineMonitoring(
            self,
            "Monitoring",
            pipeline=pipeline,
            stage_names=[stage.stage_name for stage in pipeline.stages],
            prod_stage=config.environments[-1].name.capitalize(),
            projects=projects,
        )

    def _acknowledge_generated_grants(self, account: str, region: str) -> None:
        """Acknowledge the wildcard grants CDK Pipelines generates for its own roles (reviewed, listed below)."""
        pipeline = self.pipeline.pipeline
        bucket = self.get_logical_id(pipeline.artifact_bucket.node.default_child)  # type: ignore[arg-type]
        project_ids = {
            name: self.get_logical_id(project.node.default_child)  # type: ignore[arg-type]
            for name, project in (
                ("synth", self.pipeline.synth_project),
                ("mutation", self.pipeline.self_mutation_project),
                *((f"integration-{env}", step.project) for env, step in self.integration_steps.items()),
            )
        }
        acknowledge(
            pipeline.artifact_bucket,
            "The artifact bucket holds only transient pipeline artifacts, encrypted with the pipeline's KMS key and "
            "reachable only by the pipeline's roles (CloudTrail records access); an access-log bucket would need "
            "its own log bucket in turn.",
            "AwsSolutions-S1",
        )
        artifact_grants = [
            f"AwsSolutions-IAM5[Action::{action}]"
            for action in ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")
        ] + [
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
        ]
        codebuild_grants = [
            f"AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/*]",
            f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/*]",
        ] + [
            grant
            for project in project_ids.values()
            for grant in (
                f"AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/<{project}>:*]",
                f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/<{project}>-*]",
            )
        ]
        acknowledge(
            self.pipeline,
            "CDK Pipelines grants its own roles read/write on objects of the pipeline's artifact bucket (s3 and kms "
            "action groups, objects under the bucket ARN) and on their own CodeBuild log groups and report groups; "
            "every grant is scoped to this pipeline's bucket, key and projects.",
            *artifact_grants,
            *codebuild_grants,
        )
        acknowledge(
            self.pipeline,
            "Self-mutation and asset publishing assume the CDK bootstrap roles (cdk-*) of the target accounts and "
            "call ecr:GetAuthorizationToken / cloudformation:DescribeStacks, which take no narrower resource.",
            "AwsSolutions-IAM5[Resource::*]",
            f"AwsSolutions-IAM5[Resource::arn:*:iam::{account}:role/*]",
        )
