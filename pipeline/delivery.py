"""How the pipeline runs its steps: the settings that shorten the lead time from a push to prod, and CDK Pipelines'
out-of-the-box settings that `make bench-pipeline` compares against (scripts/bench_pipeline.py).

No gate depends on these: unit tests, cdk-nag and cfn-lint (synth step), pre-flight, integration tests, bake, the
manual approval and rollback arming run in either variant, in the same dependency order.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_codebuild as codebuild

# Download caches of pip and npm, kept in the pipeline's build-cache bucket between builds. Not `.venv` or
# `node_modules`: CodeBuild checks the source out under a different /codebuild/output/src<n> path each build, and a
# venv's scripts and paths are absolute, so a restored venv would be broken; `npm ci` deletes node_modules anyway.
# The download caches make `pip install` and `npm ci` resolve from local wheels and tarballs instead.
BUILD_CACHE_PATHS = ("/root/.cache/pip/**/*", "/root/.npm/**/*")


@dataclass(frozen=True)
class DeliveryOptions:
    """Lead-time settings of the pipeline. The defaults are this project's; `CDK_PIPELINES_DEFAULTS` is the baseline."""

    # Deploy each stack directly (one CloudFormation action) instead of Prepare (create change set) + Deploy
    # (execute it). Nothing reviews the change set between the two, so the direct update is equally safe.
    use_change_sets: bool = False
    # One CodeBuild project publishes every asset of a type (one action), instead of one project per asset.
    single_asset_publisher: bool = True
    # pip and npm download caches in an S3 build-cache bucket (BUILD_CACHE_PATHS).
    build_cache: bool = True
    # Compute per step: LARGE for the synth (unit tests + cdk-nag over every stage), MEDIUM for the Docker asset
    # build, SMALL for the rest (boto3 checks, pytest against a deployed stack, self-mutation).
    right_sized_compute: bool = True
    # Pre-flight of an environment without an approval runs alongside the work before its stage (dev's with the
    # asset publishing, staging's with dev's integration tests) instead of in front of its deployment. Both are
    # read-only checks of the environment's own account, and the stage cannot start before they pass.
    early_preflight: bool = True
    # Prod's pre-flight and its rollback arming run in one build, pre-flight first: a failing pre-flight still stops
    # before CloudFormation is called, and one CodeBuild provisioning and install is saved.
    preflight_arms_rollback: bool = True


CDK_PIPELINES_DEFAULTS = DeliveryOptions(
    use_change_sets=True,
    single_asset_publisher=False,
    build_cache=False,
    right_sized_compute=False,
    early_preflight=False,
    preflight_arms_rollback=False,
)

SYNTH_COMPUTE = codebuild.ComputeType.LARGE
ASSET_COMPUTE = codebuild.ComputeType.MEDIUM
STEP_COMPUTE = codebuild.ComputeType.SMALL
