"""What the region offers (localaws.models.offerings), as the pre-flight asks it, and RDS's upgrade rule."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def test_engine_versions_with_the_preflights_filters(client) -> None:
    rds = client("rds")
    exact = rds.describe_db_engine_versions(Engine="postgres", EngineVersion="15.17")["DBEngineVersions"]
    assert [v["EngineVersion"] for v in exact] == ["15.17"]
    targets = {t["EngineVersion"]: t for t in exact[0]["ValidUpgradeTarget"]}
    assert targets["15.18"]["AutoUpgrade"] is True and targets["15.18"]["IsMajorVersionUpgrade"] is False
    assert targets["16.13"]["IsMajorVersionUpgrade"] is True
    family = rds.describe_db_engine_versions(Engine="postgres", DBParameterGroupFamily="postgres15")["DBEngineVersions"]
    assert {v["EngineVersion"] for v in family} >= {"15.15", "15.17", "15.18"}
    default = rds.describe_db_engine_versions(Engine="postgres", EngineVersion="15", DefaultOnly=True)
    assert [v["EngineVersion"] for v in default["DBEngineVersions"]] == ["15.17"]
    options = rds.describe_orderable_db_instance_options(
        Engine="postgres", EngineVersion="15.18", DBInstanceClass="db.t4g.micro"
    )["OrderableDBInstanceOptions"]
    assert {o["StorageType"] for o in options} == {"gp2", "gp3"} and all(o["MultiAZCapable"] for o in options)


def test_cache_and_quota_offerings(client) -> None:
    elasticache = client("elasticache")
    versions = [
        v["EngineVersion"] for v in elasticache.describe_cache_engine_versions(Engine="redis")["CacheEngineVersions"]
    ]
    assert "7.1" in versions
    offered = elasticache.describe_reserved_cache_nodes_offerings(
        CacheNodeType="cache.t4g.micro", ProductDescription="redis", MaxRecords=20
    )["ReservedCacheNodesOfferings"]
    assert [o["CacheNodeType"] for o in offered] == ["cache.t4g.micro"]
    quota = client("service-quotas").get_aws_default_service_quota(ServiceCode="ec2", QuotaCode="L-0263D0A3")
    assert quota["Quota"]["Value"] == 5.0


def test_rds_refuses_a_version_that_is_no_upgrade_target(client) -> None:
    rds = client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="offerings-db",
        Engine="postgres",
        EngineVersion="15.17",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
    )
    with pytest.raises(ClientError, match=r"Cannot upgrade postgres from 15\.17 to 15\.16"):
        rds.modify_db_instance(DBInstanceIdentifier="offerings-db", EngineVersion="15.16", ApplyImmediately=True)
    with pytest.raises(ClientError, match="AllowMajorVersionUpgrade"):
        rds.modify_db_instance(DBInstanceIdentifier="offerings-db", EngineVersion="16.13", ApplyImmediately=True)
    rds.modify_db_instance(DBInstanceIdentifier="offerings-db", EngineVersion="15.18", ApplyImmediately=True)
    assert rds.describe_db_instances(DBInstanceIdentifier="offerings-db")["DBInstances"][0]["EngineVersion"] == "15.18"
