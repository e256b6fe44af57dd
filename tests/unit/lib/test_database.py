"""Database: RDS PostgreSQL 15 per environment, its logs, its two secrets rotating every 30 days (lib/database.py)."""

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
    assert props["EnableIAMDatabaseAuthentication"] is False  # every login is a rotating password user
    assert props["AutoMinorVersionUpgrade"] is True
    assert props["EnableCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert props["PubliclyAccessible"] is False
    assert props["DBInstanceIdentifier"] == f"iot-{env}-postgres"
    subnet_group = only(synth.resources(env, "AWS::RDS::DBSubnetGroup"))
    isolated = {k for k, v in synth.resources(env, "AWS::EC2::Subnet").items() if "isolated" in synth.path_of(env, k)}
    assert {ref["Ref"] for ref in subnet_group["Properties"]["SubnetIds"]} == isolated
    params = only(synth.resources(env, "AWS::RDS::DBParameterGroup"))["Properties"]
    assert params["Parameters"] == {"rds.force_ssl": "1"}
    assert params["Family"] == "postgres15"


def _secrets(synth: Synth, env: str) -> dict[str, dict]:
    """The database's secrets by role: "master" (the instance's generated credentials) and "app"."""
    found = {}
    for logical_id, secret in synth.resources(env, "AWS::SecretsManager::Secret").items():
        path = synth.path_of(env, logical_id)
        if "/Database/Instance/Secret/" in path:
            found["master"] = (logical_id, secret)
        elif "/Database/AppSecret/" in path:
            found["app"] = (logical_id, secret)
    return found


def _schedule_of(synth: Synth, env: str, secret_id: str) -> dict:
    """The rotation schedule of a secret (it names the secret through the secret's target attachment)."""
    attachments = [
        {"Ref": k} for k, a in synth.resources(env, "AWS::SecretsManager::SecretTargetAttachment").items()
        if a["Properties"]["SecretId"] == {"Ref": secret_id}
    ]  # fmt: skip
    schedules = synth.resources(env, "AWS::SecretsManager::RotationSchedule").values()
    (schedule,) = [s["Properties"] for s in schedules if s["Properties"]["SecretId"] in attachments]
    return schedule


def test_master_and_application_credentials_rotate_every_30_days_inside_the_vpc(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        secrets = _secrets(synth, env)
        assert set(secrets) == {"master", "app"}
        master_id, master = secrets["master"]
        app_id, app = secrets["app"]
        assert '"username":"iot_admin"' in text(master["Properties"]["GenerateSecretString"]).replace("\\", "")
        assert '"username":"iot_app"' in text(app["Properties"]["GenerateSecretString"]).replace("\\", "")
        # The application secret names its master: the alternating-users function logs in with it.
        assert "masterarn" in text(app["Properties"]["GenerateSecretString"])
        for schedule in (_schedule_of(synth, env, master_id), _schedule_of(synth, env, app_id)):
            assert schedule["RotationRules"]["ScheduleExpression"] == "rate(30 days)"
        # The application user does not exist before db-setup creates it: its first rotation waits one period.
        assert _schedule_of(synth, env, app_id)["RotateImmediatelyOnUpdate"] is False
        functions = {
            k: a["Properties"]["Parameters"] for k, a in synth.resources(env, "AWS::Serverless::Application").items()
        }
        assert len(functions) == 2
        assert all({"vpcSubnetIds", "vpcSecurityGroupIds"} <= set(p) for p in functions.values())
        mappings = text(synth.templates[env]["Mappings"])
        assert "SecretsManagerRDSPostgreSQLRotationSingleUser" in mappings
        assert "SecretsManagerRDSPostgreSQLRotationMultiUser" in mappings


def test_both_secrets_are_encrypted_with_the_database_key(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        key = only(
            {
                k: v
                for k, v in synth.resources(env, "AWS::KMS::Key").items()
                if "/Database/Key/" in synth.path_of(env, k)
            }
        )
        (key_id,) = [k for k, v in synth.templates[env]["Resources"].items() if v is key]
        for _, secret in _secrets(synth, env).values():
            assert secret["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


@pytest.mark.parametrize(("env", "interval"), [("dev", None), ("staging", None), ("prod", 60)])
def test_enhanced_monitoring_follows_the_environment(synth: Synth, env: str, interval: int | None) -> None:
    props = only(synth.resources(env, "AWS::RDS::DBInstance"))["Properties"]
    assert props.get("MonitoringInterval") == interval
    assert ("MonitoringRoleArn" in props) is (interval is not None)


def test_database_log_groups_have_retention(synth: Synth) -> None:
    retention = {"dev": 14, "staging": 30, "prod": 365}
    for env, days in retention.items():
        rds_logs = {
            g["Properties"]["LogGroupName"]: g["Properties"]["RetentionInDays"]
            for g in synth.resources(env, "AWS::Logs::LogGroup").values()
            if str(g["Properties"].get("LogGroupName", "")).startswith("/aws/rds/")
        }
        assert rds_logs == {f"/aws/rds/instance/iot-{env}-postgres/{t}": days for t in ("postgresql", "upgrade")}
