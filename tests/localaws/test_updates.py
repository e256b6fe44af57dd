"""Stack updates as CloudFormation performs them (localaws.models.updates): in place where the property allows it,
a replacement (a new physical id) for a create-only property, CloudFormation's refusals, and no silent drops."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localaws.conftest import physical_ids


def template(name: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1, "RetentionPeriodHours": 24}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": f"{name}-alarm",
                    "MetricName": "Errors",
                    "Namespace": "Test",
                    "Statistic": "Sum",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": 10,
                    "ComparisonOperator": "GreaterThanThreshold",
                },
            },
            "Database": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBInstanceIdentifier": f"{name}-db",
                    "Engine": "postgres",
                    "EngineVersion": "15.17",
                    "DBInstanceClass": "db.t4g.micro",
                    "AllocatedStorage": "20",
                    "MasterUsername": "admin_user",
                    "MasterUserPassword": "not-a-real-password",
                    "BackupRetentionPeriod": 1,
                    "DBName": "app",
                },
            },
        },
        "Outputs": {"StreamName": {"Value": {"Ref": "Stream"}}},
    }


@pytest.fixture
def stack(deploy) -> tuple[str, dict[str, Any]]:
    name = f"updates-{uuid.uuid4().hex[:8]}"
    created = deploy(name, template(name))
    assert created["StackStatus"] == "CREATE_COMPLETE", created
    return name, template(name)


def test_in_place_changes_keep_every_physical_id(stack, deploy, account, client) -> None:
    name, body = stack
    before = physical_ids(account, name)
    changed = copy.deepcopy(body)
    changed["Resources"]["Logs"]["Properties"]["RetentionInDays"] = 14
    changed["Resources"]["Alarm"]["Properties"]["Threshold"] = 20
    changed["Resources"]["Database"]["Properties"]["BackupRetentionPeriod"] = 3
    changed["Resources"]["Database"]["Properties"]["EngineVersion"] = "15.18"
    updated = deploy(name, changed, update=True)
    assert updated["StackStatus"] == "UPDATE_COMPLETE", updated
    assert updated["LastUpdatedTime"] > updated["CreationTime"]
    assert physical_ids(account, name) == before
    group = client("logs").describe_log_groups(logGroupNamePrefix=before["Logs"])["logGroups"][0]
    assert group["retentionInDays"] == 14
    assert client("cloudwatch").describe_alarms(AlarmNames=[f"{name}-alarm"])["MetricAlarms"][0]["Threshold"] == 20
    database = client("rds").describe_db_instances(DBInstanceIdentifier=f"{name}-db")["DBInstances"][0]
    assert (database["BackupRetentionPeriod"], database["EngineVersion"]) == (3, "15.18")


def test_a_create_only_change_replaces_the_resource(stack, deploy, account, client) -> None:
    name, body = stack
    before = physical_ids(account, name)
    changed = copy.deepcopy(body)
    changed["Resources"]["Stream"]["Properties"]["Name"] = f"{name}-renamed"
    updated = deploy(name, changed, update=True)
    assert updated["StackStatus"] == "UPDATE_COMPLETE", updated
    after = physical_ids(account, name)
    assert after["Stream"] == f"{name}-renamed" != before["Stream"]
    assert {k: v for k, v in after.items() if k != "Stream"} == {k: v for k, v in before.items() if k != "Stream"}
    streams = client("kinesis").list_streams()["StreamNames"]
    assert f"{name}-renamed" in streams and before["Stream"] not in streams, "the old stream was not deleted"
    assert updated["Outputs"][0]["OutputValue"] == f"{name}-renamed"


def test_a_custom_named_resource_is_not_replaced_without_a_new_name(stack, deploy, account) -> None:
    name, body = stack
    changed = copy.deepcopy(body)
    changed["Resources"]["Database"]["Properties"]["DBName"] = "other"
    updated = deploy(name, changed, update=True)
    assert updated["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert "custom-named resource requires replacing. Rename " + f"{name}-db" in updated["StackStatusReason"]
    assert physical_ids(account, name)["Database"] == f"{name}-db"


def test_a_change_no_model_applies_fails_naming_it(stack, deploy) -> None:
    name, body = stack
    changed = copy.deepcopy(body)
    changed["Resources"]["Database"]["Properties"]["EnableCloudwatchLogsExports"] = ["postgresql"]
    updated = deploy(name, changed, update=True)
    assert updated["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert (
        "AWS::RDS::DBInstance (Database); it would change EnableCloudwatchLogsExports" in updated["StackStatusReason"]
    )


def test_an_engine_downgrade_is_refused_as_rds_refuses_it(stack, deploy, client) -> None:
    name, body = stack
    changed = copy.deepcopy(body)
    changed["Resources"]["Database"]["Properties"]["EngineVersion"] = "15.16"
    updated = deploy(name, changed, update=True)
    assert updated["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert "Cannot upgrade postgres from 15.17 to 15.16" in updated["StackStatusReason"]
    database = client("rds").describe_db_instances(DBInstanceIdentifier=f"{name}-db")["DBInstances"][0]
    assert database["EngineVersion"] == "15.17"


def test_an_update_without_changes_is_refused(stack, deploy) -> None:
    name, body = stack
    with pytest.raises(ClientError, match=r"No updates are to be performed\.") as refused:
        deploy(name, body, update=True)
    assert refused.value.response["Error"]["Code"] == "ValidationError"
