"""Pre-flight checks: can this environment's configuration deploy into its account and region right now?

Every check asks the target account (read-only describe calls) or a documented table, and returns a `CheckResult`
whose message is one sentence naming the cdk.json setting to change. The PostgreSQL checks, which depend on whether
the instance already runs, are `preflight.postgres`; this module holds the cache and quota checks, and `run_checks`
runs them all.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from platform_config import EnvironmentSettings
from preflight.postgres import check_postgres
from preflight.results import FAIL, PASS, SKIP, CheckResult, guarded, listing, pages, setting, version_key

__all__ = ["FAIL", "PASS", "SKIP", "CheckResult", "run_checks"]

VPC_QUOTA = ("vpc", "L-F678F1CE", "VPCs per Region")
EIP_QUOTA = ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs")
STACK_TAG = "tag:aws:cloudformation:stack-name"


def check_redis_version(elasticache: Any, env: EnvironmentSettings) -> CheckResult:
    """The configured Redis engine version is offered by ElastiCache in the region."""
    version = env.cache.engine_version
    versions = pages(elasticache, "describe_cache_engine_versions", "CacheEngineVersions", Engine="redis")
    offered = sorted({v["EngineVersion"] for v in versions}, key=version_key)
    if any(v == version or v.startswith(f"{version}.") for v in offered):
        return CheckResult("redis-version", PASS, f"ElastiCache offers Redis {version}.")
    return CheckResult(
        "redis-version",
        FAIL,
        f"{setting(env, 'cache.engine_version')} is {version}, which ElastiCache does not offer for Redis in "
        f"{env.region}; set it to an offered version such as {listing(reversed(offered))}.",
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
        f"{setting(env, 'cache.node_type')} is {node_type}, which ElastiCache does not offer for Redis in "
        f"{env.region}; choose a node type listed for the region, such as cache.t4g.micro or cache.m7g.large.",
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
    needed = 0 if pages(ec2, "describe_vpcs", "Vpcs", Filters=stack_filter) else 1
    used = len(pages(ec2, "describe_vpcs", "Vpcs"))
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
    existing = pages(
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
        f"{setting(env, 'network.nat_gateways')} is {env.network.nat_gateways}, which needs {needed} new Elastic IPs "
        f"but account {env.account} uses {used} of its {limit} in {env.region}; lower network.nat_gateways, release "
        f"unused addresses or request a higher '{EIP_QUOTA[2]}' quota ({EIP_QUOTA[1]}).",
    )


def run_checks(session: Any, env: EnvironmentSettings, stack_name: str) -> list[CheckResult]:
    """Every pre-flight check of ``env`` against the account behind ``session``, in a stable order."""
    rds = session.client("rds", region_name=env.region)
    cloudformation = session.client("cloudformation", region_name=env.region)
    elasticache = session.client("elasticache", region_name=env.region)
    ec2 = session.client("ec2", region_name=env.region)
    quotas = session.client("service-quotas", region_name=env.region)
    return [
        *check_postgres(rds, cloudformation, env, stack_name),
        guarded("redis-version", lambda: check_redis_version(elasticache, env)),
        guarded("cache-node-type", lambda: check_cache_node_type(elasticache, env)),
        guarded("vpc-quota", lambda: check_vpc_quota(ec2, quotas, env, stack_name)),
        guarded("elastic-ip-quota", lambda: check_elastic_ip_quota(ec2, quotas, env, stack_name)),
    ]
