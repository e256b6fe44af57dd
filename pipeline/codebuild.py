"""What every CodeBuild project of the pipeline shares: the build image, Node.js and CDK tool versions pinned as
package.json pins them, compute per kind of step, and the pip/npm download caches in a build-cache bucket (the lead
time from a push to prod, measured by `make bench-pipeline`)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lib.compliance import acknowledge

BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
PACKAGE_JSON = Path(__file__).resolve().parents[1] / "package.json"
NODE_MAJOR = "22"  # the LTS package.json's `node` pins; CodeBuild's runtime of every project (CDK Pipelines' too)
# The synth runs the unit tests and cdk-nag over every stage; the Docker build needs memory; the rest are boto3 checks,
# pytest against a deployed stack, and self-mutation.
SYNTH_COMPUTE = codebuild.ComputeType.LARGE
ASSET_COMPUTE = codebuild.ComputeType.MEDIUM
STEP_COMPUTE = codebuild.ComputeType.SMALL
# Download caches of pip and npm, kept between builds. Not `.venv` or `node_modules`: CodeBuild checks the source out
# under a different /codebuild/output/src<n> path each build, and a venv's scripts and paths are absolute, so a
# restored venv would be broken; `npm ci` deletes node_modules anyway. The download caches make `pip install` and
# `npm ci` resolve from local wheels and tarballs instead.
BUILD_CACHE_PATHS = ("/root/.cache/pip/**/*", "/root/.npm/**/*")
# The action groups of Bucket.grantReadWrite (the cache's and CodePipeline's artifact-bucket grants).
# Writing JUnit test reports (every report group is of type TEST: no code-coverage action).
REPORT_ACTIONS = ("codebuild:BatchPutTestCases", "codebuild:CreateReport", "codebuild:UpdateReport")
BUCKET_READ_WRITE_ACTIONS = ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")


def pinned_tool(name: str) -> str:
    """The exact version of an npm tool package.json pins (aws-cdk, cdk-assets, node)."""
    version: str = json.loads(PACKAGE_JSON.read_text())["devDependencies"][name]
    return version


def runtime() -> dict[str, Any]:
    """The buildspec part every CodeBuild project of the pipeline shares: Node.js of package.json's major."""
    major = pinned_tool("node").split(".", 1)[0]
    if major != NODE_MAJOR:
        raise ValueError(f"package.json pins node {pinned_tool('node')}; pipeline/codebuild.py expects {NODE_MAJOR}")
    return {"phases": {"install": {"runtime-versions": {"nodejs": NODE_MAJOR}}}}


def with_runtime(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (a buildspec) with the shared Node.js runtime beside its own runtime versions (Python)."""
    spec = copy.deepcopy(document)
    install = spec.setdefault("phases", {}).setdefault("install", {})
    install["runtime-versions"] = {
        **runtime()["phases"]["install"]["runtime-versions"],
        **install.get("runtime-versions", {}),
    }
    return spec


def compute(compute_type: codebuild.ComputeType) -> pipelines.CodeBuildOptions:
    return pipelines.CodeBuildOptions(
        build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=compute_type)
    )


class BuildCache:
    """The build-cache bucket (construct id ``BuildCache`` in ``scope``) and the CodeBuild defaults that use it."""

    def __init__(self, scope: Construct) -> None:
        self.bucket = s3.Bucket(
            scope,
            "BuildCache",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(30))],
        )
        acknowledge(
            self.bucket,
            "The build-cache bucket holds only pip and npm download caches of public packages, written and read by "
            "this pipeline's CodeBuild projects (CloudTrail records access); objects expire after 30 days.",
            "AwsSolutions-S1",
        )
        self.cache = codebuild.Cache.bucket(self.bucket, prefix="dependencies")
        self.document = {"paths": list(BUILD_CACHE_PATHS)}  # the buildspec's `cache` section
        self.defaults = pipelines.CodeBuildOptions(
            build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=STEP_COMPUTE),
            cache=self.cache,
            partial_build_spec=codebuild.BuildSpec.from_object({**runtime(), "cache": self.document}),
        )

    def acknowledge_user(self, project: codebuild.IProject) -> None:
        """A project of ours (not CDK Pipelines') with ``self.cache``: CodeBuild's grant on the bucket's objects."""
        acknowledge(
            project,
            "CodeBuild's S3 cache grants the project's role the s3 action groups on the objects of the build-cache "
            "bucket only, where it reads and writes the pip/npm download-cache archive.",
            *(f"AwsSolutions-IAM5[Action::{action}]" for action in BUCKET_READ_WRITE_ACTIONS),
            f"AwsSolutions-IAM5[Resource::<{Stack.of(project).get_logical_id(self.bucket.node.default_child)}.Arn>/*]",
        )


def report_statement(*groups: codebuild.IReportGroup) -> iam.PolicyStatement:
    """Writing test reports into ``groups`` only: the report groups a project's buildspec names."""
    return iam.PolicyStatement(actions=list(REPORT_ACTIONS), resources=[g.report_group_arn for g in groups])
