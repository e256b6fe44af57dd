"""Bake: after an environment's integration tests, its alarms must stay OK for `monitoring.bake_minutes` before the
next environment may be promoted (preflight.health bake, as the environment's read-only lookup role)."""

from __future__ import annotations

from aws_cdk import Duration, Stack, pipelines
from aws_cdk import aws_iam as iam

from pipeline.steps.buildspec import BuildspecStep
from pipeline.steps.preflight import check_environment
from platform_config import EnvironmentSettings
from platform_config.naming import bootstrap_role_arn


class BakeStep(BuildspecStep):
    def __init__(self, stack: Stack, settings: EnvironmentSettings, source: pipelines.IFileSetProducer) -> None:
        lookup = bootstrap_role_arn("lookup", settings.account, settings.region, stack.partition)
        super().__init__(
            "Bake",
            buildspec="preflight",
            input=source,
            env=check_environment(stack, settings, "preflight.health bake", lookup),
            role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[lookup])],
            timeout=Duration.minutes(settings.monitoring.bake_minutes + 15),
        )
