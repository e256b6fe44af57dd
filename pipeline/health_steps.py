"""The pipeline's health steps around each deployment, all running buildspecs/preflight.yml (preflight/ on boto3).

- ``Preflight`` before every stage's deployment (after prod's manual approval): can it deploy, in seconds?
- ``Bake`` after the integration tests of an environment with ``monitoring.bake_minutes`` > 0 (staging): its alarms
  must stay OK that long, so prod's approval is only offered after staging proved healthy.
- ``ArmRollback`` before the deployment of an environment with ``monitoring.rollback_on_alarm`` (prod): CloudFormation
  rollback triggers on the stack watch its users-hurt composite alarm, so a deployment whose alarms fire rolls back.
  With ``arm_in_preflight`` the pre-flight build arms them itself right after its checks pass (one build, same order).

The steps reach the environment's account through the CDK bootstrap roles it already trusts the pipeline account
with: the read-only lookup role for pre-flight and bake, the deploy role (CloudFormation only) to arm rollback
triggers. Each step's own role may assume exactly the roles of its checks and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aws_cdk import Duration, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from lib.compliance import acknowledge
from stages.platform_stage import IotPlatformStage

PREFLIGHT_BUILDSPEC = Path(__file__).resolve().parents[1] / "buildspecs" / "preflight.yml"
BOOTSTRAP_QUALIFIER = "hnb659fds"


def bootstrap_role_arn(partition: str, kind: str, account: str, region: str) -> str:
    """ARN of a CDK bootstrap role (kind: lookup, deploy) in an environment account."""
    return f"arn:{partition}:iam::{account}:role/cdk-{BOOTSTRAP_QUALIFIER}-{kind}-role-{account}-{region}"


@dataclass
class HealthSteps:
    """The health steps of one stage, for the wave's pre/post lists and for dashboards."""

    preflight: pipelines.CodeBuildStep
    pre: list[pipelines.CodeBuildStep] = field(default_factory=list)  # the pre-flight first
    post: list[pipelines.CodeBuildStep] = field(default_factory=list)

    @property
    def all(self) -> list[pipelines.CodeBuildStep]:
        return [*self.pre, *self.post]


def _step(
    stack: Stack,
    name: str,
    stage: IotPlatformStage,
    source: pipelines.IFileSetProducer,
    check: str,
    role_kind: str,
    timeout: Duration,
    *,
    arm_rollback: bool = False,
) -> pipelines.CodeBuildStep:
    settings = stage.settings
    role_arn = bootstrap_role_arn(stack.partition, role_kind, settings.account, settings.region)
    env = {
        "CHECK": check,
        "ENVIRONMENT": settings.name,
        "STACK_NAME": stage.platform.stack_name,
        "ROLE_ARN": role_arn,
        "PARTITION": stack.partition,
    }
    roles = [role_arn]
    if arm_rollback:  # buildspecs/preflight.yml arms rollback triggers after the checks, as the deploy role
        env["ARM_ROLE_ARN"] = bootstrap_role_arn(stack.partition, "deploy", settings.account, settings.region)
        roles.append(env["ARM_ROLE_ARN"])
    return pipelines.CodeBuildStep(
        name,
        input=source,
        commands=[],
        partial_build_spec=codebuild.BuildSpec.from_object(yaml.safe_load(PREFLIGHT_BUILDSPEC.read_text())),
        env=env,
        role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=roles)],
        timeout=timeout,
    )


def health_steps(
    stack: Stack,
    stage: IotPlatformStage,
    source: pipelines.IFileSetProducer,
    *,
    after_approval: pipelines.Step | None = None,
    after_tests: pipelines.Step | None = None,
    preflight_id: str = "Preflight",
    arm_in_preflight: bool = False,
) -> HealthSteps:
    """Pre-flight (and rollback arming) before the stage's deployment, the bake after its integration tests."""
    monitoring = stage.settings.monitoring
    arm_in_preflight = arm_in_preflight and monitoring.rollback_on_alarm
    preflight = _step(
        stack,
        preflight_id,
        stage,
        source,
        "preflight",
        "lookup",
        Duration.minutes(60 if arm_in_preflight else 10),
        arm_rollback=arm_in_preflight,
    )
    if after_approval is not None:
        preflight.add_step_dependency(after_approval)
    steps = HealthSteps(preflight=preflight, pre=[preflight])
    if monitoring.rollback_on_alarm and not arm_in_preflight:
        arm = _step(
            stack,
            "ArmRollback",
            stage,
            source,
            "preflight.health arm-rollback",
            "deploy",
            Duration.minutes(60),
        )
        arm.add_step_dependency(preflight)
        steps.pre.append(arm)
    if monitoring.bake_minutes > 0:
        bake = _step(
            stack,
            "Bake",
            stage,
            source,
            "preflight.health bake",
            "lookup",
            Duration.minutes(monitoring.bake_minutes + 15),
        )
        if after_tests is not None:
            bake.add_step_dependency(after_tests)
        steps.post.append(bake)
    return steps


def acknowledge_step_grants(stack: Stack, steps: list[pipelines.CodeBuildStep]) -> None:
    """The CodeBuild log and report grants CDK Pipelines gives each health step's project (call after building)."""
    region, account = stack.region, stack.account
    for step in steps:
        project = stack.get_logical_id(step.project.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            step.project,
            "CDK Pipelines lets each health-step project write its own CodeBuild log streams and report groups "
            "(names derived from the project) and read the pipeline's source artifact; the step's only other "
            "permission is assuming one CDK bootstrap role of its environment.",
            f"AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/<{project}>:*]",
            f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/<{project}>-*]",
        )
