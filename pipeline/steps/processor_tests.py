"""ProcessorTests: the processor's own tests (tests/processor, real PostgreSQL 15 and Redis), beside the synth and so
before any asset is published: the image the pipeline ships is the one its tests passed on.

The step runs on the processor image's own base (the `PYTHON_IMAGE` of services/processor/Dockerfile, from ECR
Public), so the tests run on the Python and Debian the processor runs on, with Debian's PostgreSQL 15 (RDS's major).
"""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import Duration, pipelines
from aws_cdk import aws_codebuild as codebuild

from pipeline.codebuild import report_statement
from pipeline.steps.buildspec import BuildspecStep

DOCKERFILE = Path(__file__).resolve().parents[2] / "services" / "processor" / "Dockerfile"


def processor_base_image() -> str:
    """The processor image's base, as its Dockerfile names it (`ARG PYTHON_IMAGE=...`)."""
    match = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    if match is None:
        raise ValueError(f"{DOCKERFILE} names no base image (ARG PYTHON_IMAGE=...)")
    return match[1]


# CB5 (a custom build image) on every project that runs the processor's tests: the pipeline's and the pull requests'.
ON_PROCESSOR_BASE = (
    "The processor's tests run on the processor image's own base (Debian bookworm Python from ECR Public, "
    "pinned by tag in services/processor/Dockerfile): the Python and PostgreSQL 15 it runs with in ECS; "
    "CodeBuild's own Ubuntu images carry PostgreSQL 14.",
    ("AwsSolutions-CB5",),
)


def processor_test_environment() -> codebuild.BuildEnvironment:
    return codebuild.BuildEnvironment(
        build_image=codebuild.LinuxBuildImage.from_docker_registry(processor_base_image()),
        compute_type=codebuild.ComputeType.MEDIUM,
    )


class ProcessorTestsStep(BuildspecStep):
    acknowledgements = (ON_PROCESSOR_BASE,)

    def __init__(self, source: pipelines.IFileSetProducer, reports: codebuild.IReportGroup) -> None:
        super().__init__(
            "ProcessorTests",
            buildspec="processor-tests",
            reports={"processor-tests": reports.report_group_arn},
            input=source,
            build_environment=processor_test_environment(),
            role_policy_statements=[report_statement(reports)],
            timeout=Duration.minutes(30),
        )
