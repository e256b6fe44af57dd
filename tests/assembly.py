"""The cloud assembly `make synth` wrote (cdk.out, or $CDK_OUT), as the tests read it: the very templates the pipeline
deploys, synthesized once with every gate. `read_synth` refuses a cdk.out older than the code that makes it, so a test
never passes on a stale assembly; the `synth` fixture (tests/conftest.py) reads it once per session."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from platform_config import PlatformConfig, cdk_context, load_config_file
from platform_config.assembly import CDK_OUT, CloudAssembly, StackArtifact
from platform_config.loader import REPO_ROOT
from platform_config.naming import stack_name

__all__ = ["ENVIRONMENTS", "REPO_ROOT", "Synth", "cdk_context"]

ENVIRONMENTS = ("dev", "staging", "prod")
# What the cloud assembly is made from: a change to any of these makes cdk.out stale.
SOURCES = ("app.py", "cdk.json", "cdk.context.json", "lib", "stages", "pipeline", "platform_config", "buildspecs")


@dataclass
class Synth:
    """The synthesized app: each deployment's template by its name ("dev", ...), "pipeline", and the gates' report."""

    assembly: CloudAssembly
    config: PlatformConfig

    def __post_init__(self) -> None:
        self.outdir = self.assembly.outdir
        self.report = self.assembly.validation_report
        self.templates = {"pipeline": self.assembly.stack("Pipeline").template} | {
            env.name: self.stage_stack(env.name).template for env in self.config.all_deployments
        }

    def stage_stack(self, deployment: str) -> StackArtifact:
        return self.assembly.stack(stack_name(deployment))

    def resources(self, name: str, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[name]["Resources"].items() if v["Type"] == resource_type}

    def path_of(self, name: str, logical_id: str) -> str:
        return self.templates[name]["Resources"][logical_id].get("Metadata", {}).get("aws:cdk:path", "")


def _newest_source() -> tuple[float, Path]:
    files = [p for s in SOURCES for p in ([REPO_ROOT / s] if (REPO_ROOT / s).is_file() else (REPO_ROOT / s).rglob("*"))]
    return max((p.stat().st_mtime, p) for p in files if p.is_file() and "__pycache__" not in p.parts)


def read_synth() -> Synth:
    outdir = Path(os.environ.get("CDK_OUT", CDK_OUT))
    try:
        assembly = CloudAssembly.read(outdir)
    except FileNotFoundError as error:
        raise pytest.UsageError(str(error)) from None
    newest, source = _newest_source()
    if (outdir / "manifest.json").stat().st_mtime < newest:
        raise pytest.UsageError(f"{outdir} is older than {source.relative_to(REPO_ROOT)}: run `make synth` first")
    return Synth(assembly, load_config_file())
