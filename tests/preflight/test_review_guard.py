"""The stateful-replacement guard (preflight.review.guard) on changes to the synthesized staging platform: replacing or
deleting the database, its secret, the file system, the stream, the Redis replication group or a KMS key stops, in one
sentence naming the construct path and the property, unless `review.allow_replacements` allows exactly that one."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from platform_config.settings import ReviewSettings
from preflight.review.changes import diff
from preflight.review.guard import violations
from tests.assembly import Synth
from tests.preflight.test_review_changes import DEAD_LETTERS_ALARM, edited, get_att, logical_id, without

STACK = "Staging-Platform"
SETTING = "environments.staging.review.allow_replacements"
# What the issue names as stateful, by construct path in the platform stack.
STATEFUL = {
    "Database/Instance": "AWS::RDS::DBInstance",
    "Database/Instance/Secret": "AWS::SecretsManager::Secret",
    "FileStorage/FileSystem": "AWS::EFS::FileSystem",
    "Ingestion/Stream": "AWS::Kinesis::Stream",
    "Cache/ReplicationGroup": "AWS::ElastiCache::ReplicationGroup",
    "Database/Key": "AWS::KMS::Key",
}


@pytest.fixture
def staging(synth: Synth) -> dict[str, Any]:
    return synth.templates["staging"]


def stops(deployed: dict[str, Any], new: dict[str, Any], *allowed: str) -> list[str]:
    return violations(diff(deployed, new, stack=STACK, region="us-east-1"), allowed, SETTING)


def suggested(stop: str) -> str:
    """The allowance a stop sentence tells to configure: `... allow it with <setting>: ["<allowance>"].`"""
    match = re.search(r': \["([^"]+)"\]\.$', stop)
    assert match, stop
    return match.group(1)


def assert_one_sentence(stop: str) -> None:
    assert "\n" not in stop
    assert stop.endswith(".")
    assert ". " not in stop


@pytest.mark.parametrize("name", ["DBInstanceIdentifier", "KmsKeyId"])
def test_replacing_the_database_stops_naming_its_construct_path_and_the_property(
    staging: dict[str, Any], name: str
) -> None:
    """Both are create-only for AWS::RDS::DBInstance: a new identifier, or storage encrypted with another key."""
    value = {"DBInstanceIdentifier": "iot-staging-db", "KmsKeyId": get_att(staging, "Cache/Key", "Arn")}[name]
    (stop,) = stops(staging, edited(staging, "Database/Instance", **{name: value}))
    assert_one_sentence(stop)
    assert stop.startswith(f"{STACK}: Database/Instance (AWS::RDS::DBInstance) ")
    assert name in stop[: stop.index(SETTING)]  # the reason, before the allowance it suggests
    assert suggested(stop) == f"Database/Instance:{name}"


def test_the_one_allowed_replacement_passes(staging: dict[str, Any]) -> None:
    new = edited(staging, "Database/Instance", DBInstanceIdentifier="iot-staging-db")
    assert stops(staging, new, "Database/Instance:DBInstanceIdentifier") == []


def test_allowing_another_property_or_another_resource_does_not_pass(staging: dict[str, Any]) -> None:
    new = edited(staging, "Database/Instance", DBInstanceIdentifier="iot-staging-db")
    assert len(stops(staging, new, "Database/Instance:KmsKeyId", "Database/Instance/Secret:DBInstanceIdentifier")) == 1


def test_each_property_forcing_a_replacement_must_be_allowed(staging: dict[str, Any]) -> None:
    new = edited(
        staging,
        "Database/Instance",
        DBInstanceIdentifier="iot-staging-db",
        KmsKeyId=get_att(staging, "Cache/Key", "Arn"),
    )
    (stop,) = stops(staging, new, "Database/Instance:DBInstanceIdentifier")
    assert suggested(stop) == "Database/Instance:KmsKeyId"
    assert stops(staging, new, "Database/Instance:DBInstanceIdentifier", "Database/Instance:KmsKeyId") == []


def test_a_removed_stream_is_stopped_until_its_deletion_is_allowed(staging: dict[str, Any]) -> None:
    new = without(staging, "Ingestion/Stream")
    (stop,) = stops(staging, new)
    assert_one_sentence(stop)
    assert stop.startswith(f"{STACK}: Ingestion/Stream (AWS::Kinesis::Stream) ")
    assert "deleted" in stop
    assert suggested(stop) == "Ingestion/Stream:delete"
    assert stops(staging, new, "Ingestion/Stream:delete") == []
    assert len(stops(staging, new, "Ingestion/Stream:Name")) == 1


@pytest.mark.parametrize("path", list(STATEFUL))
def test_every_stateful_resource_is_guarded_and_its_allowance_is_a_valid_setting(
    staging: dict[str, Any], path: str
) -> None:
    """Removing each stops, suggesting an allowance cdk.json accepts and that lets the removal pass. (Removing the key
    leaves the instance's KmsKeyId referring to it: the instance is stopped too.)"""
    new = without(staging, path)
    found = stops(staging, new)
    assert [stop for stop in found if stop.startswith(f"{STACK}: {path} ({STATEFUL[path]}) ")]
    allowances = tuple(suggested(stop) for stop in found)
    assert f"{path}:delete" in allowances
    assert ReviewSettings(allow_replacements=allowances).allow_replacements == allowances
    assert stops(staging, new, *allowances) == []


def test_a_replacement_forced_through_a_reference_names_the_referring_property(staging: dict[str, Any]) -> None:
    """A new subnet group name replaces the subnet group, and so the instance (DBSubnetGroupName is create-only)."""
    subnet_group = logical_id(staging, "Database/Instance/SubnetGroup")
    new = edited(staging, "Database/Instance/SubnetGroup", DBSubnetGroupName="iot-staging-db-subnets")
    (stop,) = stops(staging, new)
    assert_one_sentence(stop)
    assert stop.startswith(f"{STACK}: Database/Instance (AWS::RDS::DBInstance) ")
    assert f"DBSubnetGroupName refers to {subnet_group}" in stop
    assert suggested(stop) == "Database/Instance:DBSubnetGroupName"
    assert stops(staging, new, "Database/Instance:DBSubnetGroupName") == []


def test_replacing_or_removing_a_stateless_resource_passes(staging: dict[str, Any]) -> None:
    alarm = DEAD_LETTERS_ALARM.replace("iot-dev", "iot-staging")
    assert stops(staging, edited(staging, alarm, AlarmName="iot-staging-dead-letters")) == []
    assert stops(staging, without(staging, alarm)) == []
    assert stops(staging, edited(staging, "SecurityGroups/Database", GroupDescription="PostgreSQL")) == []


def test_a_new_stateful_resource_passes(staging: dict[str, Any]) -> None:
    new = copy.deepcopy(staging)
    new["Resources"]["ArchiveStream1A2B3C4D"] = {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}
    assert stops(staging, new) == []


def test_an_in_place_database_change_passes(staging: dict[str, Any]) -> None:
    assert stops(staging, edited(staging, "Database/Instance", DBInstanceClass="db.m6g.large")) == []
