"""Fixtures for the pre-flight tests: the environments as cdk.json configures them, and stubbed AWS clients.

Responses are shaped like real AWS answers (botocore's Stubber validates them against the service models) and
carry the values AWS returns for us-east-1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from platform_config import EnvironmentSettings
from preflight.cli import load_environment

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never reach a real account: dummy credentials, no profile, the configured region."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def staging() -> EnvironmentSettings:
    return load_environment("staging")


@pytest.fixture
def prod() -> EnvironmentSettings:
    return load_environment("prod")


def with_database(env: EnvironmentSettings, **changes: Any) -> EnvironmentSettings:
    return env.model_copy(update={"database": env.database.model_copy(update=changes)})


class StubbedSession:
    """A boto3-session stand-in whose clients are Stubber-activated; `stub(service)` adds expected calls."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self.stub(service) and self.clients[service]

    def stub(self, service: str) -> Stubber:
        if service not in self.stubbers:
            client = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
            self.clients[service] = client
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()
        return self.stubbers[service]

    def assert_no_pending(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def session() -> Iterator[StubbedSession]:
    stubbed = StubbedSession()
    yield stubbed
    stubbed.assert_no_pending()


def engine_version(version: str, status: str = "available") -> dict[str, Any]:
    """One DBEngineVersions item as RDS returns it for PostgreSQL."""
    major = version.split(".", 1)[0]
    return {
        "Engine": "postgres",
        "EngineVersion": version,
        "DBParameterGroupFamily": f"postgres{major}",
        "DBEngineDescription": "PostgreSQL",
        "DBEngineVersionDescription": f"PostgreSQL {version}-R1",
        "ValidUpgradeTarget": [],
        "ExportableLogTypes": ["postgresql", "upgrade"],
        "SupportsLogExportsToCloudwatchLogs": True,
        "SupportsReadReplica": True,
        "SupportedFeatureNames": ["Lambda", "s3Export", "s3Import", "invoke"],
        "Status": status,
        "SupportsParallelQuery": False,
        "SupportsGlobalDatabases": False,
        "MajorEngineVersion": major,
        "SupportsBabelfish": False,
        "SupportsCertificateRotationWithoutRestart": True,
        "SupportsLimitlessDatabase": False,
        "SupportsIntegrations": False,
    }


def orderable(instance_class: str, version: str, storage: str = "gp3", multi_az: bool = True) -> dict[str, Any]:
    """One OrderableDBInstanceOptions item as RDS returns it."""
    return {
        "Engine": "postgres",
        "EngineVersion": version,
        "DBInstanceClass": instance_class,
        "LicenseModel": "postgresql-license",
        "AvailabilityZoneGroup": REGION,
        "AvailabilityZones": [{"Name": f"{REGION}{z}"} for z in "abcdf"],
        "MultiAZCapable": multi_az,
        "ReadReplicaCapable": True,
        "Vpc": True,
        "SupportsStorageEncryption": True,
        "StorageType": storage,
        "SupportsIops": storage != "standard",
        "SupportsStorageThroughput": storage == "gp3",
        "SupportsEnhancedMonitoring": True,
        "SupportsIAMDatabaseAuthentication": True,
        "SupportsPerformanceInsights": True,
        "MinStorageSize": 20,
        "MaxStorageSize": 65536,
        "SupportedEngineModes": ["provisioned"],
        "SupportsStorageAutoscaling": True,
        "SupportsKerberosAuthentication": True,
        "SupportsGlobalDatabases": False,
        "SupportedNetworkTypes": ["IPV4", "DUAL"],
        "SupportsClusters": False,
        "SupportsDedicatedLogVolume": True,
    }


def stub_postgres_offered(
    rds: Stubber, version: str = "15.17", instance_class: str = "db.t4g.small", storage: tuple[str, ...] = ("gp3",)
) -> None:
    """RDS offers ``version`` for new instances and ``instance_class`` for it: a passing database pre-flight."""
    rds.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version(version)]},
        {"Engine": "postgres", "EngineVersion": version},
    )
    rds.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [orderable(instance_class, version, kind) for kind in storage]},
        {"Engine": "postgres", "EngineVersion": version, "DBInstanceClass": instance_class},
    )


def cache_engine_version(version: str) -> dict[str, Any]:
    """One CacheEngineVersions item as ElastiCache returns it for Redis."""
    family = "redis6.x" if version.startswith("6") else f"redis{version.split('.')[0]}"
    return {
        "Engine": "redis",
        "EngineVersion": version,
        "CacheParameterGroupFamily": family,
        "CacheEngineDescription": "Redis",
        "CacheEngineVersionDescription": f"redis version {version}",
    }


def reserved_offering(node_type: str) -> dict[str, Any]:
    """One ReservedCacheNodesOfferings item (a node type ElastiCache sells in the region)."""
    return {
        "ReservedCacheNodesOfferingId": "2f7c8b1e-0f6a-4c55-8b4e-1d8f5a3e9c01",
        "CacheNodeType": node_type,
        "Duration": 31536000,
        "FixedPrice": 0.0,
        "UsagePrice": 0.0,
        "ProductDescription": "redis",
        "OfferingType": "No Upfront",
        "RecurringCharges": [{"RecurringChargeAmount": 0.022, "RecurringChargeFrequency": "Hourly"}],
    }


def quota(service: str, code: str, name: str, value: float) -> dict[str, Any]:
    """A GetServiceQuota answer."""
    return {
        "Quota": {
            "ServiceCode": service,
            "ServiceName": "Amazon Virtual Private Cloud (Amazon VPC)" if service == "vpc" else "Amazon EC2",
            "QuotaArn": f"arn:aws:servicequotas:{REGION}:333333333333:{service}/{code}",
            "QuotaCode": code,
            "QuotaName": name,
            "Value": value,
            "Unit": "None",
            "Adjustable": True,
            "GlobalQuota": False,
        }
    }
