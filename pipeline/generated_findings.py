"""cdk-nag acknowledgements of what CDK Pipelines (and CodeBuild's L2) generate for the pipeline's own roles.

Reviewed once, here, instead of beside our constructs: these grants are CDK Pipelines' design (artifact bucket and key
action groups, CodeBuild log groups and report groups named after each project), each scoped to this pipeline.
tests/unit pins the full list (acknowledged_findings.txt), so a new one is a reviewed diff.
"""

from __future__ import annotations

from aws_cdk import Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lib.compliance import acknowledge
from pipeline.codebuild import BUCKET_READ_WRITE_ACTIONS


def _logical_id(stack: Stack, construct: object) -> str:
    return stack.get_logical_id(construct.node.default_child)  # type: ignore[attr-defined]


def _own_log_and_report_grants(stack: Stack, project: codebuild.IProject) -> tuple[str, str]:
    """The findings of CodeBuild's grants on a project's own log group and report groups (named after the project)."""
    region, account, name = stack.region, stack.account, _logical_id(stack, project)
    return (
        f"AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/<{name}>:*]",
        f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/<{name}>-*]",
    )


def acknowledge_project_grants(
    stack: Stack, projects: list[codebuild.IProject], roles: dict[str, Construct] | None = None
) -> None:
    """Each step project may write its own CodeBuild log streams and report groups (names derived from the project);
    ``roles`` maps a project's node path to the role of its own it runs with, where those grants then land."""
    for project in projects:
        acknowledge(
            (roles or {}).get(project.node.path, project),
            "CodeBuild lets each step's project write its own log streams and report groups (names derived from the "
            "project) and read the pipeline's source artifact; the step's other permissions are listed on the step.",
            *_own_log_and_report_grants(stack, project),
        )


def acknowledge_cdk_pipelines(
    stack: Stack,
    pipeline: pipelines.CodePipeline,
    *,
    projects: list[codebuild.IProject],
    extra_scopes: list[Construct],
    build_cache: s3.IBucket,
    cross_account: bool,
) -> None:
    """The wildcard grants CDK Pipelines gives its own roles; ``projects`` are the steps' projects it built, and
    ``extra_scopes`` hold CodeBuild projects of ours that share its defaults (cache bucket, artifact encryption)."""
    region, account = stack.region, stack.account
    code_pipeline = pipeline.pipeline
    bucket = _logical_id(stack, code_pipeline.artifact_bucket)
    acknowledge(
        code_pipeline.artifact_bucket,
        "The artifact bucket holds only transient pipeline artifacts, encrypted with the pipeline's KMS key and "
        "reachable only by the pipeline's roles (CloudTrail records access); an access-log bucket would need "
        "its own log bucket in turn.",
        "AwsSolutions-S1",
    )
    artifact_grants = [f"AwsSolutions-IAM5[Action::{action}]" for action in BUCKET_READ_WRITE_ACTIONS] + [
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
    ]
    own_projects = [pipeline.synth_project, pipeline.self_mutation_project, *projects]
    codebuild_grants = [
        f"AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/*]",
        f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/*]",
    ] + [grant for project in own_projects for grant in _own_log_and_report_grants(stack, project)]
    acknowledge(
        pipeline,
        "CDK Pipelines grants its own roles read/write on objects of the pipeline's artifact bucket (s3 and kms "
        "action groups, objects under the bucket ARN) and on their own CodeBuild log groups and report groups; "
        "every grant is scoped to this pipeline's bucket, key and projects.",
        *artifact_grants,
        *codebuild_grants,
    )
    for scope in extra_scopes:
        acknowledge(
            scope,
            "A CodeBuild action reads its input artifact through the pipeline's artifact bucket and key: CodePipeline's"
            " action binding grants the project's role the s3 and kms action groups on that one bucket and key.",
            *artifact_grants,
        )
    for support_region, support in sorted(code_pipeline.cross_region_support.items()):  # a wave across regions
        bucket_name = stack.resolve(support.replication_bucket.bucket_name)
        acknowledge(
            support.replication_bucket,
            f"CodePipeline's replication bucket in {support_region} holds only copies of this pipeline's transient "
            "artifacts for the deployments in that region, reachable only by the pipeline's roles.",
            "AwsSolutions-S1",
        )
        acknowledge(
            pipeline,
            f"The pipeline's role copies artifacts to objects of its replication bucket in {support_region} "
            "(CodePipeline cross-region actions); the grant is scoped to that one bucket.",
            f"AwsSolutions-IAM5[Resource::arn:aws:s3:::{bucket_name}/*]",
        )
    if not cross_account:
        for scope in (pipeline, *extra_scopes):
            acknowledge(
                scope,
                "Every environment is in the pipeline's own account, so the pipeline has no cross-account KMS key: "
                "its CodeBuild projects encrypt build artifacts with the AWS-managed S3 key of the artifact bucket.",
                "AwsSolutions-CB4",
            )
    for scope in (pipeline, *extra_scopes):
        acknowledge(
            scope,
            "Every CodeBuild project of the pipeline reads and writes the pip/npm download-cache archive under "
            "its own key in the build-cache bucket; the grant is scoped to the objects of that bucket only.",
            f"AwsSolutions-IAM5[Resource::<{_logical_id(stack, build_cache)}.Arn>/*]",
        )
    acknowledge(
        pipeline,
        "Self-mutation and asset publishing assume the CDK bootstrap roles (cdk-*) of the target accounts and "
        "call ecr:GetAuthorizationToken / cloudformation:DescribeStacks, which take no narrower resource.",
        "AwsSolutions-IAM5[Resource::*]",
        f"AwsSolutions-IAM5[Resource::arn:*:iam::{account}:role/*]",
    )
