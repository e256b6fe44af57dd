"""PipelineStack: the CodePipeline (V2) that updates itself, then deploys dev, staging and prod in order.

    Source        the repository's branch through CodeConnections, on every push
    Build         Synth (one `cdk synth` with every gate, then the unit tests on its cloud assembly)
                  ‖ ProcessorTests ‖ the pre-flight of every environment that needs no approval
    UpdatePipeline, Assets (one publisher; CDK CLI and cdk-assets pinned as package.json pins them)
    per environment, in order:
      [PromoteTo<Env> (manual approval, a stage of its own, showing the environment's review)]
      <Env>: the first one starts with the review of every guarded or approved environment (what changes there;
             the stateful-replacement guard stops the run before anything deploys);
             its regions side by side: [pre-flight ->] deploy -> integration tests;
             then its health conditions (bake, rollback on alarm: pipeline/conditions.py)
    Pull requests (pipeline/pull_requests.py) and scheduled drift detection (pipeline/drift_detection.py) run beside
    the pipeline, as CodeBuild projects of the repository.

What each step runs is in pipeline/steps/ (one class per kind of step, each loading its buildspec from buildspecs/);
what one deployment holds is pipeline/deployment.py; environments differ only by their data in cdk.json.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from constructs import Construct

from pipeline.codebuild import ASSET_COMPUTE, SYNTH_COMPUTE, BuildCache, compute, pinned_tool
from pipeline.conditions import add_approval_conditions, add_health_conditions
from pipeline.deployment import PlatformDeployment
from pipeline.drift_detection import DriftDetection
from pipeline.generated_findings import acknowledge_cdk_pipelines, acknowledge_project_grants
from pipeline.monitoring import PipelineMonitoring
from pipeline.notifications import PipelineNotifications
from pipeline.pull_requests import PullRequestValidation
from pipeline.steps.approval import approval
from pipeline.steps.beside_synth import BesideSynth
from pipeline.steps.processor_tests import ProcessorTestsStep
from pipeline.steps.review import ReviewStep
from pipeline.steps.synth import SynthStep
from platform_config import EnvironmentSettings, PlatformConfig
from platform_config.naming import bootstrap_role_arn, stage_id


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
        self.unit_test_reports = _report_group(self, "UnitTestReports")
        self.integration_test_reports = _report_group(self, "IntegrationTestReports")
        cache = BuildCache(self)
        synth = SynthStep(source, self.unit_test_reports)
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="iot-sensor-platform",
            pipeline_type=codepipeline.PipelineType.V2,
            synth=synth,
            self_mutation=True,
            cli_version=pinned_tool("aws-cdk"),
            cdk_assets_cli_version=pinned_tool("cdk-assets"),
            use_change_sets=False,  # nothing reviews a change set between Prepare and Execute: deploy directly
            publish_assets_in_parallel=False,  # one CodeBuild project publishes every asset
            # A KMS key on the artifact bucket only when some environment's account must read the artifacts.
            cross_account_keys=config.cross_account,
            enable_key_rotation=config.cross_account,
            docker_enabled_for_synth=False,
            code_build_defaults=cache.defaults,
            synth_code_build_defaults=compute(SYNTH_COMPUTE),
            asset_publishing_code_build_defaults=compute(ASSET_COMPUTE),
        )
        beside_synth = BesideSynth(self, "BesideSynth", cache=cache)
        beside_synth.add(ProcessorTestsStep(source, self.unit_test_reports))
        self.notifications = PipelineNotifications(self, "Notifications", settings=settings.notifications)
        self.review_reports = _report_group(self, "ReviewReports")
        self.deployments: list[PlatformDeployment] = []
        # By environment: what its approval shows, its condition reads and its pre-flight re-checks.
        self.reviews = {
            env.name: ReviewStep(self, env, config.deployments(env), source, synth, self.review_reports)
            for env in config.environments
            if env.review.guard or env.requires_approval
        }
        self._settled: set[tuple[str, str]] = set()  # accounts/regions whose once-only settings a deployment holds
        for env in config.environments:
            self._add_environment(config, env, source, beside_synth)
        self.pipeline.build_pipeline()
        beside_synth.attach(self.pipeline, synth)
        add_health_conditions(self, self.pipeline, config)
        add_approval_conditions(self.pipeline, config, self.reviews)

        wave_projects = [step.project for d in self.deployments for step in d.wave_steps]
        wave_projects += [review.project for review in self.reviews.values()]
        runners = {d.integration_tests.project.node.path: d.integration_tests.runner for d in self.deployments}
        acknowledge_cdk_pipelines(
            self,
            self.pipeline,
            projects=wave_projects,
            extra_scopes=[beside_synth, *runners.values()],
            build_cache=cache.bucket,
            cross_account=config.cross_account,
        )
        acknowledge_project_grants(self, [*wave_projects, *beside_synth.projects.values()], runners)
        self.notifications.watch(self.pipeline.pipeline)
        lookup_roles = sorted(
            {bootstrap_role_arn("lookup", d.account, d.region, self.partition) for d in config.all_deployments}
        )
        self.pull_requests = PullRequestValidation(
            self,
            "PullRequests",
            settings=settings,
            lookup_roles=lookup_roles,
            unit_test_reports=self.unit_test_reports,
            review_reports=self.review_reports,
        )
        self.drift = DriftDetection(
            self,
            "DriftDetection",
            settings=settings,
            deployments=[d.name for d in config.all_deployments],
            lookup_roles=lookup_roles,
            topic=self.notifications.topic,
        )
        acknowledge_project_grants(
            self, [self.pull_requests.gates, self.pull_requests.processor_tests, self.drift.project]
        )
        projects: dict[str, codebuild.IProject] = {"Synth": self.pipeline.synth_project, **beside_synth.projects}
        for deployment in self.deployments:
            name = stage_id(deployment.settings.name)
            if deployment.gated:
                projects[f"Preflight{name}"] = deployment.preflight.project
            projects[f"IntegrationTests{name}"] = deployment.integration_tests.project
        self.monitoring = PipelineMonitoring(
            self,
            "Monitoring",
            pipeline=self.pipeline.pipeline,
            stage_names=[stage.stage_name for stage in self.pipeline.pipeline.stages],
            prod_stage=stage_id(config.environments[-1].name),
            projects=projects,
            drift=self.drift.metrics,
        )

    def _add_environment(
        self,
        config: PlatformConfig,
        env: EnvironmentSettings,
        source: pipelines.IFileSetProducer,
        beside_synth: BesideSynth,
    ) -> None:
        """[PromoteTo<Env> (the approval, showing its review)] -> <Env>: its regions side by side, each
        [pre-flight ->] deploy -> integration tests."""
        review = self.reviews.get(env.name)
        if env.requires_approval:
            assert review is not None
            promote = approval(env.name, review, self.notifications.topic)
            self._add_wave(f"PromoteTo{stage_id(env.name)}", [promote])
        wave = self._add_wave(stage_id(env.name), [])
        for settings in config.deployments(env):
            where = (settings.account, settings.region)
            deployment = PlatformDeployment(
                self,
                settings,
                source,
                integration_reports=self.integration_test_reports,
                account_settings=where not in self._settled,
                reviewed_base=review.base if review else None,
            )
            self._settled.add(where)
            wave.add_stage(deployment.stage, pre=deployment.pre, post=deployment.post)
            for step in deployment.beside_synth:
                beside_synth.add(step)
            self.deployments.append(deployment)

    def _add_wave(self, name: str, pre: list[pipelines.Step]) -> pipelines.Wave:
        """A wave; the first one runs every review before its own steps (before anything deploys)."""
        reviews = [] if self.pipeline.waves else list(self.reviews.values())
        return self.pipeline.add_wave(name, pre=[*reviews, *pre])


def _report_group(scope: Construct, construct_id: str) -> codebuild.ReportGroup:
    return codebuild.ReportGroup(
        scope, construct_id, type=codebuild.ReportGroupType.TEST, removal_policy=RemovalPolicy.DESTROY
    )
