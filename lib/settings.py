"""Typed settings of one environment of the platform.

These are plain data: the constructs in lib/ receive them explicitly and never read CDK context or
environment variables. stages/config.py builds and validates them from cdk.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PROCESSOR_IMAGE_DIR = REPO_ROOT / "services" / "processor"

INTERFACE_ENDPOINTS = ("ecr", "ecr_docker", "kinesis", "secrets_manager", "logs")
REMOVAL_POLICIES = ("destroy", "retain", "snapshot")


@dataclass(frozen=True)
class NetworkSettings:
    cidr: str = "10.10.0.0/16"
    nat_gateways: int = 1
    interface_endpoints: tuple[str, ...] = INTERFACE_ENDPOINTS
    flow_log_retention_days: int = 30


@dataclass(frozen=True)
class StreamSettings:
    capacity_mode: str = "PROVISIONED"  # PROVISIONED | ON_DEMAND
    shard_count: int = 1
    retention_hours: int = 24


@dataclass(frozen=True)
class DatabaseSettings:
    engine_version: str = "15.17"
    instance_type: str = "t4g.micro"
    allocated_storage_gib: int = 20
    max_allocated_storage_gib: int = 50
    multi_az: bool = False
    backup_retention_days: int = 1
    deletion_protection: bool = False
    removal_policy: str = "destroy"
    database_name: str = "iot"
    username: str = "iot_admin"
    rotation_days: int = 30


@dataclass(frozen=True)
class CacheSettings:
    engine_version: str = "7.1"
    node_type: str = "cache.t4g.micro"
    num_cache_clusters: int = 1
    multi_az: bool = False
    snapshot_retention_days: int = 1


@dataclass(frozen=True)
class FileStorageSettings:
    transition_to_ia_days: int = 30
    removal_policy: str = "destroy"


@dataclass(frozen=True)
class ServiceSettings:
    cpu: int = 256
    memory_mib: int = 512
    consume_min_tasks: int = 1
    consume_max_tasks: int = 2
    serve_min_tasks: int = 1
    serve_max_tasks: int = 2
    cpu_target_percent: int = 60
    max_iterator_age_ms: int = 60_000


@dataclass(frozen=True)
class ApiSettings:
    throttle_rate_limit: int = 50
    throttle_burst_limit: int = 100


@dataclass(frozen=True)
class MonitoringSettings:
    """Alarm thresholds, who hears about them, and how they gate promotion (bake) and prod (rollback)."""

    alarm_emails: tuple[str, ...] = ()
    api_5xx_percent: int = 1
    api_p99_latency_ms: int = 2_000
    iterator_age_alarm_ms: int = 300_000
    dead_letters_per_5_minutes: int = 100
    db_min_free_storage_gib: int = 5
    bake_minutes: int = 0  # how long the alarms must stay OK after the integration tests before promotion
    rollback_on_alarm: bool = False  # arm CloudFormation rollback triggers with the alarms that mean users are hurt
    rollback_monitoring_minutes: int = 15


@dataclass(frozen=True)
class EnvironmentSettings:
    """Everything that differs between dev, staging and prod."""

    name: str = "dev"
    account: str = "111111111111"
    region: str = "us-east-1"
    availability_zones: tuple[str, ...] = ("us-east-1a", "us-east-1b")
    requires_approval: bool = False
    log_retention_days: int = 30
    removal_policy: str = "destroy"  # keys and log groups
    network: NetworkSettings = field(default_factory=NetworkSettings)
    stream: StreamSettings = field(default_factory=StreamSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    file_storage: FileStorageSettings = field(default_factory=FileStorageSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    image_directory: str = str(PROCESSOR_IMAGE_DIR)
