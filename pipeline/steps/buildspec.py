"""Buildspecs live in buildspecs/ as plain files (readable, diffable); each step loads its own and binds its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import pipelines

BUILDSPECS = Path(__file__).resolve().parents[2] / "buildspecs"


def buildspec_document(name: str, reports: dict[str, str] | None = None) -> dict[str, Any]:
    """buildspecs/<name>.yml as a dict; ``reports`` maps each report key of the file to its report group's ARN."""
    spec: dict[str, Any] = yaml.safe_load((BUILDSPECS / f"{name}.yml").read_text())
    if reports:
        spec["reports"] = {arn: spec["reports"][key] for key, arn in reports.items()}
    return spec


class BuildspecStep(pipelines.CodeBuildStep):
    """A CodeBuildStep whose buildspec is buildspecs/<buildspec>.yml; `document` keeps it as a dict, and
    `acknowledgements` the reviewed cdk-nag findings of the project it becomes ((reason, rule ids) pairs)."""

    acknowledgements: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __init__(self, step_id: str, *, buildspec: str, reports: dict[str, str] | None = None, **options: Any) -> None:
        self.document = buildspec_document(buildspec, reports)
        super().__init__(
            step_id, commands=[], partial_build_spec=codebuild.BuildSpec.from_object(self.document), **options
        )
