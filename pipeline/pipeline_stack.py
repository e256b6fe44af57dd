"""PipelineStack: the CodePipeline (V2) that updates itself, then deploys dev, staging and prod in order.

    Source        the repository's branch through CodeConnections, on every push
    Build         Synth (one `cdk synth` with every gate, then the unit tests on its cloud assembly)
                  ‖ ProcessorTests ‖ the pre-flight of every environment that needs no approval
    UpdatePipeline, Assets (one publisher; CDK CLI and cdk-assets pinned as package.json pins them)
    per environment, in order:
      [PromoteTo<Env> (manual approval, a stage of its own)]
      <Env>: its regions side by side: [pre-flight ->] deploy -> integration tests;
             then its health conditions (bake, rollback on alarm: pipeline/conditions.py)

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
from pipeline.conditions import add_health_conditions
from pipeline.deployment import PlatformDeployment
from pipeline.generated_findings import acknowledge_cdk_pipelines, acknowledge_project_grants
from pipeline.monitoring import PipelineMonitoring
from pipeline.notifications import PipelineNotifications
from pipeline.steps.beside_synth import BesideSynth
from pipeline.steps.processor_tests import ProcessorTestsStep
from pipeline.steps.synth import SynthStep
from platform_config import PlatformConfig
from platform_config.naming import stage_id


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
        self.deployments: list[PlatformDeployment] = []
        settled: set[tuple[str, str]] = set()  # accounts and regions whose once-only settings a deployment holds
        for env in config.environments:
            if env.requires_approval:
                promote = f"PromoteTo{stage_id(env.name)}"
                self.pipeline.add_wave(
                    promote, pre=[pipelines.ManualApprovalStep(promote, comment=f"Promote to {env.name}?")]
                )
            wave = self.pipeline.add_wave(stage_id(env.name))
            for settings_of_region in config.deployments(env):
                where = (settings_of_region.account, settings_of_region.region)
                deployment = PlatformDeployment(
                    self,
                    settings_of_region,
                    source,
                    integration_reports=self.integration_test_reports,
                    account_settings=where not in settled,
                )
                settled.add(where)
                wave.add_stage(deployment.stage, pre=deployment.pre, post=deployment.post)
                for step in deployment.beside_synth:
                    beside_synth.add(step)
                self.deployments.append(deployment)
        self.pipeline.build_pipeline()
        beside_synth.attach(self.pipeline, synth)
        add_health_conditions(self, self.pipeline, config)

        wave_projects = [step.project for d in self.deployments for step in d.wave_steps]
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
        self.notifications = PipelineNotifications(
            self, "Notifications", pipeline=self.pipeline.pipeline, settings=settings.notifications
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
        )


def _report_group(scope: Construct, construct_id: str) -> codebuild.ReportGroup:
    return codebuild.ReportGroup(
        scope, construct_id, type=codebuild.ReportGroupType.TEST, removal_policy=RemovalPolicy.DESTROY
    )
