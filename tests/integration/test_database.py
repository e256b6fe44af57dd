"""RDS PostgreSQL as the environment configures it, and its secret rotated on schedule."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def instance(aws, output) -> dict:
    return aws("rds").describe_db_instances(DBInstanceIdentifier=output("DatabaseIdentifier"))["DBInstances"][0]


def test_database_is_available_with_configured_engine(instance, output, settings) -> None:
    assert instance["DBInstanceStatus"] == "available"
    assert instance["Engine"] == "postgres"
    assert instance["EngineVersion"] == settings.database.engine_version
    assert instance["DBInstanceClass"] == f"db.{settings.database.instance_type}"
    assert instance["Endpoint"]["Address"] == output("DatabaseEndpoint")
    assert str(instance["Endpoint"]["Port"]) == output("DatabasePort")
    assert instance["DBName"] == settings.database.database_name


def test_database_storage_is_encrypted_with_the_platform_key(instance, output) -> None:
    assert instance["StorageEncrypted"] is True, "database storage encryption is off"
    assert instance.get("KmsKeyId") == output("DatabaseKeyArn")


def test_database_availability_and_protection_follow_the_environment(instance, settings) -> None:
    assert instance["MultiAZ"] is settings.database.multi_az
    assert instance["DeletionProtection"] is settings.database.deletion_protection
    assert instance["BackupRetentionPeriod"] == settings.database.backup_retention_days
    assert instance["PubliclyAccessible"] is False
    assert instance["IAMDatabaseAuthenticationEnabled"] is True


def _rotation_days(rules: dict) -> int:
    if "AutomaticallyAfterDays" in rules:
        return int(rules["AutomaticallyAfterDays"])
    match = re.fullmatch(r"rate\((\d+) days?\)", rules.get("ScheduleExpression", ""))
    assert match, f"rotation schedule is not a rate in days: {rules}"
    return int(match[1])


def test_database_secret_rotates_on_schedule(aws, output, settings) -> None:
    secrets = aws("secretsmanager")
    secret = secrets.describe_secret(SecretId=output("DatabaseSecretArn"))
    assert secret.get("RotationEnabled") is True, "database secret rotation is not enabled"
    assert secret.get("RotationLambdaARN"), "database secret has no rotation function"
    assert _rotation_days(secret.get("RotationRules", {})) == settings.database.rotation_days


def test_database_secret_describes_the_instance(aws, output, settings) -> None:
    value = json.loads(aws("secretsmanager").get_secret_value(SecretId=output("DatabaseSecretArn"))["SecretString"])
    assert value["username"] == settings.database.username
    assert value["password"]
    assert value["host"] == output("DatabaseEndpoint")
    assert str(value["port"]) == output("DatabasePort")
    assert value["engine"] == "postgres"
