"""Database: RDS PostgreSQL 15 per environment, its logs and its 30-day credential rotation (lib/database.py)."""

from __future__ import annotations

import pytest

from tests.assembly import ENVIRONMENTS, Synth
from tests.unit.templates import only, text


@pytest.mark.parametrize(
    ("env", "multi_az", "protected", "policy", "instance_class", "backups"),
    [
        ("dev", False, False, "Delete", "db.t4g.micro", 1),
        ("staging", True, False, "Snapshot", "db.t4g.small", 7),
        ("prod", True, True, "Snapshot", "db.m6g.large", 30),
    ],
)
def test_database_per_environment(
    synth: Synth, env: str, multi_az: bool, protected: bool, policy: str, instance_class: str, backups: int
) -> None:
    db = only(synth.resources(env, "AWS::RDS::DBInstance"))
    props = db["Properties"]
    assert props["Engine"] == "postgres"
    assert props["EngineVersion"] == "15.17"
    assert props["DBInstanceClass"] == instance_class
    assert props["MultiAZ"] is multi_az
    assert props["DeletionProtection"] is protected
    assert props["BackupRetentionPeriod"] == backups
    assert db["DeletionPolicy"] == policy
    assert db["UpdateReplacePolicy"] == policy
    assert props["StorageEncrypted"] is True
    assert "KmsKeyId" in props
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["EnableCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert props["PubliclyAccessible"] is False
    assert props["DBInstanceIdentifier"] == f"iot-{env}-postgres"
    subnet_group = only(synth.resources(env, "AWS::RDS::DBSubnetGroup"))
    isolated = {k for k, v in synth.resources(env, "AWS::EC2::Subnet").items() if "isolated" in synth.path_of(env, k)}
    assert {ref["Ref"] for ref in subnet_group["Properties"]["SubnetIds"]} == isolated
    params = only(synth.resources(env, "AWS::RDS::DBParameterGroup"))["Properties"]
    assert params["Parameters"] == {"rds.force_ssl": "1"}
    assert params["Family"] == "postgres15"


def test_database_credentials_rotate_every_30_days_inside_the_vpc(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        schedule = only(synth.resources(env, "AWS::SecretsManager::RotationSchedule"))["Properties"]
        assert schedule["RotationRules"]["ScheduleExpression"] == "rate(30 days)"
        rotation_app = only(synth.resources(env, "AWS::Serverless::Application"))["Properties"]
        mappings = text(synth.templates[env]["Mappings"])
        assert "SecretsManagerRDSPostgreSQLRotationSingleUser" in mappings
        assert "vpcSubnetIds" in rotation_app["Parameters"]
        assert "vpcSecurityGroupIds" in rotation_app["Parameters"]
        db_secret = [
            s
            for k, s in synth.resources(env, "AWS::SecretsManager::Secret").items()
            if "/Database/" in synth.path_of(env, k)
        ]
        assert len(db_secret) == 1
        assert '"username":"iot_admin"' in text(db_secret[0]["Properties"]["GenerateSecretString"]).replace("\\", "")


def test_database_log_groups_have_retention(synth: Synth) -> None:
    retention = {"dev": 14, "staging": 30, "prod": 365}
    for env, days in retention.items():
        rds_logs = {
            g["Properties"]["LogGroupName"]: g["Properties"]["RetentionInDays"]
            for g in synth.resources(env, "AWS::Logs::LogGroup").values()
            if str(g["Properties"].get("LogGroupName", "")).startswith("/aws/rds/")
        }
        assert rds_logs == {f"/aws/rds/instance/iot-{env}-postgres/{t}": days for t in ("postgresql", "upgrade")}
