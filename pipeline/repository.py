"""The repository as a CodeBuild source outside CodePipeline (pull requests, drift detection): GitHub through the same
CodeConnections connection the pipeline's source uses.

aws-cdk-lib 2.275.0's `Source.git_hub` takes no connection, so each project's source is given the connection as its
authorization (CloudFormation `Source.Auth` CODECONNECTIONS) and its role may use that connection and nothing else.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from constructs import Construct

from lib.compliance import acknowledge
from platform_config import PipelineSettings


def repository_project(
    scope: Construct,
    construct_id: str,
    settings: PipelineSettings,
    source: dict[str, Any],
    **project: Any,
) -> codebuild.Project:
    """A CodeBuild project building the repository (``source``: options of `Source.git_hub`), authorized through the
    pipeline's connection. It keeps no build artifacts: what it finds goes to its log, reports, metrics and topic."""
    owner, repo = settings.repository.split("/", 1)
    built = codebuild.Project(
        scope, construct_id, source=codebuild.Source.git_hub(owner=owner, repo=repo, **source), **project
    )
    _connect(built, settings)
    acknowledge(
        built,
        "The project has no build output artifacts (source GitHub, artifacts NO_ARTIFACTS) for a KMS key to "
        "encrypt; its only S3 object is the pip/npm download cache of public packages in the build-cache bucket.",
        "AwsSolutions-CB4",
    )
    return built


def _connect(project: codebuild.Project, settings: PipelineSettings) -> None:
    """Authorize ``project``'s GitHub source through the pipeline's CodeConnections connection."""
    cfn = project.node.default_child
    assert isinstance(cfn, codebuild.CfnProject)
    cfn.add_property_override("Source.Auth", {"Type": "CODECONNECTIONS", "Resource": settings.connection_arn})
    project.add_to_role_policy(
        iam.PolicyStatement(
            actions=[
                "codeconnections:GetConnection",
                "codeconnections:GetConnectionToken",
                "codeconnections:UseConnection",
            ],
            resources=[settings.connection_arn],
        )
    )
