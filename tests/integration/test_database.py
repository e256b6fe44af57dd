"""RDS PostgreSQL as the environment configures it, on any day of its life.

RDS upgrades minor versions itself (auto minor version upgrade), so the running version is checked for what must hold
at any time: the configured major, and never older than a configured minor. Every login is a rotating password user:
IAM database authentication stays off. The secrets are checked in test_secrets.py (describe only) and
test_secret_values.py (their contents, full suite only).
"""

from __future__ import annotations

import pytest

from preflight.postgres import major_of
from preflight.results import version_key

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def instance(aws, output) -> dict:
    return aws("rds").describe_db_instances(DBInstanceIdentifier=output("DatabaseIdentifier"))["DBInstances"][0]


def test_database_is_available_with_configured_shape(instance, output, settings) -> None:
    assert instance["DBInstanceStatus"] == "available"
    assert instance["Engine"] == "postgres"
    assert instance["DBInstanceClass"] == f"db.{settings.database.instance_type}"
    assert instance["Endpoint"]["Address"] == output("DatabaseEndpoint")
    assert str(instance["Endpoint"]["Port"]) == output("DatabasePort")
    assert instance["DBName"] == settings.database.database_name


def test_database_runs_the_configured_major_and_no_older_minor(instance, settings) -> None:
    configured, running = settings.database.engine_version, instance["EngineVersion"]
    assert major_of(running) == major_of(configured), f"database runs PostgreSQL {running}, configured {configured}"
    if configured != major_of(configured):
        assert version_key(running) >= version_key(configured), (
            f"database runs PostgreSQL {running}, older than the configured {configured}"
        )


def test_database_storage_is_encrypted_with_the_platform_key(instance, output) -> None:
    assert instance["StorageEncrypted"] is True, "database storage encryption is off"
    assert instance.get("KmsKeyId") == output("DatabaseKeyArn")


def test_database_availability_and_protection_follow_the_environment(instance, settings) -> None:
    assert instance["MultiAZ"] is settings.database.multi_az
    assert instance["DeletionProtection"] is settings.database.deletion_protection
    assert instance["BackupRetentionPeriod"] == settings.database.backup_retention_days
    assert instance["PubliclyAccessible"] is False
    assert instance["IAMDatabaseAuthenticationEnabled"] is False, "IAM database authentication is on"


def test_enhanced_monitoring_follows_the_environment(instance, settings) -> None:
    assert instance.get("MonitoringInterval", 0) == settings.database.monitoring_interval_seconds
