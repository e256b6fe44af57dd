"""Typed, validated configuration of the pipeline and of every environment, read once from cdk.json.

`load_config` turns the raw ``platform`` context object into frozen dataclasses. Any problem is raised as a
single `ConfigError` whose message is one sentence naming the offending key, e.g.
``Invalid config: environments.prod.account must be a 12-digit AWS account id, got "abc".``

Each environment has an account and region of its own; `additional_regions` deploys it to more regions (optionally
in other accounts) side by side in one wave, e.g. prod in us-east-1 and eu-west-1. Each additional region is an
environment of its own name, ``<env>-<region>`` (stage ``Prod-eu-west-1``), with the environment's sizes.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lib.settings import INTERFACE_ENDPOINTS, REMOVAL_POLICIES, EnvironmentSettings

CONTEXT_KEY = "platform"
ENVIRONMENT_NAMES = ("dev", "staging", "prod")

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[A-Za-z0-9-]+$"
)
_CIDR = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$")
_POSTGRES_15 = re.compile(r"^15\.\d+$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_CACHE_NODE = re.compile(r"^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


class ConfigError(ValueError):
    """Invalid configuration; the message is one sentence naming the key."""


@dataclass(frozen=True)
class NotificationSettings:
    """Who hears about pipeline failures, successes and waiting approvals: e-mails and optionally Slack."""

    emails: tuple[str, ...] = ()
    slack_workspace_id: str = ""
    slack_channel_id: str = ""


@dataclass(frozen=True)
class PipelineSettings:
    account: str
    region: str
    repository: str
    connection_arn: str
    branch: str = "main"
    notifications: NotificationSettings = field(default_factory=NotificationSettings)


@dataclass(frozen=True)
class RegionSettings:
    """One more region an environment deploys to, in the same wave as its primary region."""

    region: str
    availability_zones: tuple[str, ...]
    account: str = ""  # empty: the environment's own account


@dataclass(frozen=True)
class PlatformConfig:
    pipeline: PipelineSettings
    environments: tuple[EnvironmentSettings, ...]
    additional_regions: Mapping[str, tuple[RegionSettings, ...]] = field(default_factory=dict)

    def deployments(self, env: EnvironmentSettings) -> tuple[EnvironmentSettings, ...]:
        """Where ``env`` deploys, side by side in one wave: its primary region first, then each additional one."""
        return (
            env,
            *(
                dataclasses.replace(
                    env,
                    name=f"{env.name}-{extra.region}",
                    region=extra.region,
                    availability_zones=extra.availability_zones,
                    account=extra.account or env.account,
                )
                for extra in self.additional_regions.get(env.name, ())
            ),
        )

    @property
    def all_deployments(self) -> tuple[EnvironmentSettings, ...]:
        return tuple(d for env in self.environments for d in self.deployments(env))

    @property
    def cross_account(self) -> bool:
        """Whether any deployment is in an account other than the pipeline's (then artifacts need a KMS key)."""
        return any(env.account != self.pipeline.account for env in self.all_deployments)

    def environment(self, name: str) -> EnvironmentSettings:
        for env in self.all_deployments:
            if env.name == name:
                return env
        raise ConfigError(f"Invalid config: environments.{name} is not a configured environment.")


def _fail(key: str, message: str, value: Any) -> ConfigError:
    return ConfigError(f"Invalid config: {key} {message}, got {json.dumps(value, default=str)}.")


def _int_range(low: int, high: int) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if not low <= value <= high:
            raise _fail(key, f"must be between {low} and {high}", value)

    return check


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if not regex.match(value):
            raise _fail(key, f"must be {what}", value)

    return check


def _one_of(choices: tuple[str, ...]) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if value not in choices:
            raise _fail(key, f"must be one of {', '.join(choices)}", value)

    return check


def _int_in(choices: tuple[int, ...]) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if value not in choices:
            raise _fail(key, f"must be one of {', '.join(map(str, choices))}", value)

    return check


_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653)


def _cidr(key: str, value: Any) -> None:
    match = _CIDR.match(value)
    if not match or any(int(octet) > 255 for octet in match.groups()[:4]) or not 16 <= int(match[5]) <= 24:
        raise _fail(key, "must be an IPv4 CIDR block with a prefix between /16 and /24", value)


def _emails(key: str, value: Any) -> None:
    bad = [v for v in value if not _EMAIL.match(v)]
    if bad:
        raise _fail(key, "must only list e-mail addresses such as ops@example.com", bad[0])


def _optional(regex: re.Pattern[str], what: str) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if value and not regex.match(value):
            raise _fail(key, f"must be empty or {what}", value)

    return check


def _endpoints(key: str, value: Any) -> None:
    unknown = [v for v in value if v not in INTERFACE_ENDPOINTS]
    if unknown:
        raise _fail(key, f"must only name interface endpoints among {', '.join(INTERFACE_ENDPOINTS)}", value)


# Checks by dotted field name (relative to the dataclass that holds it).
_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "PipelineSettings.account": _pattern(_ACCOUNT, "a 12-digit AWS account id"),
    "PipelineSettings.region": _pattern(_REGION, "an AWS region name such as us-east-1"),
    "PipelineSettings.repository": _pattern(_REPOSITORY, 'a repository in the form "owner/repo"'),
    "PipelineSettings.connection_arn": _pattern(_CONNECTION_ARN, "a CodeConnections connection ARN"),
    "PipelineSettings.branch": _pattern(re.compile(r"^[A-Za-z0-9._/-]+$"), "a git branch name"),
    "EnvironmentSettings.account": _pattern(_ACCOUNT, "a 12-digit AWS account id"),
    "RegionSettings.region": _pattern(_REGION, "an AWS region name such as eu-west-1"),
    "RegionSettings.account": _optional(_ACCOUNT, "a 12-digit AWS account id"),
    "EnvironmentSettings.region": _pattern(_REGION, "an AWS region name such as us-east-1"),
    "EnvironmentSettings.log_retention_days": _int_in(_LOG_RETENTION_DAYS),
    "EnvironmentSettings.removal_policy": _one_of(("destroy", "retain")),
    "NetworkSettings.cidr": _cidr,
    "NetworkSettings.nat_gateways": _int_range(0, 3),
    "NetworkSettings.interface_endpoints": _endpoints,
    "NetworkSettings.flow_log_retention_days": _int_in(_LOG_RETENTION_DAYS),
    "StreamSettings.capacity_mode": _one_of(("PROVISIONED", "ON_DEMAND")),
    "StreamSettings.shard_count": _int_range(1, 100),
    "StreamSettings.retention_hours": _int_range(24, 8760),
    "DatabaseSettings.engine_version": _pattern(_POSTGRES_15, 'a PostgreSQL 15 minor version such as "15.17"'),
    "DatabaseSettings.instance_type": _pattern(_INSTANCE_TYPE, 'an instance type such as "t4g.micro"'),
    "DatabaseSettings.allocated_storage_gib": _int_range(20, 1000),
    "DatabaseSettings.max_allocated_storage_gib": _int_range(20, 4000),
    "DatabaseSettings.backup_retention_days": _int_range(1, 35),
    "DatabaseSettings.removal_policy": _one_of(REMOVAL_POLICIES),
    "DatabaseSettings.database_name": _pattern(re.compile(r"^[a-z][a-z0-9_]{0,62}$"), "a PostgreSQL identifier"),
    "DatabaseSettings.username": _pattern(re.compile(r"^[a-z][a-z0-9_]{0,15}$"), "a PostgreSQL user name"),
    "DatabaseSettings.rotation_days": _int_range(1, 365),
    "CacheSettings.engine_version": _one_of(("6.2", "7.0", "7.1")),
    "CacheSettings.node_type": _pattern(_CACHE_NODE, 'a node type such as "cache.t4g.micro"'),
    "CacheSettings.num_cache_clusters": _int_range(1, 6),
    "CacheSettings.snapshot_retention_days": _int_range(0, 35),
    "FileStorageSettings.transition_to_ia_days": _int_in((1, 7, 14, 30, 60, 90)),
    "FileStorageSettings.removal_policy": _one_of(("destroy", "retain")),
    "ServiceSettings.cpu": _int_in((256, 512, 1024, 2048, 4096)),
    "ServiceSettings.memory_mib": _int_range(512, 30720),
    "ServiceSettings.consume_min_tasks": _int_range(1, 50),
    "ServiceSettings.consume_max_tasks": _int_range(1, 50),
    "ServiceSettings.serve_min_tasks": _int_range(1, 50),
    "ServiceSettings.serve_max_tasks": _int_range(1, 50),
    "ServiceSettings.cpu_target_percent": _int_range(10, 90),
    "ServiceSettings.max_iterator_age_ms": _int_range(1_000, 3_600_000),
    "ApiSettings.throttle_rate_limit": _int_range(1, 10_000),
    "ApiSettings.throttle_burst_limit": _int_range(1, 5_000),
    "NotificationSettings.emails": _emails,
    "NotificationSettings.slack_workspace_id": _optional(re.compile(r"^T[A-Z0-9]{6,}$"), "a Slack workspace id (T...)"),
    "NotificationSettings.slack_channel_id": _optional(re.compile(r"^[CG][A-Z0-9]{6,}$"), "a Slack channel id (C...)"),
    "MonitoringSettings.alarm_emails": _emails,
    "MonitoringSettings.api_5xx_percent": _int_range(1, 100),
    "MonitoringSettings.api_p99_latency_ms": _int_range(50, 29_000),
    "MonitoringSettings.iterator_age_alarm_ms": _int_range(1_000, 86_400_000),
    "MonitoringSettings.dead_letters_per_5_minutes": _int_range(1, 1_000_000),
    "MonitoringSettings.db_min_free_storage_gib": _int_range(1, 1000),
    "MonitoringSettings.bake_minutes": _int_range(0, 720),
    "MonitoringSettings.rollback_monitoring_minutes": _int_range(0, 180),
}

_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _convert(key: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key)
    if origin is tuple:
        (item,) = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
            raise _fail(key, f"must be a list of {_TYPE_NAMES[item].split(' ', 1)[1]}s", value)
        return tuple(value)
    if origin is types.UnionType:  # pragma: no cover - no optional settings today
        hint = typing.get_args(hint)[0]
    wrong_type = not isinstance(value, hint) or (hint is int and isinstance(value, bool))
    if wrong_type:
        raise _fail(key, f"must be {_TYPE_NAMES[hint]}", value)
    return value


def _build(cls: Any, raw: Any, prefix: str) -> Any:
    if not isinstance(raw, Mapping):
        raise _fail(prefix, "must be an object", raw)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in raw:
        if name not in fields or not fields[name].init or name in ("name", "image_directory"):
            raise ConfigError(f"Invalid config: {prefix}.{name} is not a known setting.")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name in ("name", "image_directory"):
            continue
        key = f"{prefix}.{name}"
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"Invalid config: {key} is required.")
            continue
        value = _convert(key, hints[name], raw[name])
        check = _CHECKS.get(f"{cls.__name__}.{name}")
        if check is not None:
            check(key, value)
        values[name] = value
    return cls(**values)


def _check_pipeline(pipeline: PipelineSettings) -> None:
    slack = pipeline.notifications
    if bool(slack.slack_workspace_id) != bool(slack.slack_channel_id):
        missing = "slack_channel_id" if slack.slack_workspace_id else "slack_workspace_id"
        raise _fail(
            f"pipeline.notifications.{missing}",
            "must be set when the other Slack setting is (a Slack channel needs both ids)",
            getattr(slack, missing),
        )


def _check_zone_names(env: EnvironmentSettings, key: str) -> None:
    """At least two zones, all in ``env``'s region (``key`` names where they are configured)."""
    if len(env.availability_zones) < 2:
        raise _fail(f"{key}.availability_zones", "must list at least two availability zones", env.availability_zones)
    for az in env.availability_zones:
        if not re.match(rf"^{re.escape(env.region)}[a-z]$", az):
            raise _fail(f"{key}.availability_zones", f"must only name zones of {env.region}", az)


def _check_zones(env: EnvironmentSettings, key: str) -> None:
    """The availability zones of an additional region of ``env``: enough for its NAT gateways and cache nodes."""
    _check_zone_names(env, key)
    if env.network.nat_gateways > len(env.availability_zones):
        raise _fail(
            f"{key}.availability_zones",
            f"must list at least network.nat_gateways ({env.network.nat_gateways}) zones",
            env.availability_zones,
        )
    if env.cache.num_cache_clusters > len(env.availability_zones) * 2:
        raise _fail(
            f"{key}.availability_zones",
            f"must list at least half of cache.num_cache_clusters ({env.cache.num_cache_clusters}) zones",
            env.availability_zones,
        )


def _additional_regions(env: EnvironmentSettings, raw: Any) -> tuple[RegionSettings, ...]:
    key = f"environments.{env.name}.additional_regions"
    if not isinstance(raw, list):
        raise _fail(key, "must be a list of objects with region and availability_zones", raw)
    regions = tuple(_build(RegionSettings, item, f"{key}[{index}]") for index, item in enumerate(raw))
    seen = {env.region}
    for index, extra in enumerate(regions):
        if extra.region in seen:
            raise _fail(f"{key}[{index}].region", "must differ from the environment's other regions", extra.region)
        seen.add(extra.region)
        replica = dataclasses.replace(env, region=extra.region, availability_zones=extra.availability_zones)
        _check_zones(replica, f"{key}[{index}]")
    return regions


def _check_environment(env: EnvironmentSettings) -> None:
    key = f"environments.{env.name}"
    _check_zone_names(env, key)
    if env.network.nat_gateways > len(env.availability_zones):
        raise _fail(
            f"{key}.network.nat_gateways", "must not exceed the number of availability zones", env.network.nat_gateways
        )
    if env.database.max_allocated_storage_gib < env.database.allocated_storage_gib:
        raise _fail(
            f"{key}.database.max_allocated_storage_gib",
            "must be at least database.allocated_storage_gib",
            env.database.max_allocated_storage_gib,
        )
    if env.cache.multi_az and env.cache.num_cache_clusters < 2:
        raise _fail(
            f"{key}.cache.num_cache_clusters",
            "must be at least 2 when cache.multi_az is true",
            env.cache.num_cache_clusters,
        )
    if env.cache.num_cache_clusters > len(env.availability_zones) * 2:
        raise _fail(
            f"{key}.cache.num_cache_clusters", "must be at most two per availability zone", env.cache.num_cache_clusters
        )
    service = env.service
    for task in ("consume", "serve"):
        low, high = getattr(service, f"{task}_min_tasks"), getattr(service, f"{task}_max_tasks")
        if high < low:
            raise _fail(f"{key}.service.{task}_max_tasks", f"must be at least service.{task}_min_tasks", high)
    if not service.cpu * 2 <= service.memory_mib <= service.cpu * 8:
        raise _fail(
            f"{key}.service.memory_mib", f"must be between 2x and 8x service.cpu ({service.cpu})", service.memory_mib
        )
    if env.monitoring.iterator_age_alarm_ms <= service.max_iterator_age_ms:
        raise _fail(
            f"{key}.monitoring.iterator_age_alarm_ms",
            f"must exceed service.max_iterator_age_ms ({service.max_iterator_age_ms}), where scaling already reacts",
            env.monitoring.iterator_age_alarm_ms,
        )
    if env.stream.capacity_mode == "ON_DEMAND" and env.stream.shard_count != 1:
        raise _fail(
            f"{key}.stream.shard_count",
            "must be left at 1 when stream.capacity_mode is ON_DEMAND",
            env.stream.shard_count,
        )


def load_config(raw: Any) -> PlatformConfig:
    """Validate the raw ``platform`` context object and return the typed configuration."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f'Invalid config: the "{CONTEXT_KEY}" context object is missing from cdk.json.')
    for name in raw:
        if name not in ("pipeline", "environments"):
            raise ConfigError(f"Invalid config: {name} is not a known setting.")
    if "pipeline" not in raw:
        raise ConfigError("Invalid config: pipeline is required.")
    pipeline = _build(PipelineSettings, raw["pipeline"], "pipeline")
    _check_pipeline(pipeline)
    environments_raw = raw.get("environments")
    if not isinstance(environments_raw, Mapping) or not environments_raw:
        raise _fail("environments", "must be an object with the dev, staging and prod environments", environments_raw)
    environments = []
    additional_regions: dict[str, tuple[RegionSettings, ...]] = {}
    for name, env_raw in environments_raw.items():
        if name not in ENVIRONMENT_NAMES:
            expected = ", ".join(ENVIRONMENT_NAMES)
            raise ConfigError(f"Invalid config: environments.{name} is not a known environment (expected {expected}).")
        settings_raw = dict(env_raw) if isinstance(env_raw, Mapping) else env_raw
        regions_raw = settings_raw.pop("additional_regions", []) if isinstance(settings_raw, dict) else []
        env = dataclasses.replace(_build(EnvironmentSettings, settings_raw, f"environments.{name}"), name=name)
        _check_environment(env)
        additional_regions[name] = _additional_regions(env, regions_raw)
        environments.append(env)
    missing = [n for n in ENVIRONMENT_NAMES if n not in environments_raw]
    if missing:
        raise ConfigError(f"Invalid config: environments.{missing[0]} is required.")
    environments.sort(key=lambda e: ENVIRONMENT_NAMES.index(e.name))
    return PlatformConfig(pipeline=pipeline, environments=tuple(environments), additional_regions=additional_regions)
