"""The whole configuration: the pipeline's settings and the three environments, with where each one deploys.

Each environment has an account and region of its own; `additional_regions` deploys it to more regions (optionally in
other accounts) side by side in one wave, e.g. prod in us-east-1 and eu-west-1. Each additional region is a deployment
of its own name, ``<env>-<region>`` (stage ``Prod-eu-west-1``), with the environment's sizes and gates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import Field, StrictStr, model_validator

from platform_config.errors import ConfigError
from platform_config.rules import Problem, empty_or_matches, matches
from platform_config.settings import ACCOUNT, Emails, EnvironmentSettings, Settings, aws_region

ENVIRONMENT_NAMES = ("dev", "staging", "prod")  # also the promotion order


class NotificationSettings(Settings):
    """Who hears about pipeline failures, successes and waiting approvals: e-mails and optionally Slack."""

    emails: Emails = ()
    slack_workspace_id: Annotated[StrictStr, empty_or_matches(r"^T[A-Z0-9]{6,}$", "a Slack workspace id (T...)")] = ""
    slack_channel_id: Annotated[StrictStr, empty_or_matches(r"^[CG][A-Z0-9]{6,}$", "a Slack channel id (C...)")] = ""

    @model_validator(mode="after")
    def _slack_needs_both_ids(self) -> Self:
        if bool(self.slack_workspace_id) != bool(self.slack_channel_id):
            missing = "slack_channel_id" if self.slack_workspace_id else "slack_workspace_id"
            raise Problem(
                "must be set when the other Slack setting is (a Slack channel needs both ids)", got="", key=missing
            )
        return self


class PipelineSettings(Settings):
    account: Annotated[StrictStr, matches(*ACCOUNT)]
    region: Annotated[StrictStr, aws_region()]
    repository: Annotated[
        StrictStr, matches(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", 'a repository in the form "owner/repo"')
    ]
    connection_arn: Annotated[
        StrictStr,
        matches(
            r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[A-Za-z0-9-]+$",
            "a CodeConnections connection ARN",
        ),
    ]
    branch: Annotated[StrictStr, matches(r"^[A-Za-z0-9._/-]+$", "a git branch name")] = "main"
    notifications: NotificationSettings = NotificationSettings()
    # When every deployment is checked for drift from what git deployed (an EventBridge Scheduler expression, UTC).
    drift_schedule: Annotated[
        StrictStr,
        matches(
            r"^(cron\([^)]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$",
            'an EventBridge Scheduler expression such as "cron(0 6 * * ? *)" or "rate(12 hours)"',
        ),
    ] = "cron(0 6 * * ? *)"


class Environments(Settings):
    """dev, staging and prod, each named after its key."""

    dev: EnvironmentSettings
    staging: EnvironmentSettings
    prod: EnvironmentSettings

    @model_validator(mode="before")
    @classmethod
    def _named_by_key(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not data:
            raise Problem("must be an object with the dev, staging and prod environments", got=data)
        named = {}
        for name, env in data.items():
            if name not in ENVIRONMENT_NAMES:
                expected = ", ".join(ENVIRONMENT_NAMES)
                raise Problem(f"is not a known environment (expected {expected})", key=name)
            if isinstance(env, Mapping):
                if "name" in env:
                    raise Problem("is not a known setting", key=f"{name}.name")
                env = {**env, "name": name}
            named[name] = env
        return named


class PlatformConfig(Settings):
    pipeline: PipelineSettings
    environments_by_name: Environments = Field(alias="environments")

    @property
    def environments(self) -> tuple[EnvironmentSettings, ...]:
        """dev, staging, prod: the promotion order."""
        return tuple(getattr(self.environments_by_name, name) for name in ENVIRONMENT_NAMES)

    def deployments(self, env: EnvironmentSettings) -> tuple[EnvironmentSettings, ...]:
        """Where ``env`` deploys, side by side in one wave: its primary region first, then each additional one."""
        replicas = tuple(
            env.model_copy(
                update={
                    "name": f"{env.name}-{extra.region}",
                    "region": extra.region,
                    "availability_zones": extra.availability_zones,
                    "account": extra.account or env.account,
                    "additional_regions": (),
                }
            )
            for extra in env.additional_regions
        )
        return (env, *replicas)

    @property
    def all_deployments(self) -> tuple[EnvironmentSettings, ...]:
        return tuple(d for env in self.environments for d in self.deployments(env))

    @property
    def cross_account(self) -> bool:
        """Whether any deployment is in an account other than the pipeline's (then artifacts need a KMS key)."""
        return any(env.account != self.pipeline.account for env in self.all_deployments)

    def environment(self, name: str) -> EnvironmentSettings:
        """A deployment by name: dev, staging, prod, or <env>-<region> of an additional region."""
        for env in self.all_deployments:
            if env.name == name:
                return env
        raise ConfigError(f"Invalid config: environments.{name} is not a configured environment.")
