#!/usr/bin/env python3
"""Pipeline lead-time benchmark: the critical path of sequential actions and the CodeBuild projects of the synthesized
pipeline, against CDK Pipelines' default settings on this same app.

The pipeline is read from the synthesized template (`make synth` writes cdk.out/Pipeline.template.json). The baseline
is built here, in-process, from the same config, stages and steps (pipeline/steps, pipeline/deployment.py) wired as
CDK Pipelines does by default: change sets (Prepare + Execute), one publishing project per asset, no build caches,
default compute, every pre-flight in front of its own deployment; the same reviews and health conditions. The
critical path runs from the source to prod's last post-deployment step; actions that run side by side count once and
the manual approval does not count (pipeline/lead_time.py). Ends with
`critical_path=<n> default_critical_path=<m> codebuild_projects=<p> default_codebuild_projects=<q>`.
Usage: bench_pipeline.py [--template cdk.out/Pipeline.template.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from pipeline.lead_time import codebuild_projects, critical_path
from platform_config import cdk_context, load_config_file
from platform_config.loader import REPO_ROOT
from platform_config.naming import stage_id


def cdk_pipelines_defaults_template() -> dict[str, Any]:
    """This app's pipeline as CDK Pipelines builds it by default (no cdk-nag: only the shape counts)."""
    from aws_cdk import App, Environment, RemovalPolicy, Stack, pipelines
    from aws_cdk import aws_codebuild as codebuild
    from aws_cdk import aws_codepipeline as codepipeline

    from pipeline.conditions import add_health_conditions
    from pipeline.deployment import PlatformDeployment
    from pipeline.steps.processor_tests import ProcessorTestsStep
    from pipeline.steps.review import ReviewStep
    from pipeline.steps.synth import SynthStep

    config = load_config_file()
    settings = config.pipeline
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, context=cdk_context())
        stack = Stack(app, "Pipeline", env=Environment(account=settings.account, region=settings.region))
        source = pipelines.CodePipelineSource.connection(
            settings.repository, settings.branch, connection_arn=settings.connection_arn
        )

        def reports(name: str) -> codebuild.ReportGroup:
            return codebuild.ReportGroup(stack, name, removal_policy=RemovalPolicy.DESTROY)

        synth = SynthStep(source, reports("UnitTestReports"))
        baseline = pipelines.CodePipeline(
            stack,
            "Pipeline",
            pipeline_type=codepipeline.PipelineType.V2,
            synth=synth,
            cross_account_keys=config.cross_account,
            docker_enabled_for_synth=False,
        )
        integration_reports, review_reports = reports("IntegrationTestReports"), reports("ReviewReports")
        processor_tests = baseline.add_wave("ProcessorTests")  # CDK Pipelines runs a step after the assets
        processor_tests.add_pre(ProcessorTestsStep(source, reports("ProcessorTestReports")))
        settled: set[tuple[str, str]] = set()
        for env in config.environments:
            # Each environment's review right before it (and its approval), as a step of its own.
            pre: list[pipelines.Step] = []
            if env.review.guard or env.requires_approval:
                pre = [ReviewStep(stack, env, config.deployments(env), source, synth, review_reports)]
            if env.requires_approval:
                promote = f"PromoteTo{stage_id(env.name)}"
                baseline.add_wave(promote, pre=[*pre, pipelines.ManualApprovalStep(promote)])
                pre = []
            wave = baseline.add_wave(stage_id(env.name), pre=pre)
            for region_settings in config.deployments(env):
                where = (region_settings.account, region_settings.region)
                deployment = PlatformDeployment(
                    stack, region_settings, source, integration_reports=integration_reports,
                    account_settings=where not in settled,
                )  # fmt: skip
                settled.add(where)
                wave.add_stage(deployment.stage, pre=[deployment.preflight], post=deployment.post)
        baseline.build_pipeline()
        add_health_conditions(stack, baseline, config)
        template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def describe(title: str, template: dict[str, Any]) -> tuple[int, int]:
    path = critical_path(template)
    projects = codebuild_projects(template)
    print(f"{title}: {len(path)} sequential actions, {projects} CodeBuild projects")
    for number, (stage, actions) in enumerate(path, start=1):
        print(f"  {number:2d}. {stage:<14} {' | '.join(actions)}")
    return len(path), projects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=REPO_ROOT / "cdk.out" / "Pipeline.template.json")
    template_path: Path = parser.parse_args().template
    if not template_path.is_file():
        print(f"{template_path} not found: run `make synth` first (or `make bench-pipeline`).", file=sys.stderr)
        return 1
    ours = describe("this pipeline", json.loads(template_path.read_text()))
    default = describe("CDK Pipelines defaults", cdk_pipelines_defaults_template())
    print(f"sequential actions: {ours[0]} vs {default[0]} ({1 - ours[0] / default[0]:.0%} fewer)")
    print(
        f"critical_path={ours[0]} default_critical_path={default[0]} "
        f"codebuild_projects={ours[1]} default_codebuild_projects={default[1]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
