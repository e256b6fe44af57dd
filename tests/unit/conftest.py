"""Session fixtures for the CDK unit tests: the whole app is synthesized ONCE per test session.

Tests read the synthesized CloudFormation (what AWS would see) through `Synth`: raw template dicts for plain
assertions and one `Template` per stack for aws_cdk.assertions matchers; nobody calls Template.from_stack per test.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
# jsii runs on the pinned Node.js 22 from package.json (npm's `node` package), like `make synth` does.
_NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
if _NODE_BIN.is_dir() and not os.environ.get("PATH", "").startswith(str(_NODE_BIN)):
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

ENVIRONMENTS = ("dev", "staging", "prod")


def cdk_context() -> dict[str, Any]:
    """The context `cdk synth` gives the app: cdk.json's context plus cdk.context.json, and path metadata."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context.update(json.loads((REPO_ROOT / "cdk.context.json").read_text()))
    context["aws:cdk:enable-path-metadata"] = True
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


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    from app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(outdir=str(outdir), context=cdk_context())
    pipeline_stack = build_app(app)
    assembly = app.synth()
    templates = {"pipeline": assembly.get_stack_by_name(pipeline_stack.stack_name).template}
    for stage in pipeline_stack.stages:
        stack = stage.platform
        stage_assembly = assembly.get_nested_assembly(stage.artifact_id)
        templates[stack.environment_suffix] = stage_assembly.get_stack_artifact(stack.artifact_id).template
    report = json.loads((outdir / "validation-report.json").read_text())
    yield Synth(app, pipeline_stack, outdir, templates, report, {})
