"""The whole CDK app synthesized in-process, as `cdk synth` gives it: shared by the unit tests and the rehearsal.

`tests/conftest.py` synthesizes ONCE per test session through `synthesize`. Tests read the synthesized CloudFormation
(what AWS would see) through `Synth`: raw template dicts for plain assertions and one `Template` per stack for
aws_cdk.assertions matchers; nobody calls Template.from_stack per test.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
# jsii runs on the pinned Node.js 22 from package.json (npm's `node` package), like `make synth` does.
_NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
if _NODE_BIN.is_dir() and not os.environ.get("PATH", "").startswith(str(_NODE_BIN)):
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

ENVIRONMENTS = ("dev", "staging", "prod")


def cdk_context() -> dict[str, Any]:
    """The context `cdk synth` gives the app: cdk.json's context plus cdk.context.json, path metadata, no traces."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context.update(json.loads((REPO_ROOT / "cdk.context.json").read_text()))
    context["aws:cdk:enable-path-metadata"] = True
    context["aws:cdk:disable-stack-trace"] = True  # as the CLI sets it without --debug: creation traces cost seconds
    return context


@dataclass
class Synth:
    """The synthesized app: stacks, templates and the validation report."""

    app: App
    pipeline_stack: Any
    outdir: Path
    templates: dict[str, dict[str, Any]]  # "pipeline", "dev", "staging", "prod"
    report: dict[str, Any]
    _assertions: dict[str, Template]

    def template(self, name: str) -> Template:
        if name not in self._assertions:
            self._assertions[name] = Template.from_json(self.templates[name])
        return self._assertions[name]

    def resources(self, name: str, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[name]["Resources"].items() if v["Type"] == resource_type}

    def path_of(self, name: str, logical_id: str) -> str:
        return self.templates[name]["Resources"][logical_id].get("Metadata", {}).get("aws:cdk:path", "")

    def stage_stack(self, name: str) -> Any:
        """The platform stack of the named environment (its stack name, account and region)."""
        return next(s.platform for s in self.pipeline_stack.stages if s.platform.environment_suffix == name)


def synthesize(outdir: Path, platform: dict[str, Any] | None = None) -> Synth:
    """Build the app with every gate (cdk-nag, validation) and synthesize it into ``outdir``; ``platform`` replaces
    cdk.json's platform config (a second configuration, e.g. single-account, built in-process once per session)."""
    from app import build_app

    context = cdk_context()
    if platform is not None:
        context["platform"] = platform
    app = App(outdir=str(outdir), context=context)
    pipeline_stack = build_app(app)
    assembly = app.synth()
    templates = {"pipeline": assembly.get_stack_by_name(pipeline_stack.stack_name).template}
    for stage in pipeline_stack.stages:
        stack = stage.platform
        stage_assembly = assembly.get_nested_assembly(stage.artifact_id)
        templates[stack.environment_suffix] = stage_assembly.get_stack_artifact(stack.artifact_id).template
    report = json.loads((outdir / "validation-report.json").read_text())
    return Synth(app, pipeline_stack, outdir, templates, report, {})
