"""Pre-flight: can this deployment succeed in its account right now? (preflight/ on boto3, read-only)

Runs buildspecs/preflight.yml as the environment account's CDK bootstrap lookup role (read-only), the only role the
step may assume. A failing check fails the step, and the step comes before the deployment's CloudFormation action.
After an approval it also checks that the deployed stack is still the one the approved review was computed against
(``reviewed_base``: the review's REVIEW_BASE; preflight/review/base.py).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from pipeline.steps.buildspec import BuildspecStep
from platform_config import EnvironmentSettings
from platform_config.naming import bootstrap_role_arn, stack_name


class PreflightStep(BuildspecStep):
    def __init__(
        self,
        stack: Stack,
        settings: EnvironmentSettings,
        source: pipelines.IFileSetProducer,
        *,
        step_id: str = "Preflight",
        reviewed_base: str | None = None,
    ) -> None:
        lookup = bootstrap_role_arn("lookup", settings.account, settings.region, stack.partition)
        env = {"ENVIRONMENT": settings.name, "STACK_NAME": stack_name(settings.name), "ROLE_ARN": lookup}
        super().__init__(
            step_id,
            buildspec="preflight",
            input=source,
            env=env | ({"REVIEWED_BASE": reviewed_base} if reviewed_base else {}),
            role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[lookup])],
            cache=codebuild.Cache.none(),  # hash-pinned packages only, nothing another project wrote
            timeout=Duration.minutes(10),
        )
