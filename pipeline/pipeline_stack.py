"""PipelineStack: the CodePipeline (V2) that updates itself and then deploys dev, staging and prod in order.

Source is the repository's `main` branch through a CodeConnections connection (a push starts a run). The Synth
step runs buildspecs/synth.yml: unit tests with a JUnit report into a CodeBuild report group, then `cdk synth` with
every gate. Self-mutation updates the pipeline before any deployment, all assets are published by one CodeBuild
project, and the environments are deployed in the configured order; an environment whose config sets
`requires_approval` waits for a ManualApprovalStep.

Lead time (pipeline/delivery.py, measured by `make bench-pipeline`): direct deployments instead of change sets, one
asset publisher, pip/npm caches, compute per step, pre-flights side by side with the work before their stage. Every
gate of the synth step runs before the Assets stage, and every pre-flight before its environment's CloudFormation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from aws_cdk import Duration, Environment, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lib.compliance import acknowledge
from lib.integration_test_role import integration_role_name
from lib.settings import EnvironmentSettings
from pipeline.delivery import (
    ASSET_COMPUTE,
    BUILD_CACHE_PATHS,
    STEP_COMPUTE,
    SYNTH_COMPUTE,
    DeliveryOptions,
)
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
# CDK Pipelines publishes assets in its top-level "Assets" graph; a wave of that id, added before the first
# environment's, becomes that graph, so its pre steps run side by side with the asset publishing (tests pin it).
ASSETS_STAGE = "Assets"
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0


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

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        delivery: DeliveryOptions | None = None,
        **kwargs: Any,
    ) -> None:
        settings = config.pipeline
        delivery = delivery or DeliveryOptions()
        self.delivery = delivery
        self.cross_account = config.cross_account
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
        right_sized = delivery.right_sized_compute
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="iot-sensor-platform",
            pipeline_type=codepipeline.PipelineType.V2,
            synth=synth,
            self_mutation=True,
            use_change_sets=delivery.use_change_sets,
            publish_assets_in_parallel=not delivery.single_asset_publisher,
            # A KMS key on the artifact bucket only when some environment's account must read the artifacts.
            cross_account_keys=config.cross_account,
            enable_key_rotation=config.cross_account,
            docker_enabled_for_synth=False,
            code_build_defaults=self._code_build_defaults(delivery),
            synth_code_build_defaults=_compute(SYNTH_COMPUTE) if right_sized else None,
            asset_publishing_code_build_defaults=_compute(ASSET_COMPUTE) if right_sized else None,
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
        approvals: dict[str, pipelines.ManualApprovalStep] = {}
        early: list[str] = []  # environments whose pre-flight runs before their own stage
        for env in config.environments:
            approval = None
            if env.requires_approval:
                name = env.name.capitalize()
                approval = pipelines.ManualApprovalStep(f"PromoteTo{name}", comment=f"Promote to {env.name}?")
                approvals[env.name] = approval
            for deployment in config.deployments(env):  # its primary region, then any additional ones
                if approval is None and delivery.early_preflight:
                    early.append(deployment.name)
                self._add_deployment(deployment, source, approval, early)
        self._add_waves(config, approvals, early)
        self.pipeline.build_pipeline()
        self._acknowledge_generated_grants(settings.account, settings.region)
        self._add_notifications_and_dashboard(config)

    def _add_deployment(
        self,
        settings: EnvironmentSettings,
        source: pipelines.IFileSetProducer,
        approval: pipelines.ManualApprovalStep | None,
        early: list[str],
    ) -> None:
        """The stage of one environment (one region of it), its integration tests and its health steps."""
        name = settings.name.capitalize()
        # The stage always creates the integration-test role, trusted by the pipeline's account (its own, or
        # another): the step then holds nothing but sts:AssumeRole, in one account or many.
        stage = IotPlatformStage(self, name, settings=settings, integration_test_account=self.account)
        step = self._integration_step(stage, source)
        self.health_steps[settings.name] = health_steps(
            self,
            stage,
            source,
            after_approval=approval,
            after_tests=step,
            preflight_id=f"Preflight{name}" if settings.name in early else "Preflight",
            arm_in_preflight=self.delivery.preflight_arms_rollback,
        )
        self.stages.append(stage)
        self.integration_steps[settings.name] = step

    def _add_waves(
        self, config: PlatformConfig, approvals: dict[str, pipelines.ManualApprovalStep], early: list[str]
    ) -> None:
        """One wave per environment, in order: [approval] -> pre-flight [-> arm rollback] -> deploy -> tests [-> bake];
        the regions of an environment deploy side by side in its wave, each with its own steps.

        A deployment in ``early`` has its pre-flight run alongside the work just before its wave instead: the first
        environment's with the asset publishing, a later one's with the previous environment's integration tests.
        """
        groups = [[d.name for d in config.deployments(env)] for env in config.environments]
        stages = {stage.settings.name: stage for stage in self.stages}
        first_early = [self.health_steps[name].preflight for name in groups[0] if name in early]
        if first_early:
            self.pipeline.add_wave(ASSETS_STAGE, pre=first_early)
        for index, group in enumerate(groups):
            env_name = group[0]
            wave = self.pipeline.add_wave(
                env_name.capitalize(), pre=[approvals[env_name]] if env_name in approvals else []
            )
            following = groups[index + 1] if index + 1 < len(groups) else []
            for position, name in enumerate(group):
                health = self.health_steps[name]
                pre = [step for step in health.pre if name not in early or step is not health.preflight]
                post: list[pipelines.Step] = [self.integration_steps[name], *health.post]
                if position == 0:
                    post += [self.health_steps[later].preflight for later in following if later in early]
                wave.add_stage(stages[name], pre=pre, post=post)

    def _code_build_defaults(self, delivery: DeliveryOptions) -> pipelines.CodeBuildOptions:
        """Every project's build image and compute, and the pip/npm download caches in a build-cache bucket."""
        compute = STEP_COMPUTE if delivery.right_sized_compute else codebuild.ComputeType.MEDIUM
        environment = codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=compute)
        if not delivery.build_cache:
            return pipelines.CodeBuildOptions(build_environment=environment)
        self.build_cache = s3.Bucket(
            self,
            "BuildCache",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(30))],
        )
        acknowledge(
            self.build_cache,
            "The build-cache bucket holds only pip and npm download caches of public packages, written and read by "
            "this pipeline's CodeBuild projects (CloudTrail records access); objects expire after 30 days.",
            "AwsSolutions-S1",
        )
        return pipelines.CodeBuildOptions(
            build_environment=environment,
            cache=codebuild.Cache.bucket(self.build_cache, prefix="dependencies"),
            partial_build_spec=codebuild.BuildSpec.from_object({"cache": {"paths": list(BUILD_CACHE_PATHS)}}),
        )

    def _integration_step(self, stage: IotPlatformStage, source: pipelines.IFileSetProducer) -> pipelines.CodeBuildStep:
        """Post-deployment step: tests/integration against the stage's stack, as the stage's integration-test role."""
        settings = stage.settings
        role_arn = f"arn:{self.partition}:iam::{settings.account}:role/{integration_role_name(settings.name)}"
        statements = [
            iam.PolicyStatement(
                actions=list(REPORT_ACTIONS), resources=[self.integration_test_reports.report_group_arn]
            ),
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[role_arn]),
        ]
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
        for env in config.all_deployments:
            name = env.name.capitalize()
            projects[f"Preflight{name}"] = self.health_steps[env.name].preflight.project
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
        for region, support in sorted(pipeline.cross_region_support.items()):  # a wave across regions
            bucket_name = self.resolve(support.replication_bucket.bucket_name)
            acknowledge(
                support.replication_bucket,
                f"CodePipeline's replication bucket in {region} holds only copies of this pipeline's transient "
                "artifacts for the deployments in that region, reachable only by the pipeline's roles.",
                "AwsSolutions-S1",
            )
            acknowledge(
                self.pipeline,
                f"The pipeline's role copies artifacts to objects of its replication bucket in {region} (CodePipeline "
                "cross-region actions); the grant is scoped to that one bucket.",
                f"AwsSolutions-IAM5[Resource::arn:aws:s3:::{bucket_name}/*]",
            )
        if not self.cross_account:
            acknowledge(
                self.pipeline,
                "Every environment is in the pipeline's own account, so the pipeline has no cross-account KMS key: "
                "its CodeBuild projects encrypt build artifacts with the AWS-managed S3 key of the artifact bucket.",
                "AwsSolutions-CB4",
            )
        if self.delivery.build_cache:
            cache = self.get_logical_id(self.build_cache.node.default_child)  # type: ignore[arg-type]
            acknowledge(
                self.pipeline,
                "Every CodeBuild project of the pipeline reads and writes the pip/npm download-cache archive under "
                "its own key in the build-cache bucket; the grant is scoped to the objects of that bucket only.",
                f"AwsSolutions-IAM5[Resource::<{cache}.Arn>/*]",
            )
        acknowledge(
            self.pipeline,
            "Self-mutation and asset publishing assume the CDK bootstrap roles (cdk-*) of the target accounts and "
            "call ecr:GetAuthorizationToken / cloudformation:DescribeStacks, which take no narrower resource.",
            "AwsSolutions-IAM5[Resource::*]",
            f"AwsSolutions-IAM5[Resource::arn:*:iam::{account}:role/*]",
        )


def _compute(compute_type: codebuild.ComputeType) -> pipelines.CodeBuildOptions:
    return pipelines.CodeBuildOptions(
        build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=compute_type)
    )
