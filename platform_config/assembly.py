"""The cloud assembly `cdk synth` writes (cdk.out), read without the CDK: every stack with its name, account, region
and template, nested stage assemblies included. What the unit tests assert on, the rehearsal deploys and the review
steps compare with a deployed stack: the very output the pipeline deploys, synthesized once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from platform_config.loader import REPO_ROOT

CDK_OUT = REPO_ROOT / "cdk.out"


@dataclass(frozen=True)
class StackArtifact:
    name: str  # the CloudFormation stack name
    path: str  # the stack's construct path, e.g. Pipeline/Dev/Platform
    account: str
    region: str
    template_file: Path

    @cached_property
    def template(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.template_file.read_text())
        return document


@dataclass
class CloudAssembly:
    outdir: Path
    stacks: dict[str, StackArtifact] = field(default_factory=dict)  # by construct path (names repeat across accounts)

    @classmethod
    def read(cls, outdir: Path = CDK_OUT) -> CloudAssembly:
        """Every stack of the assembly in ``outdir``; FileNotFoundError names what to run when there is none."""
        if not (outdir / "manifest.json").exists():
            raise FileNotFoundError(f"{outdir} holds no cloud assembly: run `make synth` first")
        assembly = cls(outdir)
        assembly._walk(outdir)
        return assembly

    def _walk(self, directory: Path) -> None:
        manifest = json.loads((directory / "manifest.json").read_text())
        for artifact_id, artifact in manifest.get("artifacts", {}).items():
            properties = artifact.get("properties", {})
            if artifact["type"] == "aws:cloudformation:stack":
                account, region = artifact["environment"].removeprefix("aws://").split("/")
                name = properties.get("stackName", artifact_id)
                path = artifact.get("displayName", artifact_id)
                self.stacks[path] = StackArtifact(name, path, account, region, directory / properties["templateFile"])
            elif artifact["type"] == "cdk:cloud-assembly":
                self._walk(directory / properties["directoryName"])

    def stack(self, name: str) -> StackArtifact:
        """The one stack of this CloudFormation name (a deployment's platform stack, the pipeline's)."""
        found = [stack for stack in self.stacks.values() if stack.name == name]
        if len(found) != 1:
            names = ", ".join(sorted({stack.name for stack in self.stacks.values()}))
            raise KeyError(f"{len(found)} stacks named {name} in {self.outdir} (stack names: {names})")
        return found[0]

    @property
    def validation_report(self) -> dict[str, Any]:
        """cdk-nag's and CloudFormation validation's findings, acknowledged or not (validation-report.json)."""
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return report


def construct_path(resource: dict[str, Any], logical_id: str) -> str:
    """A template resource's construct path inside its stack, as people know it: aws:cdk:path without the stack's
    own prefix and the trailing Resource/Default (Pipeline/Prod/Platform/Database/Instance/Resource ->
    Database/Instance); the logical id when the resource has no such metadata."""
    parts = str(resource.get("Metadata", {}).get("aws:cdk:path", "")).split("/")[3:]
    if parts and parts[-1] in ("Resource", "Default"):
        parts = parts[:-1]
    return "/".join(parts) or logical_id
