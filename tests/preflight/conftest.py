"""Fixtures for the pre-flight tests: the environments as cdk.json configures them, and stubbed AWS clients.

Responses are shaped like real AWS answers (botocore's Stubber validates them against the service models) and
carry the values AWS returns for us-east-1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse
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


class FakeSts:
    """STS AssumeRole answered in-process for every boto3 session created while it is installed (a `before-call`
    handler among botocore's built-in ones, the hook botocore's Stubber and moto use): the n-th call gets credentials
    that expire ``lifetimes[n]`` seconds later (access key ASIAFAKEROLEKEY000<n>), or AccessDenied when ``refuse``."""

    def __init__(self, lifetimes: Sequence[float] = (3600.0,), refuse: bool = False) -> None:
        self.lifetimes, self.refuse = list(lifetimes), refuse
        self.requests: list[dict[str, Any]] = []
        self.issued: list[dict[str, Any]] = []

    def __call__(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        self.requests.append(dict(params["body"]))
        if self.refuse:
            message = (
                "User: arn:aws:sts::111111111111:assumed-role/runner/1 is not authorized to perform: sts:AssumeRole"
            )
            error = {"Type": "Sender", "Code": "AccessDenied", "Message": message}
            return AWSResponse(None, 403, {}, None), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}
        n = len(self.issued) + 1
        credentials = {
            "AccessKeyId": f"ASIAFAKEROLEKEY000{n}",
            "SecretAccessKey": f"secret-{n}",
            "SessionToken": f"token-{n}",
            "Expiration": datetime.now(UTC) + timedelta(seconds=self.lifetimes[len(self.issued)]),
        }
        self.issued.append(credentials)
        role = params["body"]["RoleArn"].split("/", 1)[1]
        answer = {
            "Credentials": credentials,
            "AssumedRoleUser": {
                "AssumedRoleId": f"AROAFAKEROLEID:{params['body']['RoleSessionName']}",
                "Arn": f"arn:aws:sts::333333333333:assumed-role/{role}/{params['body']['RoleSessionName']}",
            },
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }
        return AWSResponse(None, 200, {}, None), answer


def install_fake_sts(monkeypatch: pytest.MonkeyPatch, sts: FakeSts) -> FakeSts:
    """Make every boto3 session created from now on (the default one too) ask ``sts`` for AssumeRole."""
    handlers = [*botocore.handlers.BUILTIN_HANDLERS, ("before-call.sts.AssumeRole", sts)]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return sts


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


def upgrade_target(version: str) -> dict[str, Any]:
    """One ValidUpgradeTarget item of a DBEngineVersions answer."""
    return {
        "Engine": "postgres",
        "EngineVersion": version,
        "Description": f"PostgreSQL {version}-R1",
        "AutoUpgrade": False,
        "IsMajorVersionUpgrade": not version.startswith("15."),
        "SupportedEngineModes": ["provisioned"],
        "SupportsParallelQuery": False,
        "SupportsGlobalDatabases": False,
        "SupportsBabelfish": False,
        "SupportsLimitlessDatabase": False,
        "SupportsLocalWriteForwarding": False,
        "SupportsIntegrations": False,
    }


def engine_version(version: str, status: str = "available", targets: Sequence[str] = ()) -> dict[str, Any]:
    """One DBEngineVersions item as RDS returns it for PostgreSQL (``targets``: its valid upgrade targets)."""
    major = version.split(".", 1)[0]
    return {
        "Engine": "postgres",
        "EngineVersion": version,
        "DBParameterGroupFamily": f"postgres{major}",
        "DBEngineDescription": "PostgreSQL",
        "DBEngineVersionDescription": f"PostgreSQL {version}-R1",
        "ValidUpgradeTarget": [upgrade_target(t) for t in targets],
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


def db_instance(
    version: str, identifier: str = "iot-staging-postgres", instance_class: str = "db.t4g.small"
) -> dict[str, Any]:
    """One DBInstances item as RDS describes a running PostgreSQL instance of the platform."""
    return {
        "DBInstanceIdentifier": identifier,
        "DBInstanceClass": instance_class,
        "Engine": "postgres",
        "DBInstanceStatus": "available",
        "MasterUsername": "iot_admin",
        "DBName": "iot",
        "Endpoint": {
            "Address": f"{identifier}.c9akciq32example.{REGION}.rds.amazonaws.com",
            "Port": 5432,
            "HostedZoneId": "Z2R2ITUGPM61AM",
        },
        "AllocatedStorage": 20,
        "InstanceCreateTime": datetime(2026, 3, 2, 9, 41, 7, tzinfo=UTC),
        "PreferredBackupWindow": "03:00-03:30",
        "BackupRetentionPeriod": 7,
        "MultiAZ": True,
        "EngineVersion": version,
        "AutoMinorVersionUpgrade": True,
        "StorageType": "gp3",
        "StorageEncrypted": True,
        "KmsKeyId": f"arn:aws:kms:{REGION}:333333333333:key/0f3c1d2e-5a6b-4c7d-8e9f-a0b1c2d3e4f5",
        "DbiResourceId": "db-ABCDEFGHIJKLMNOPQRSTUVWXY1",
        "DBInstanceArn": f"arn:aws:rds:{REGION}:333333333333:db:{identifier}",
        "IAMDatabaseAuthenticationEnabled": False,
        "DeletionProtection": False,
        "PubliclyAccessible": False,
    }


def stub_instance(rds: Stubber, instance: dict[str, Any] | None, identifier: str = "iot-staging-postgres") -> None:
    """describe_db_instances of the environment's database: ``instance``, or DBInstanceNotFound when None."""
    if instance is None:
        rds.add_client_error(
            "describe_db_instances",
            service_error_code="DBInstanceNotFound",
            service_message=f"DBInstance {identifier} not found.",
            http_status_code=404,
            expected_params={"DBInstanceIdentifier": identifier},
        )
    else:
        rds.add_response("describe_db_instances", {"DBInstances": [instance]}, {"DBInstanceIdentifier": identifier})


def platform_template(version: str, identifier: str = "iot-staging-postgres") -> dict[str, Any]:
    """The part of a deployed platform template that pre-flight reads: the database instance's properties."""
    return {
        "Transform": ["AWS::Serverless-2016-10-31"],
        "Resources": {
            "DatabaseKey18DD7E5B": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
            "DatabaseInstanceAA8A5FDE": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "AllocatedStorage": "20",
                    "AutoMinorVersionUpgrade": True,
                    "DBInstanceClass": "db.t4g.small",
                    "DBInstanceIdentifier": identifier,
                    "DBName": "iot",
                    "Engine": "postgres",
                    "EngineVersion": version,
                    "KmsKeyId": {"Fn::GetAtt": ["DatabaseKey18DD7E5B", "Arn"]},
                    "StorageEncrypted": True,
                    "StorageType": "gp3",
                },
                "UpdateReplacePolicy": "Snapshot",
                "DeletionPolicy": "Snapshot",
            },
        },
    }


def stub_template(cloudformation: Stubber, version: str | None, stack_name: str = "Staging-Platform") -> None:
    """get_template of the platform stack, its instance at ``version``; None: the stack does not exist."""
    if version is None:
        cloudformation.add_client_error(
            "get_template",
            service_error_code="ValidationError",
            service_message=f"Stack with id {stack_name} does not exist",
            http_status_code=400,
            expected_params={"StackName": stack_name},
        )
    else:
        cloudformation.add_response(
            "get_template",
            {"TemplateBody": json.dumps(platform_template(version)), "StagesAvailable": ["Original", "Processed"]},
            {"StackName": stack_name},
        )


def stub_orderable(
    rds: Stubber, version: str, instance_class: str = "db.t4g.small", storage: tuple[str, ...] = ("gp3",)
) -> None:
    """The instance class is orderable for ``version``."""
    rds.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [orderable(instance_class, version, kind) for kind in storage]},
        {"Engine": "postgres", "EngineVersion": version, "DBInstanceClass": instance_class},
    )


def stub_postgres_offered(
    rds: Stubber, version: str = "15.17", instance_class: str = "db.t4g.small", storage: tuple[str, ...] = ("gp3",)
) -> None:
    """No instance yet, RDS offers ``version`` for new ones and ``instance_class`` for it: a passing pre-flight."""
    stub_instance(rds, None)
    rds.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version(version)]},
        {"Engine": "postgres", "EngineVersion": version},
    )
    stub_orderable(rds, version, instance_class, storage)


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
