"""Pre-flight: can this deployment succeed in its account right now? (preflight/ on boto3, read-only)

Runs buildspecs/preflight.yml as the environment account's CDK bootstrap lookup role (read-only), the only role the
step may assume. A failing check fails the step, and the step comes before the deployment's CloudFormation action.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack, pipelines
from aws_cdk import aws_iam as iam

from pipeline.steps.buildspec import BuildspecStep
from platform_config import EnvironmentSettings
from platform_config.naming import bootstrap_role_arn, stack_name


def check_environment(
    stack: Stack, settings: EnvironmentSettings, check: str, role: str, **extra: str
) -> dict[str, str]:
    """The variables buildspecs/preflight.yml reads: which check, against which deployment, as which role."""
    return {
        "CHECK": check,
        "ENVIRONMENT": settings.name,
        "STACK_NAME": stack_name(settings.name),
        "ROLE_ARN": role,
        "PARTITION": stack.partition,
        **extra,
    }


class PreflightStep(BuildspecStep):
    def __init__(
        self,
        stack: Stack,
        settings: EnvironmentSettings,
        source: pipelines.IFileSetProducer,
        *,
        step_id: str = "Preflight",
        arm_rollback: bool = False,
    ) -> None:
        lookup = bootstrap_role_arn("lookup", settings.account, settings.region, stack.partition)
        roles, extra = [lookup], {}
        if arm_rollback:  # prod: after the checks pass, the same build arms rollback triggers as the deploy role
            extra["ARM_ROLE_ARN"] = bootstrap_role_arn("deploy", settings.account, settings.region, stack.partition)
            roles.append(extra["ARM_ROLE_ARN"])
        super().__init__(
            step_id,
            buildspec="preflight",
            input=source,
            env=check_environment(stack, settings, "preflight", lookup, **extra),
            role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=roles)],
            timeout=Duration.minutes(60 if arm_rollback else 10),
        )
