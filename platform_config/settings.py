"""Typed settings of one environment of the platform, each field with its constraint beside it.

Plain data (pydantic models, frozen): the constructs in lib/ receive them explicitly and never read CDK context or
environment variables. Rules that tie several fields together are the `model_validator`s at the end of a model; a
broken rule is reported as one sentence naming the dotted key (see `platform_config.loader`).
"""

from __future__ import annotations

import re
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, model_validator

from platform_config.fargate import FARGATE_MEMORY, memory_choices
from platform_config.rules import (
    Problem,
    between,
    each,
    empty_or_matches,
    ipv4_cidr,
    list_of,
    matches,
    one_of,
    within,
)

INTERFACE_ENDPOINTS = ("ecr", "ecr_docker", "kinesis", "secrets_manager", "logs")
REMOVAL_POLICIES = ("destroy", "retain", "snapshot")
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653)
ACCOUNT = (r"^\d{12}$", "a 12-digit AWS account id")
EMAIL = (r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", "e-mail addresses such as ops@example.com")
_REGION = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"

Strings = Annotated[tuple[str, ...], list_of(str, "strings")]
Emails = Annotated[Strings, each(*EMAIL)]
Retention = Annotated[StrictInt, one_of(*LOG_RETENTION_DAYS)]
DataRemoval = Annotated[StrictStr, one_of("destroy", "retain")]


def aws_region(example: str = "us-east-1") -> AfterValidator:
    return matches(_REGION, f"an AWS region name such as {example}")


class Settings(BaseModel):
    """Frozen, and strict about unknown keys: a typo in cdk.json is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkSettings(Settings):
    cidr: Annotated[StrictStr, ipv4_cidr(16, 24)] = "10.10.0.0/16"
    nat_gateways: Annotated[StrictInt, between(0, 3)] = 1
    interface_endpoints: Annotated[Strings, within(INTERFACE_ENDPOINTS, "interface endpoints")] = INTERFACE_ENDPOINTS
    flow_log_retention_days: Retention = 30


class StreamSettings(Settings):
    capacity_mode: Annotated[StrictStr, one_of("PROVISIONED", "ON_DEMAND")] = "PROVISIONED"
    shard_count: Annotated[StrictInt, between(1, 100)] = 1
    retention_hours: Annotated[StrictInt, between(24, 8760)] = 24

    @model_validator(mode="after")
    def _on_demand_has_no_shards(self) -> Self:
        if self.capacity_mode == "ON_DEMAND" and self.shard_count != 1:
            raise Problem(
                "must be left at 1 when stream.capacity_mode is ON_DEMAND", got=self.shard_count, key="shard_count"
            )
        return self


PostgresVersion = Annotated[
    StrictStr,
    matches(r"^15(\.\d+)?$", 'PostgreSQL 15: the major version "15" (RDS picks the minor) or a minor such as "15.17"'),
]
RDS_MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)


class DatabaseSettings(Settings):
    # RDS upgrades the minor version itself (auto minor upgrade): a pinned minor is where a NEW instance starts and
    # what pre-flight requires to be offered for one; a running instance may be newer (preflight/ and the smoke
    # tests allow that, and refuse a downgrade).
    engine_version: PostgresVersion = "15"
    instance_type: Annotated[
        StrictStr, matches(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", 'an instance type such as "t4g.micro"')
    ] = "t4g.micro"
    allocated_storage_gib: Annotated[StrictInt, between(20, 1000)] = 20
    max_allocated_storage_gib: Annotated[StrictInt, between(20, 4000)] = 50
    multi_az: StrictBool = False
    backup_retention_days: Annotated[StrictInt, between(1, 35)] = 1
    deletion_protection: StrictBool = False
    removal_policy: Annotated[StrictStr, one_of(*REMOVAL_POLICIES)] = "destroy"
    database_name: Annotated[StrictStr, matches(r"^[a-z][a-z0-9_]{0,62}$", "a PostgreSQL identifier")] = "iot"
    username: Annotated[StrictStr, matches(r"^[a-z][a-z0-9_]{0,15}$", "a PostgreSQL user name")] = "iot_admin"
    # The processor's own user (not the master): alternating-users rotation, so its credentials stay valid while the
    # processor re-reads the secret; the rotation function's alternate is <app_username>_clone.
    app_username: Annotated[StrictStr, matches(r"^[a-z][a-z0-9_]{0,56}$", "a PostgreSQL user name")] = "iot_app"
    rotation_days: Annotated[StrictInt, between(1, 365)] = 30
    # RDS enhanced monitoring (OS metrics every N seconds); 0 is off.
    monitoring_interval_seconds: Annotated[StrictInt, one_of(*RDS_MONITORING_INTERVALS)] = 0

    @model_validator(mode="after")
    def _storage_can_grow(self) -> Self:
        if self.max_allocated_storage_gib < self.allocated_storage_gib:
            raise Problem(
                "must be at least database.allocated_storage_gib",
                got=self.max_allocated_storage_gib,
                key="max_allocated_storage_gib",
            )
        return self


class CacheSettings(Settings):
    engine_version: Annotated[StrictStr, one_of("6.2", "7.0", "7.1")] = "7.1"
    node_type: Annotated[
        StrictStr, matches(r"^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$", 'a node type such as "cache.t4g.micro"')
    ] = "cache.t4g.micro"
    num_cache_clusters: Annotated[StrictInt, between(1, 6)] = 1
    multi_az: StrictBool = False
    snapshot_retention_days: Annotated[StrictInt, between(0, 35)] = 1

    @model_validator(mode="after")
    def _multi_az_needs_a_replica(self) -> Self:
        if self.multi_az and self.num_cache_clusters < 2:
            raise Problem(
                "must be at least 2 when cache.multi_az is true", got=self.num_cache_clusters, key="num_cache_clusters"
            )
        return self


class FileStorageSettings(Settings):
    transition_to_ia_days: Annotated[StrictInt, one_of(1, 7, 14, 30, 60, 90)] = 30
    removal_policy: DataRemoval = "destroy"


class ServiceSettings(Settings):
    cpu: Annotated[StrictInt, one_of(*FARGATE_MEMORY)] = 256
    memory_mib: Annotated[StrictInt, between(512, 122_880)] = 512
    consume_min_tasks: Annotated[StrictInt, between(1, 50)] = 1
    consume_max_tasks: Annotated[StrictInt, between(1, 50)] = 2
    serve_min_tasks: Annotated[StrictInt, between(1, 50)] = 1
    serve_max_tasks: Annotated[StrictInt, between(1, 50)] = 2
    cpu_target_percent: Annotated[StrictInt, between(10, 90)] = 60
    max_iterator_age_ms: Annotated[StrictInt, between(1_000, 3_600_000)] = 60_000

    @model_validator(mode="after")
    def _fargate_runs_it(self) -> Self:
        for task in ("consume", "serve"):
            low, high = getattr(self, f"{task}_min_tasks"), getattr(self, f"{task}_max_tasks")
            if high < low:
                raise Problem(f"must be at least service.{task}_min_tasks", got=high, key=f"{task}_max_tasks")
        if self.memory_mib not in FARGATE_MEMORY[self.cpu]:
            raise Problem(
                f"must be a size Fargate runs with {self.cpu} CPU units (service.cpu): {memory_choices(self.cpu)}",
                got=self.memory_mib,
                key="memory_mib",
            )
        return self


class ApiSettings(Settings):
    throttle_rate_limit: Annotated[StrictInt, between(1, 10_000)] = 50
    throttle_burst_limit: Annotated[StrictInt, between(1, 5_000)] = 100


class MonitoringSettings(Settings):
    """Alarm thresholds, who hears about them, and how they gate promotion (bake) and prod (rollback)."""

    alarm_emails: Emails = ()
    api_5xx_percent: Annotated[StrictInt, between(1, 100)] = 1
    api_p99_latency_ms: Annotated[StrictInt, between(50, 29_000)] = 2_000
    iterator_age_alarm_ms: Annotated[StrictInt, between(1_000, 86_400_000)] = 300_000
    dead_letters_per_5_minutes: Annotated[StrictInt, between(1, 1_000_000)] = 100
    db_min_free_storage_gib: Annotated[StrictInt, between(1, 1000)] = 5
    # How long the users-hurt alarm must stay out of ALARM after the integration tests before the stage succeeds (a
    # CodePipeline on-success condition; pipeline/conditions.py).
    bake_minutes: Annotated[StrictInt, between(0, 720)] = 0
    # Roll the stage back to its last successful revision when it fails, or when the users-hurt alarm fires within
    # rollback_monitoring_minutes after its integration tests.
    rollback_on_alarm: StrictBool = False
    rollback_monitoring_minutes: Annotated[StrictInt, between(0, 180)] = 15


class ReviewSettings(Settings):
    """What is reviewed before this environment is deployed (preflight/review)."""

    # Stop a change that would replace or delete a stateful resource (database, secrets, file system, stream, cache,
    # keys) before CloudFormation is called.
    guard: StrictBool = True
    # The one replacement or deletion a change may make anyway, each "<construct path>:<property>" or
    # "<construct path>:delete", as the guard's message names it.
    allow_replacements: Annotated[
        Strings,
        each(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*:[A-Za-z0-9]+$", '"<construct path>:<property or delete>" entries'),
    ] = ()
    # With an approval: skip it when the environment would not change at all (the report still says so).
    skip_approval_without_changes: StrictBool = False


class RegionSettings(Settings):
    """One more region an environment deploys to, in the same wave as its primary region."""

    region: Annotated[StrictStr, aws_region("eu-west-1")]
    availability_zones: Strings
    account: Annotated[StrictStr, empty_or_matches(*ACCOUNT)] = ""  # empty: the environment's own account


class EnvironmentSettings(Settings):
    """Everything that differs between dev, staging and prod (`name` is the environment's key in cdk.json)."""

    name: StrictStr = "dev"
    account: Annotated[StrictStr, matches(*ACCOUNT)] = "111111111111"
    region: Annotated[StrictStr, aws_region()] = "us-east-1"
    availability_zones: Strings = ("us-east-1a", "us-east-1b")
    additional_regions: Annotated[
        tuple[RegionSettings, ...], list_of(object, "objects with region and availability_zones")
    ] = ()
    requires_approval: StrictBool = False
    # Which part of tests/integration runs after each deployment: "full" (writes readings, reads secret values) or
    # "smoke" (read-only describes: the test role then holds no write and no secret read).
    integration_suite: Annotated[StrictStr, one_of("full", "smoke")] = "full"
    log_retention_days: Retention = 30
    removal_policy: DataRemoval = "destroy"  # keys and log groups
    network: NetworkSettings = NetworkSettings()
    stream: StreamSettings = StreamSettings()
    database: DatabaseSettings = DatabaseSettings()
    cache: CacheSettings = CacheSettings()
    file_storage: FileStorageSettings = FileStorageSettings()
    service: ServiceSettings = ServiceSettings()
    api: ApiSettings = ApiSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    review: ReviewSettings = ReviewSettings()

    @model_validator(mode="after")
    def _fits_its_zones(self) -> Self:
        _check_zones(self, self.region, self.availability_zones, "")
        if self.network.nat_gateways > len(self.availability_zones):
            raise Problem(
                "must not exceed the number of availability zones",
                got=self.network.nat_gateways,
                key="network.nat_gateways",
            )
        if self.cache.num_cache_clusters > len(self.availability_zones) * 2:
            raise Problem(
                "must be at most two per availability zone",
                got=self.cache.num_cache_clusters,
                key="cache.num_cache_clusters",
            )
        if self.monitoring.iterator_age_alarm_ms <= self.service.max_iterator_age_ms:
            raise Problem(
                f"must exceed service.max_iterator_age_ms ({self.service.max_iterator_age_ms}), where scaling "
                "already reacts",
                got=self.monitoring.iterator_age_alarm_ms,
                key="monitoring.iterator_age_alarm_ms",
            )
        seen = {self.region}
        for index, extra in enumerate(self.additional_regions):
            key = f"additional_regions[{index}]"
            if extra.region in seen:
                raise Problem("must differ from the environment's other regions", got=extra.region, key=f"{key}.region")
            seen.add(extra.region)
            _check_zones(self, extra.region, extra.availability_zones, f"{key}.")
            zones = len(extra.availability_zones)
            if self.network.nat_gateways > zones:
                raise Problem(
                    f"must list at least network.nat_gateways ({self.network.nat_gateways}) zones",
                    got=extra.availability_zones,
                    key=f"{key}.availability_zones",
                )
            if self.cache.num_cache_clusters > zones * 2:
                raise Problem(
                    f"must list at least half of cache.num_cache_clusters ({self.cache.num_cache_clusters}) zones",
                    got=extra.availability_zones,
                    key=f"{key}.availability_zones",
                )
        return self


def _check_zones(env: EnvironmentSettings, region_name: str, zones: tuple[str, ...], prefix: str) -> None:
    """At least two zones, all in ``region_name``; ``prefix`` places the key (an additional region's)."""
    key = f"{prefix}availability_zones"
    if len(zones) < 2:
        raise Problem("must list at least two availability zones", got=zones, key=key)
    for zone in zones:
        if not re.match(rf"^{re.escape(region_name)}[a-z]$", zone):
            raise Problem(f"must only name zones of {region_name}", got=zone, key=key)
