"""What the region offers, which the pre-flight checks ask and moto 5.2.5 does not answer: RDS
DescribeDBEngineVersions (not implemented) and DescribeOrderableDBInstanceOptions (Aurora and Neptune only), ElastiCache
DescribeCacheEngineVersions and DescribeReservedCacheNodesOfferings (not implemented), Service Quotas
GetAWSDefaultServiceQuota (not implemented; moto's GetServiceQuota knows the VPC quotas only).

The answers come from one catalogue, `CATALOGUE` below: a snapshot of the region's offer chosen for this project (the
PostgreSQL 15 and 16 minors with their status, RDS's default minor per major, the automatic-upgrade target of each,
the Graviton classes orderable with gp2/gp3 and Multi-AZ; Redis 6.2, 7.0 and 7.1; the node types with reserved
offerings; AWS's default VPC and Elastic IP quotas of 5). Each API honours the filters the pre-flight uses (Engine,
EngineVersion, DBParameterGroupFamily, DefaultOnly, DBInstanceClass, CacheNodeType, ProductDescription). RDS's own rule
is kept too: ModifyDBInstance to another engine version must be one of the running version's valid upgrade targets.
Not reproduced: AWS's live catalogue (versions come and go there; here only when a rehearsal scenario changes
`CATALOGUE`), pagination, other engines, and every orderable option's detail beyond class, storage type and Multi-AZ.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.elasticache import responses as elasticache_responses
from moto.rds import models as rds_models
from moto.rds import responses as rds_responses
from moto.rds.exceptions import RDSClientError
from moto.servicequotas import responses as quota_responses

CATALOGUE: dict[str, Any] = {
    # PostgreSQL minor -> status; the default minor of each major; the automatic-upgrade target of each minor
    "postgres": {
        "15.13": "deprecated",
        "15.15": "available",
        "15.16": "available",
        "15.17": "available",
        "15.18": "available",
        "16.9": "deprecated",
        "16.11": "available",
        "16.12": "available",
        "16.13": "available",
    },
    "postgres_default": {"15": "15.17", "16": "16.12"},
    "postgres_auto_upgrade": {"15.15": "15.18", "15.16": "15.18", "15.17": "15.18", "16.11": "16.13", "16.12": "16.13"},
    "instance_classes": ("db.t4g.micro", "db.t4g.small", "db.t4g.medium", "db.m7g.large", "db.r7g.large"),
    "redis": ("6.2", "7.0", "7.1"),
    "cache_node_types": (
        "cache.t4g.micro",
        "cache.t4g.small",
        "cache.t4g.medium",
        "cache.m7g.large",
        "cache.r7g.large",
    ),
    "default_quotas": {
        ("vpc", "L-F678F1CE"): ("VPCs per Region", 5.0),
        ("ec2", "L-0263D0A3"): ("EC2-VPC Elastic IPs", 5.0),
    },
}


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def upgrade_targets(version: str) -> list[dict[str, Any]]:
    """Every newer available minor of the same major (AutoUpgrade on RDS's automatic target), and the next major."""
    major = version.split(".")[0]
    automatic = CATALOGUE["postgres_auto_upgrade"].get(version)
    targets = []
    for candidate, status in sorted(CATALOGUE["postgres"].items(), key=lambda item: _key(item[0])):
        if status != "available" or _key(candidate) <= _key(version):
            continue
        is_major = candidate.split(".")[0] != major
        targets.append(
            {
                "Engine": "postgres",
                "EngineVersion": candidate,
                "Description": f"PostgreSQL {candidate}",
                "AutoUpgrade": candidate == automatic,
                "IsMajorVersionUpgrade": is_major,
            }
        )
    return targets


def engine_versions(engine: str, version: str | None, family: str | None, default_only: bool) -> list[dict[str, Any]]:
    """DescribeDBEngineVersions over the catalogue, with the pre-flight's filters."""
    if engine not in (None, "postgres"):
        return []
    found = []
    for candidate, status in sorted(CATALOGUE["postgres"].items(), key=lambda item: _key(item[0])):
        major = candidate.split(".")[0]
        if version and candidate != version and major != version:
            continue
        if family and family != f"postgres{major}":
            continue
        if default_only and CATALOGUE["postgres_default"].get(major) != candidate:
            continue
        found.append(
            {
                "Engine": "postgres",
                "EngineVersion": candidate,
                "DBParameterGroupFamily": f"postgres{major}",
                "DBEngineDescription": "PostgreSQL",
                "DBEngineVersionDescription": f"PostgreSQL {candidate}",
                "Status": status,
                "ValidUpgradeTarget": upgrade_targets(candidate),
            }
        )
    return found


def _describe_db_engine_versions(self: rds_responses.RDSResponse) -> ActionResult:
    versions = engine_versions(
        self._get_param("Engine"),
        self._get_param("EngineVersion"),
        self._get_param("DBParameterGroupFamily"),
        str(self._get_param("DefaultOnly", "false")).lower() == "true",
    )
    return ActionResult({"DBEngineVersions": versions})


def _describe_orderable_db_instance_options(self: rds_responses.RDSResponse) -> ActionResult:
    engine, version = self._get_param("Engine"), self._get_param("EngineVersion")
    wanted_class = self._get_param("DBInstanceClass")
    versions = [v["EngineVersion"] for v in engine_versions(engine, version, None, False) if v["Status"] == "available"]
    options = [
        {
            "Engine": "postgres",
            "EngineVersion": candidate,
            "DBInstanceClass": instance_class,
            "StorageType": storage,
            "MultiAZCapable": True,
            "AvailabilityZones": [],
        }
        for candidate in versions
        for instance_class in CATALOGUE["instance_classes"]
        if not wanted_class or instance_class == wanted_class
        for storage in ("gp2", "gp3")
    ]
    return ActionResult({"OrderableDBInstanceOptions": options})


def _describe_cache_engine_versions(self: elasticache_responses.ElastiCacheResponse) -> ActionResult:
    engine = self._get_param("Engine")
    versions = [
        {"Engine": "redis", "EngineVersion": version, "CacheParameterGroupFamily": f"redis{version.split('.')[0]}"}
        for version in CATALOGUE["redis"]
        if engine in (None, "redis")
    ]
    return ActionResult({"CacheEngineVersions": versions})


def _describe_reserved_cache_nodes_offerings(self: elasticache_responses.ElastiCacheResponse) -> ActionResult:
    node_type, product = self._get_param("CacheNodeType"), self._get_param("ProductDescription")
    offerings = [
        {
            "ReservedCacheNodesOfferingId": f"offering-{candidate}",
            "CacheNodeType": candidate,
            "Duration": 31536000,
            "ProductDescription": "redis",
            "OfferingType": "No Upfront",
        }
        for candidate in CATALOGUE["cache_node_types"]
        if (not node_type or candidate == node_type) and product in (None, "redis")
    ]
    return ActionResult({"ReservedCacheNodesOfferings": offerings})


def _get_aws_default_service_quota(self: quota_responses.ServiceQuotasResponse) -> ActionResult:
    service, code = self._get_param("ServiceCode"), self._get_param("QuotaCode")
    if (service, code) not in CATALOGUE["default_quotas"]:
        from moto.servicequotas.exceptions import NoSuchResource

        raise NoSuchResource()
    name, value = CATALOGUE["default_quotas"][(service, code)]
    quota = {"ServiceCode": service, "QuotaCode": code, "QuotaName": name, "Value": value, "Unit": "None"}
    return ActionResult({"Quota": quota})


_original_modify_db_instance = rds_models.RDSBackend.modify_db_instance


def _modify_db_instance(self: rds_models.RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> Any:
    """ModifyDBInstance; another engine version must be a valid upgrade target of the running one, as RDS requires."""
    target = db_kwargs.get("engine_version")
    database = self.describe_db_instances(db_instance_identifier)[0]
    if target and target != database.engine_version and database.engine == "postgres":
        allowed = {t["EngineVersion"]: t for t in upgrade_targets(database.engine_version)}
        if target not in allowed:
            raise RDSClientError(
                "InvalidParameterCombination", f"Cannot upgrade postgres from {database.engine_version} to {target}"
            )
        if allowed[target]["IsMajorVersionUpgrade"] and not db_kwargs.get("allow_major_version_upgrade"):
            raise RDSClientError(
                "InvalidParameterCombination", "The AllowMajorVersionUpgrade flag must be present when upgrading."
            )
    return _original_modify_db_instance(self, db_instance_identifier, db_kwargs)


ACTIONS = (
    (rds_responses.RDSResponse, "describe_db_engine_versions", _describe_db_engine_versions),
    (rds_responses.RDSResponse, "describe_orderable_db_instance_options", _describe_orderable_db_instance_options),
    (elasticache_responses.ElastiCacheResponse, "describe_cache_engine_versions", _describe_cache_engine_versions),
    (
        elasticache_responses.ElastiCacheResponse,
        "describe_reserved_cache_nodes_offerings",
        _describe_reserved_cache_nodes_offerings,
    ),
    (quota_responses.ServiceQuotasResponse, "get_aws_default_service_quota", _get_aws_default_service_quota),
)


def patch() -> None:
    for response_class, name, action in ACTIONS:
        setattr(response_class, name, action)
    rds_models.RDSBackend.modify_db_instance = _modify_db_instance  # type: ignore[method-assign]
