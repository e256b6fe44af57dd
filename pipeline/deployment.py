"""One deployment of an environment (its primary region, or one more region of it): the stage that deploys the
platform there, and the steps before and after its CloudFormation action.

- pre-flight: beside the synth when the environment needs no approval (it fails the run before anything deploys),
  else in its wave after the approval;
- integration tests after the deployment, then the bake when `monitoring.bake_minutes` is set.
"""

from __future__ import annotations

from aws_cdk import Stack, pipelines
from aws_cdk import aws_codebuild as codebuild

from pipeline.steps.bake import BakeStep
from pipeline.steps.integration_tests import IntegrationTestsStep
from pipeline.steps.preflight import PreflightStep
from platform_config import EnvironmentSettings
from platform_config.naming import stage_id
from stages.platform_stage import IotPlatformStage


class PlatformDeployment:
    def __init__(
        self,
        stack: Stack,
        settings: EnvironmentSettings,
        source: pipelines.IFileSetProducer,
        *,
        integration_reports: codebuild.IReportGroup,
        approval: pipelines.Step | None,
    ) -> None:
        self.settings = settings
        # The stage's integration-test role trusts the pipeline's account (its own, or another one).
        self.stage = IotPlatformStage(stack, settings=settings, integration_test_account=stack.account)
        self.preflight = PreflightStep(
            stack,
            settings,
            source,
            step_id="Preflight" if approval else f"Preflight{stage_id(settings.name)}",
            arm_rollback=settings.monitoring.rollback_on_alarm,
        )
        if approval is not None:
            self.preflight.add_step_dependency(approval)
        self.integration_tests = IntegrationTestsStep(stack, settings, source, integration_reports)
        self.bake: BakeStep | None = None
        if settings.monitoring.bake_minutes > 0:
            self.bake = BakeStep(stack, settings, source)
            self.bake.add_step_dependency(self.integration_tests)
        self.gated = approval is not None

    @property
    def beside_synth(self) -> list[pipelines.CodeBuildStep]:
        return [] if self.gated else [self.preflight]

    @property
    def pre(self) -> list[pipelines.Step]:
        return [self.preflight] if self.gated else []

    @property
    def post(self) -> list[pipelines.Step]:
        return [self.integration_tests, *([self.bake] if self.bake else [])]

    @property
    def wave_steps(self) -> list[pipelines.CodeBuildStep]:
        """The CodeBuild steps CDK Pipelines builds for this deployment (the others run beside the synth)."""
        return [s for s in (*self.pre, *self.post) if isinstance(s, pipelines.CodeBuildStep)]
