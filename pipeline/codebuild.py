"""What every CodeBuild project of the pipeline shares: the build image, compute per kind of step, and the pip/npm
download caches in a build-cache bucket (the lead time from a push to prod, measured by `make bench-pipeline`)."""

from __future__ import annotations

from aws_cdk import Duration, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lib.compliance import acknowledge

BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
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
            partial_build_spec=codebuild.BuildSpec.from_object({"cache": self.document}),
        )
