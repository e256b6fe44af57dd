#!/usr/bin/env python3
"""Pipeline lead-time benchmark: the critical path of sequential actions and the CodeBuild projects of the synthesized
pipeline, against CDK Pipelines' default settings on this same app.

The pipeline is read from the synthesized template (`make synth` writes cdk.out/Pipeline.template.json). The default
variant is built here, in-process, from the same config with the same stages and steps and CDK Pipelines' defaults
(change sets, one publishing project per asset, no caching, pre-flights in front of their deployments;
pipeline/delivery.py). The critical path runs from the source to prod's last post-deployment step; actions that run
side by side count once and the manual approval does not count (pipeline/lead_time.py). Ends with
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

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

# First: puts the pinned Node.js on PATH before aws_cdk starts jsii (the CDK imports are in the functions below).
from tests.support.synthesis import cdk_context  # noqa: E402


def default_variant_template() -> dict[str, Any]:
    """The pipeline template of this app with CDK Pipelines' default settings (no cdk-nag: only the shape counts)."""
    from aws_cdk import App

    from pipeline.delivery import CDK_PIPELINES_DEFAULTS
    from pipeline.pipeline_stack import PipelineStack
    from stages.config import CONTEXT_KEY, load_config

    context = cdk_context()
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, context=context)
        stack = PipelineStack(
            app, "Pipeline", config=load_config(context[CONTEXT_KEY]), delivery=CDK_PIPELINES_DEFAULTS
        )
        template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def describe(title: str, template: dict[str, Any]) -> tuple[int, int]:
    from pipeline.lead_time import codebuild_projects, critical_path

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
    default = describe("CDK Pipelines defaults", default_variant_template())
    print(f"sequential actions: {ours[0]} vs {default[0]} ({1 - ours[0] / default[0]:.0%} fewer)")
    print(
        f"critical_path={ours[0]} default_critical_path={default[0]} "
        f"codebuild_projects={ours[1]} default_codebuild_projects={default[1]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
