"""Pre-flight checks: can this environment's configuration deploy into its account and region right now?

Every check asks the target account (read-only describe calls) or a documented table, and returns a `CheckResult`
whose message is one sentence naming the cdk.json setting to change. `run_checks` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from platform_config import EnvironmentSettings

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
VPC_QUOTA = ("vpc", "L-F678F1CE", "VPCs per Region")
EIP_QUOTA = ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs")
STACK_TAG = "tag:aws:cloudformation:stack-name"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: PASS, FAIL (with what to change) or SKIP (an earlier failure decides)."""

    name: str
    status: str
    message: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL


def _key(env: EnvironmentSettings, setting: str) -> str:
    return f"environments.{env.name}.{setting}"


def _pages(client: Any, operation: str, result_key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(result_key, []))
    return items


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def _listing(values: Iterable[str], limit: int = 8) -> str:
    ordered = list(values)
    shown = ", ".join(ordered[:limit])
    return shown + (f" (and {len(ordered) - limit} more)" if len(ordered) > limit else "")


def offered_postgres_versions(rds: Any, major: str) -> list[str]:
    """PostgreSQL minor versions of ``major`` that RDS offers for new instances, oldest first."""
    versions = _pages(
        rds,
        "describe_db_engine_versions",
        "DBEngineVersions",
        Engine="postgres",
        DBParameterGroupFamily=f"postgres{major}",
    )
    offered = {v["EngineVersion"] for v in versions if v.get("Status", "available") == "available"}
    return sorted(offered, key=_version_key)


def check_postgres_version(rds: Any, env: EnvironmentSettings) -> CheckResult:
    """The configured PostgreSQL version is offered for new instances in the region."""
    version = env.database.engine_version
    found = rds.describe_db_engine_versions(Engine="postgres", EngineVersion=version)["DBEngineVersions"]
    if any(v["EngineVersion"] == version and v.get("Status", "available") == "available" for v in found):
        return CheckResult("postgres-version", PASS, f"PostgreSQL {version} is offered for new instances.")
    offered = offered_postgres_versions(rds, version.split(".", 1)[0])
    hint = f"the newest is {offered[-1]} (offered: {_listing(reversed(offered))})" if offered else "none is offered"
    return CheckResult(
        "postgres-version",
        FAIL,
        f"{_key(env, 'database.engine_version')} is {version}, which RDS does not offer for new PostgreSQL instances "
        f"in {env.region}; set it to an offered version: {hint}.",
    )


def check_postgres_instance_class(rds: Any, env: EnvironmentSettings, version_ok: bool) -> CheckResult:
    """The instance class is orderable for that version (and Multi-AZ / gp3 where configured)."""
    db = env.database
    instance_class = f"db.{db.instance_type}"
    if not version_ok:
        return CheckResult("postgres-instance-class", SKIP, "Skipped until database.engine_version is offered.")
    options = _pages(
        rds,
        "describe_orderable_db_instance_options",
        "OrderableDBInstanceOptions",
        Engine="postgres",
        EngineVersion=db.engine_version,
        DBInstanceClass=instance_class,
    )
    if not options:
        classes = _pages(
            rds,
            "describe_orderable_db_instance_options",
            "OrderableDBInstanceOptions",
            Engine="postgres",
            EngineVersion=db.engine_version,
        )
        family = db.instance_type.split(".", 1)[0]
        orderable = sorted({o["DBInstanceClass"].removeprefix("db.") for o in classes})
        same_family = [c for c in orderable if c.startswith(f"{family}.")] or orderable
        return CheckResult(
            "postgres-instance-class",
            FAIL,
            f"{_key(env, 'database.instance_type')} is {db.instance_type}, which is not orderable for PostgreSQL "
            f"{db.engine_version} in {env.region}; choose an orderable class such as {_listing(same_family)}.",
        )
    if db.multi_az and not any(o.get("MultiAZCapable") for o in options):
        return CheckResult(
            "postgres-instance-class",
            FAIL,
            f"{_key(env, 'database.instance_type')} {db.instance_type} cannot run Multi-AZ for PostgreSQL "
            f"{db.engine_version} in {env.region}; choose another class or set database.multi_az to false.",
        )
    if not any(o.get("StorageType") == "gp3" for o in options):
        return CheckResult(
            "postgres-instance-class",
            FAIL,
            f"{_key(env, 'database.instance_type')} {db.instance_type} does not offer gp3 storage for PostgreSQL "
            f"{db.engine_version} in {env.region}; choose a current-generation class.",
        )
    return CheckResult(
        "postgres-instance-class", PASS, f"{instance_class} is orderable for PostgreSQL {db.engine_version}."
    )


def check_redis_version(elasticache: Any, env: EnvironmentSettings) -> CheckResult:
    """The configured Redis engine version is offered by ElastiCache in the region."""
    version = env.cache.engine_version
    versions = _pages(elasticache, "describe_cache_engine_versions", "CacheEngineVersions", Engine="redis")
    offered = sorted({v["EngineVersion"] for v in versions}, key=_version_key)
    if any(v == version or v.startswith(f"{version}.") for v in offered):
        return CheckResult("redis-version", PASS, f"ElastiCache offers Redis {version}.")
    return CheckResult(
        "redis-version",
        FAIL,
        f"{_key(env, 'cache.engine_version')} is {version}, which ElastiCache does not offer for Redis in "
        f"{env.region}; set it to an offered version such as {_listing(reversed(offered))}.",
    )


def check_cache_node_type(elasticache: Any, env: EnvironmentSettings) -> CheckResult:
    """The node type is offered for Redis in the region (it has reserved-node offerings there)."""
    node_type = env.cache.node_type
    try:
        offerings = elasticache.describe_reserved_cache_nodes_offerings(
            CacheNodeType=node_type, ProductDescription="redis", MaxRecords=20
        )["ReservedCacheNodesOfferings"]
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("InvalidParameterValue", "InvalidParameterCombination"):
            raise
        offerings = []
    if offerings:
        return CheckResult("cache-node-type", PASS, f"ElastiCache offers {node_type} for Redis.")
    return CheckResult(
        "cache-node-type",
        FAIL,
        f"{_key(env, 'cache.node_type')} is {node_type}, which ElastiCache does not offer for Redis in {env.region}; "
        "choose a node type listed for the region, such as cache.t4g.micro or cache.m7g.large.",
    )


def quota_value(quotas: Any, service_code: str, quota_code: str) -> int:
    """The account's applied quota value, or the AWS default where none was applied."""
    try:
        quota = quotas.get_service_quota(ServiceCode=service_code, QuotaCode=quota_code)["Quota"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchResourceException":
            raise
        quota = quotas.get_aws_default_service_quota(ServiceCode=service_code, QuotaCode=quota_code)["Quota"]
    return int(quota["Value"])


def check_vpc_quota(ec2: Any, quotas: Any, env: EnvironmentSettings, stack_name: str) -> CheckResult:
    """A new stage needs one more VPC than the region already has; the quota must allow it."""
    stack_filter = [{"Name": STACK_TAG, "Values": [stack_name]}]
    needed = 0 if _pages(ec2, "describe_vpcs", "Vpcs", Filters=stack_filter) else 1
    used = len(_pages(ec2, "describe_vpcs", "Vpcs"))
    limit = quota_value(quotas, VPC_QUOTA[0], VPC_QUOTA[1])
    if used + needed <= limit:
        return CheckResult("vpc-quota", PASS, f"{used} of {limit} VPCs used; the stage needs {needed} more.")
    return CheckResult(
        "vpc-quota",
        FAIL,
        f"environments.{env.name} needs {needed} new VPC but account {env.account} already uses {used} of its {limit} "
        f"VPCs in {env.region}; delete an unused VPC or request a higher '{VPC_QUOTA[2]}' quota ({VPC_QUOTA[1]}).",
    )


def check_elastic_ip_quota(ec2: Any, quotas: Any, env: EnvironmentSettings, stack_name: str) -> CheckResult:
    """Each NAT gateway the stage adds takes an Elastic IP; the quota must leave room for them."""
    existing = _pages(
        ec2,
        "describe_nat_gateways",
        "NatGateways",
        Filters=[
            {"Name": STACK_TAG, "Values": [stack_name]},
            {"Name": "state", "Values": ["pending", "available"]},
        ],
    )
    needed = max(0, env.network.nat_gateways - len(existing))
    used = len(ec2.describe_addresses(Filters=[{"Name": "domain", "Values": ["vpc"]}])["Addresses"])
    limit = quota_value(quotas, EIP_QUOTA[0], EIP_QUOTA[1])
    if used + needed <= limit:
        return CheckResult("elastic-ip-quota", PASS, f"{used} of {limit} Elastic IPs used; NAT needs {needed} more.")
    return CheckResult(
        "elastic-ip-quota",
        FAIL,
        f"{_key(env, 'network.nat_gateways')} is {env.network.nat_gateways}, which needs {needed} new Elastic IPs but "
        f"account {env.account} uses {used} of its {limit} in {env.region}; lower network.nat_gateways, release "
        f"unused addresses or request a higher '{EIP_QUOTA[2]}' quota ({EIP_QUOTA[1]}).",
    )


def _guarded(name: str, call: Callable[[], CheckResult]) -> CheckResult:
    try:
        return call()
    except ClientError as error:
        err = error.response["Error"]
        operation = error.operation_name
        return CheckResult(
            name,
            FAIL,
            f"{operation} was refused ({err.get('Code')}: {err.get('Message', '').rstrip('.')}); give the pre-flight "
            "role read access to it (the CDK bootstrap lookup role has it).",
        )


def run_checks(session: Any, env: EnvironmentSettings, stack_name: str) -> list[CheckResult]:
    """Every pre-flight check of ``env`` against the account behind ``session``, in a stable order."""
    rds = session.client("rds", region_name=env.region)
    elasticache = session.client("elasticache", region_name=env.region)
    ec2 = session.client("ec2", region_name=env.region)
    quotas = session.client("service-quotas", region_name=env.region)
    version = _guarded("postgres-version", lambda: check_postgres_version(rds, env))
    results = [
        version,
        _guarded("postgres-instance-class", lambda: check_postgres_instance_class(rds, env, version.status == PASS)),
        _guarded("redis-version", lambda: check_redis_version(elasticache, env)),
        _guarded("cache-node-type", lambda: check_cache_node_type(elasticache, env)),
        _guarded("vpc-quota", lambda: check_vpc_quota(ec2, quotas, env, stack_name)),
        _guarded("elastic-ip-quota", lambda: check_elastic_ip_quota(ec2, quotas, env, stack_name)),
    ]
    return results
