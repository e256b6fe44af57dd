"""One deployment of an environment (its primary region, or one more region of it): the stage that deploys the
platform there, and the steps before and after its CloudFormation action.

- pre-flight: beside the synth when the environment needs no approval (it fails the run before anything deploys),
  else in its wave, after the approval, where it also checks that the stack is the one the approved review saw;
- integration tests after the deployment (the environment's health conditions follow, pipeline/conditions.py).
"""

from __future__ import annotations

from aws_cdk import Stack, pipelines
from aws_cdk import aws_codebuild as codebuild

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
        account_settings: bool,
        reviewed_base: str | None = None,
    ) -> None:
        self.settings = settings
        self.gated = settings.requires_approval
        # The stage's integration-test role trusts the pipeline's account (its own, or another one).
        self.stage = IotPlatformStage(
            stack, settings=settings, integration_test_account=stack.account, account_settings=account_settings
        )
        self.preflight = PreflightStep(
            stack,
            settings,
            source,
            step_id="Preflight" if self.gated else f"Preflight{stage_id(settings.name)}",
            reviewed_base=reviewed_base if self.gated else None,
        )
        self.integration_tests = IntegrationTestsStep(stack, settings, source, integration_reports)

    @property
    def beside_synth(self) -> list[PreflightStep]:
        return [] if self.gated else [self.preflight]

    @property
    def pre(self) -> list[pipelines.Step]:
        return [self.preflight] if self.gated else []

    @property
    def post(self) -> list[pipelines.Step]:
        return [self.integration_tests]

    @property
    def wave_steps(self) -> list[pipelines.CodeBuildStep]:
        """The CodeBuild steps CDK Pipelines builds for this deployment (the others run beside the synth)."""
        return [s for s in (*self.pre, *self.post) if isinstance(s, pipelines.CodeBuildStep)]
