"""Config: typed, validated once; every error is one sentence naming the key."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aws_cdk import App

import app as app_module
from platform_config import ConfigError, PlatformConfig, load_config
from tests.assembly import ENVIRONMENTS, cdk_context


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return cdk_context()["platform"]


def test_committed_config_loads(raw: dict[str, Any]) -> None:
    config = load_config(raw)
    assert isinstance(config, PlatformConfig)
    assert tuple(env.name for env in config.environments) == ENVIRONMENTS
    assert config.pipeline.branch == "main"
    assert config.environment("prod").requires_approval
    assert not config.environment("dev").requires_approval
    assert config.environment("prod").database.engine_version.startswith("15.")
    assert config.environment("prod").availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")


def test_unknown_environment_lookup(raw: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"^Invalid config: environments\.qa is not a configured environment\.$"):
        load_config(raw).environment("qa")


def _set(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(raw)
    *parents, leaf = dotted.split(".")
    node = changed
    for part in parents:
        node = node[part]
    if value is _DELETE:
        del node[leaf]
    else:
        node[leaf] = value
    return changed


_DELETE = object()

CASES = [
    ("environments.prod.account", "abc", 'environments.prod.account must be a 12-digit AWS account id, got "abc".'),
    ("environments.dev.account", 12345, "environments.dev.account must be a string, got 12345."),
    ("pipeline.repository", _DELETE, "pipeline.repository is required."),
    ("pipeline.repository", "no-slash", 'pipeline.repository must be a repository in the form "owner/repo"'),
    ("pipeline.connection_arn", _DELETE, "pipeline.connection_arn is required."),
    (
        "pipeline.connection_arn",
        "arn:aws:s3:::bucket",
        "pipeline.connection_arn must be a CodeConnections connection ARN",
    ),
    ("pipeline.region", "mars-1", "pipeline.region must be an AWS region name"),
    ("pipeline.extra", 1, "pipeline.extra is not a known setting."),
    ("environments.qa", {}, "environments.qa is not a known environment (expected dev, staging, prod)."),
    ("environments.staging", _DELETE, "environments.staging is required."),
    ("environments.dev.stream.shard_count", 0, "environments.dev.stream.shard_count must be between 1 and 100, got 0."),
    ("environments.dev.stream.shard_count", True, "environments.dev.stream.shard_count must be an integer, got true."),
    ("environments.dev.stream.capacity_mode", "FAST", "environments.dev.stream.capacity_mode must be one of"),
    (
        "environments.dev.database.engine_version",
        "14.9",
        "environments.dev.database.engine_version must be PostgreSQL 15",
    ),
    ("environments.dev.database.multi_az", "yes", "environments.dev.database.multi_az must be true or false"),
    ("environments.dev.database.removal_policy", "keep", "environments.dev.database.removal_policy must be one of"),
    ("environments.dev.database.max_allocated_storage_gib", 20, None),
    ("environments.dev.database.allocated_storage_gib", 60, "max_allocated_storage_gib must be at least"),
    ("environments.dev.log_retention_days", 31, "environments.dev.log_retention_days must be one of 1, 3"),
    ("environments.dev.network.cidr", "10.0.0.0/8", "environments.dev.network.cidr must be an IPv4 CIDR block"),
    ("environments.dev.network.cidr", "300.0.0.0/16", "environments.dev.network.cidr must be an IPv4 CIDR block"),
    ("environments.dev.network.nat_gateways", 3, "environments.dev.network.nat_gateways must not exceed"),
    ("environments.dev.network.interface_endpoints", ["sqs"], "interface_endpoints must only name interface endpoints"),
    ("environments.dev.network.interface_endpoints", "ecr", "interface_endpoints must be a list of strings"),
    ("environments.dev.availability_zones", ["us-east-1a"], "availability_zones must list at least two"),
    ("environments.dev.availability_zones", ["us-east-1a", "eu-west-1b"], "availability_zones must only name zones of"),
    ("environments.dev.cache.num_cache_clusters", 1, None),
    ("environments.prod.cache.num_cache_clusters", 1, "cache.num_cache_clusters must be at least 2 when"),
    ("environments.dev.cache.num_cache_clusters", 5, "cache.num_cache_clusters must be at most two per"),
    ("environments.dev.service.consume_max_tasks", 0, "consume_max_tasks must be between 1 and 50"),
    ("environments.prod.service.serve_max_tasks", 1, "environments.prod.service.serve_max_tasks must be at least"),
    (
        "environments.dev.service.memory_mib",
        4096,
        "environments.dev.service.memory_mib must be a size Fargate runs with 256 CPU units (service.cpu): "
        "512, 1024, 2048 MiB, got 4096.",
    ),
    # Within 2x-8x of the CPU (the rule this replaced) but not a size Fargate offers: caught at load, not in pre-flight.
    ("environments.dev.service.memory_mib", 1536, "must be a size Fargate runs with 256 CPU units"),
    ("environments.dev.service.cpu", 384, "environments.dev.service.cpu must be one of 256, 512, 1024"),
    ("environments.prod.stream.shard_count", 4, "stream.shard_count must be left at 1 when"),
    ("environments.dev.database", [], "environments.dev.database must be an object, got []."),
    ("environments.dev.name", "x", "environments.dev.name is not a known setting."),
    ("environments", {}, "environments must be an object with the dev, staging and prod environments"),
    ("unknown", 1, "unknown is not a known setting."),
    ("pipeline", _DELETE, "pipeline is required."),
]


@pytest.mark.parametrize(("key", "value", "message"), CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES])
def test_invalid_config_is_one_sentence_naming_the_key(
    raw: dict[str, Any], key: str, value: Any, message: str | None
) -> None:
    changed = _set(raw, key, value)
    if message is None:  # a valid edit
        load_config(changed)
        return
    with pytest.raises(ConfigError) as error:
        load_config(changed)
    text = str(error.value)
    assert text.startswith("Invalid config: ")
    assert message in text
    assert text.endswith(".") and "\n" not in text


def test_missing_platform_context() -> None:
    with pytest.raises(ConfigError, match='the "platform" context object is missing'):
        load_config(None)


def test_app_prints_config_error_and_exits_1(raw: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    bad = _set(raw, "environments.prod.account", "abc")
    assert app_module.main(App(context={"platform": bad})) == 1
    captured = capsys.readouterr()
    assert captured.err == 'Invalid config: environments.prod.account must be a 12-digit AWS account id, got "abc".\n'
    assert "Traceback" not in captured.err
