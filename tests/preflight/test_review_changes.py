"""What a new template changes in a deployed stack (preflight.review.changes), on the synthesized dev platform and on
small templates: which property changes replace a resource follows CloudFormation's resource schemas (create-only
properties, e.g. DBInstanceIdentifier and KmsKeyId of AWS::RDS::DBInstance; not Threshold of AWS::CloudWatch::Alarm),
and a replacement reaches every resource whose create-only property refers to the replaced one."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from preflight.review.changes import MAYBE, NO, YES, ResourceChange, StackChanges, diff
from tests.assembly import ENVIRONMENTS, Synth

REGION = "us-east-1"
STACK = "Dev-Platform"
DEAD_LETTERS_ALARM = "Monitoring/Facade/iot-dev-Processor-DeadLetters-Warning"


def logical_id(template: dict[str, Any], path: str) -> str:
    """The logical id of the resource at construct path ``path`` inside its stack (e.g. Database/Instance)."""
    found = [
        name
        for name, resource in template["Resources"].items()
        if resource.get("Metadata", {}).get("aws:cdk:path", "").split("/", 3)[-1]
        in (path, f"{path}/Resource", f"{path}/Default")
    ]
    assert len(found) == 1, f"{len(found)} resources at {path}"
    return found[0]


def edited(template: dict[str, Any], path: str, **properties: Any) -> dict[str, Any]:
    """A copy of ``template`` with the resource at ``path`` given ``properties`` (``template`` is left as it is)."""
    name = logical_id(template, path)
    resource = template["Resources"][name]
    changed = {**resource, "Properties": {**resource["Properties"], **properties}}
    return {**template, "Resources": {**template["Resources"], name: changed}}


def without(template: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of ``template`` without the resource at ``path``."""
    name = logical_id(template, path)
    return {**template, "Resources": {k: v for k, v in template["Resources"].items() if k != name}}


def get_att(template: dict[str, Any], path: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id(template, path), attribute]}


def changes_of(deployed: dict[str, Any] | None, new: dict[str, Any]) -> StackChanges:
    return diff(deployed, new, stack=STACK, region=REGION)


def change_of(changes: StackChanges, logical: str) -> ResourceChange:
    (found,) = (c for c in changes.resources if c.logical_id == logical)
    return found


@pytest.fixture
def dev(synth: Synth) -> dict[str, Any]:
    return synth.templates["dev"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_an_unchanged_template_changes_nothing(synth: Synth, environment: str) -> None:
    template = synth.templates[environment]
    changes = changes_of(copy.deepcopy(template), template)
    assert changes.resources == []
    assert changes.outputs == {}
    assert changes.empty


def test_a_new_alarm_threshold_is_exactly_one_modification_without_replacement(dev: dict[str, Any]) -> None:
    alarm = logical_id(dev, DEAD_LETTERS_ALARM)
    threshold = dev["Resources"][alarm]["Properties"]["Threshold"]
    changes = changes_of(dev, edited(dev, DEAD_LETTERS_ALARM, Threshold=threshold + 100))
    assert changes.resources == [
        ResourceChange(alarm, DEAD_LETTERS_ALARM, "AWS::CloudWatch::Alarm", "Modify", ("Threshold",), NO, ())
    ]
    assert changes.replaced == []
    assert changes.outputs == {}


def test_renaming_an_alarm_replaces_it(dev: dict[str, Any]) -> None:
    """AlarmName: "Update requires: Replacement"."""
    changes = changes_of(dev, edited(dev, DEAD_LETTERS_ALARM, AlarmName="iot-dev-dead-letters"))
    (change,) = changes.resources
    assert (change.replacement, change.causes) == (YES, ("AlarmName",))


@pytest.mark.parametrize(
    ("path", "resource_type", "value"),
    [
        ("Database/Instance", "AWS::RDS::DBInstance", {"DBInstanceIdentifier": "iot-dev-postgres-2"}),
        ("Database/Instance", "AWS::RDS::DBInstance", {"DBName": "readings"}),
        ("Database/Instance", "AWS::RDS::DBInstance", {"MasterUsername": "admin"}),
        ("Ingestion/Stream", "AWS::Kinesis::Stream", {"Name": "iot-dev-readings"}),
        ("FileStorage/FileSystem", "AWS::EFS::FileSystem", {"PerformanceMode": "maxIO"}),
        ("Cache/ReplicationGroup", "AWS::ElastiCache::ReplicationGroup", {"Port": 6380}),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else value,
)
def test_a_create_only_property_replaces_its_resource(
    dev: dict[str, Any], path: str, resource_type: str, value: dict[str, Any]
) -> None:
    (name,) = value
    change = change_of(changes_of(dev, edited(dev, path, **value)), logical_id(dev, path))
    assert change == ResourceChange(logical_id(dev, path), path, resource_type, "Modify", (name,), YES, (name,))


def test_the_database_encrypted_with_another_key_is_replaced(dev: dict[str, Any]) -> None:
    new = edited(dev, "Database/Instance", KmsKeyId=get_att(dev, "Cache/Key", "Arn"))
    change = change_of(changes_of(dev, new), logical_id(dev, "Database/Instance"))
    assert (change.path, change.properties, change.replacement, change.causes) == (
        "Database/Instance",
        ("KmsKeyId",),
        YES,
        ("KmsKeyId",),
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("Database/Instance", {"DBInstanceClass": "db.t4g.small"}),
        ("Database/Instance", {"AllocatedStorage": "30"}),
        ("Database/Instance", {"EngineVersion": "15.18"}),
        ("Ingestion/Stream", {"RetentionPeriodHours": 48}),
        ("Ingestion/Stream", {"ShardCount": 2}),
        ("Cache/ReplicationGroup", {"CacheNodeType": "cache.t4g.small"}),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else value,
)
def test_a_property_updated_in_place_is_a_modification_only(
    dev: dict[str, Any], path: str, value: dict[str, Any]
) -> None:
    changes = changes_of(dev, edited(dev, path, **value))
    (change,) = changes.resources
    assert (change.logical_id, change.properties, change.replacement, change.causes) == (
        logical_id(dev, path),
        tuple(value),
        NO,
        (),
    )


def test_a_conditionally_create_only_property_may_replace(dev: dict[str, Any]) -> None:
    """Engine is in the RDS schema's conditionalCreateOnlyProperties: a change set decides, the review says "may"."""
    changes = changes_of(dev, edited(dev, "Database/Instance", Engine="mysql"))
    change = change_of(changes, logical_id(dev, "Database/Instance"))
    assert (change.replacement, change.causes) == (MAYBE, ("Engine",))
    assert changes.replaced == []


def test_several_changed_properties_are_all_listed_and_only_create_only_ones_cause_replacement(
    dev: dict[str, Any],
) -> None:
    new = edited(dev, "Database/Instance", DBInstanceIdentifier="iot-dev-db", DBInstanceClass="db.t4g.small")
    change = change_of(changes_of(dev, new), logical_id(dev, "Database/Instance"))
    assert change.properties == ("DBInstanceClass", "DBInstanceIdentifier")
    assert change.causes == ("DBInstanceIdentifier",)


def test_a_removed_stream_is_a_removal(dev: dict[str, Any]) -> None:
    changes = changes_of(dev, without(dev, "Ingestion/Stream"))
    stream = change_of(changes, logical_id(dev, "Ingestion/Stream"))
    assert (stream.action, stream.path, stream.resource_type) == ("Remove", "Ingestion/Stream", "AWS::Kinesis::Stream")
    assert changes.count("Remove") == 1


def test_a_new_resource_is_an_addition(dev: dict[str, Any]) -> None:
    new = copy.deepcopy(dev)
    new["Resources"]["AuditTopic1A2B3C4D"] = {
        "Type": "AWS::SNS::Topic",
        "Properties": {},
        "Metadata": {"aws:cdk:path": "Pipeline/Dev/Platform/Audit/Topic/Resource"},
    }
    assert changes_of(dev, new).resources == [
        ResourceChange("AuditTopic1A2B3C4D", "Audit/Topic", "AWS::SNS::Topic", "Add")
    ]


def test_a_stack_deployed_for_the_first_time_adds_every_resource_and_output(dev: dict[str, Any]) -> None:
    changes = changes_of(None, dev)
    assert changes.count("Add") == len(changes.resources) == len(dev["Resources"])
    assert changes.outputs == dict.fromkeys(sorted(dev["Outputs"]), "Add")
    assert changes.replaced == []


def test_metadata_dependencies_and_deletion_policies_change_no_resource(dev: dict[str, Any]) -> None:
    new = copy.deepcopy(dev)
    instance = new["Resources"][logical_id(dev, "Database/Instance")]
    instance["Metadata"]["cdk_nag"] = {"rules_to_suppress": [{"id": "AwsSolutions-RDS3"}]}
    instance["DependsOn"] = [*instance.get("DependsOn", []), logical_id(dev, "Ingestion/Stream")]
    instance["DeletionPolicy"] = instance["UpdateReplacePolicy"] = "Snapshot"
    assert changes_of(dev, new).empty


def test_a_changed_type_replaces_the_resource() -> None:
    deployed = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    new = {"Resources": {"Queue": {"Type": "AWS::SNS::Topic", "Properties": {}}}}
    (change,) = changes_of(deployed, new).resources
    assert (change.resource_type, change.replacement, change.causes) == ("AWS::SNS::Topic", YES, ("Type",))


def test_a_resource_without_construct_path_is_named_by_its_logical_id() -> None:
    deployed = {"Resources": {"Readings": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}}}
    new = {"Resources": {"Readings": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 2}}}}
    assert [c.path for c in changes_of(deployed, new).resources] == ["Readings"]


def test_a_custom_resource_without_a_schema_is_modified_in_place(dev: dict[str, Any]) -> None:
    path = "Network/Vpc/RestrictDefaultSecurityGroupCustomResource"
    (change,) = changes_of(dev, edited(dev, path, Account="999999999999")).resources
    assert (change.resource_type, change.action, change.replacement) == ("Custom::VpcRestrictDefaultSG", "Modify", NO)


def test_a_type_the_schemas_do_not_know_may_be_replaced_by_any_change() -> None:
    """Never guessed: a type newer than the bundled schemas (or not offered in the region) is a possible replacement."""
    deployed = {"Resources": {"Thing": {"Type": "AWS::Future::Thing", "Properties": {"Size": 1}}}}
    new = {"Resources": {"Thing": {"Type": "AWS::Future::Thing", "Properties": {"Size": 2}}}}
    (change,) = changes_of(deployed, new).resources
    assert (change.action, change.replacement, change.causes) == ("Modify", MAYBE, ("Size",))


# Replacements propagate: a create-only property that refers to a replaced resource gets a new value.


def test_a_replaced_file_system_replaces_its_mount_targets_and_access_point(dev: dict[str, Any]) -> None:
    file_system = logical_id(dev, "FileStorage/FileSystem")
    changes = changes_of(dev, edited(dev, "FileStorage/FileSystem", PerformanceMode="maxIO"))
    dependents = [
        name
        for name, resource in dev["Resources"].items()
        if resource["Type"] in ("AWS::EFS::MountTarget", "AWS::EFS::AccessPoint")
        and resource["Properties"]["FileSystemId"] == {"Ref": file_system}
    ]
    assert len(dependents) == 3  # two mount targets (two zones) and the processor's access point
    for name in dependents:
        change = change_of(changes, name)
        assert (change.replacement, change.causes) == (YES, (f"FileSystemId -> {file_system}",))


def test_a_replacement_propagates_through_a_chain_of_create_only_references(dev: dict[str, Any]) -> None:
    """The master secret renamed: its attachment (SecretId) is replaced, so is the rotation schedule of the
    attachment (SecretId: Ref of the attachment)."""
    secret = logical_id(dev, "Database/Instance/Secret")
    attachment = logical_id(dev, "Database/Instance/Secret/Attachment")
    schedule = logical_id(dev, "Database/Instance/Secret/Attachment/RotationSchedule")
    changes = changes_of(dev, edited(dev, "Database/Instance/Secret", Name="iot-dev-master"))
    assert change_of(changes, attachment).causes == (f"SecretId -> {secret}",)
    assert change_of(changes, schedule).causes == (f"SecretId -> {attachment}",)
    assert {secret, attachment, schedule} <= {c.logical_id for c in changes.replaced}


def test_a_reference_in_a_property_updated_in_place_does_not_propagate(dev: dict[str, Any]) -> None:
    """The secret attachment's TargetId (the instance) is updatable: a replaced instance does not replace it."""
    attachment = logical_id(dev, "Database/Instance/Secret/Attachment")
    assert dev["Resources"][attachment]["Properties"]["TargetId"] == {"Ref": logical_id(dev, "Database/Instance")}
    changes = changes_of(dev, edited(dev, "Database/Instance", DBInstanceIdentifier="iot-dev-postgres-2"))
    assert attachment not in {c.logical_id for c in changes.resources}


STREAM = {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}


def _secret_named(name: Any, description: Any = "readings") -> dict[str, Any]:
    return {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": name, "Description": description}}


@pytest.mark.parametrize(
    ("reference", "cause"),
    [
        ({"Ref": "Stream"}, "Name -> Stream"),
        ({"Fn::GetAtt": ["Stream", "Arn"]}, "Name -> Stream.Arn"),
        ({"Fn::GetAtt": "Stream.Arn"}, "Name -> Stream.Arn"),
        ({"Fn::Sub": "${Stream}-credentials"}, "Name -> Stream"),
        ({"Fn::Sub": "${Stream.Arn}-credentials"}, "Name -> Stream.Arn"),
        ({"Fn::Sub": ["${Name}-credentials", {"Name": {"Ref": "Stream"}}]}, "Name -> Stream"),
        ({"Fn::Join": ["-", [{"Ref": "Stream"}, "credentials"]]}, "Name -> Stream"),
    ],
    ids=["Ref", "GetAtt", "GetAtt-string", "Sub", "Sub-attribute", "Sub-variables", "Join"],
)
def test_every_form_of_reference_to_a_replaced_resource_propagates_the_replacement(
    reference: dict[str, Any], cause: str
) -> None:
    deployed = {"Resources": {"Stream": STREAM, "Secret": _secret_named(reference)}}
    new = copy.deepcopy(deployed)
    new["Resources"]["Stream"]["Properties"]["Name"] = "readings"
    changes = changes_of(deployed, new)
    secret = change_of(changes, "Secret")
    assert (secret.replacement, secret.causes, secret.properties) == (YES, (cause,), ("Name",))


def test_a_reference_to_an_attribute_a_replacement_may_keep_may_replace(dev: dict[str, Any]) -> None:
    """The rotation rule's ports are the instance's Endpoint.Port: a new instance may well listen on the same port, so
    the rule (FromPort and ToPort are create-only) may be replaced, not surely."""
    instance = logical_id(dev, "Database/Instance")
    port = {"Fn::GetAtt": [instance, "Endpoint.Port"]}
    (rule,) = (
        name
        for name, resource in dev["Resources"].items()
        if resource["Type"] == "AWS::EC2::SecurityGroupIngress" and resource["Properties"]["FromPort"] == port
    )
    changes = changes_of(dev, edited(dev, "Database/Instance", DBInstanceIdentifier="iot-dev-postgres-2"))
    change = change_of(changes, rule)
    assert change.replacement == MAYBE
    assert f"FromPort -> {instance}.Endpoint.Port" in change.causes
    assert rule not in {c.logical_id for c in changes.replaced}


@pytest.mark.parametrize(
    "secret",
    [
        _secret_named({"Fn::Sub": "${AWS::StackName}-credentials"}, description={"Ref": "Stream"}),
        _secret_named({"Fn::Sub": "${!Stream}-credentials"}),
    ],
    ids=["pseudo-parameter-and-updatable-reference", "escaped-literal"],
)
def test_what_is_not_a_create_only_reference_does_not_propagate(secret: dict[str, Any]) -> None:
    deployed = {"Resources": {"Stream": STREAM, "Secret": secret}}
    new = copy.deepcopy(deployed)
    new["Resources"]["Stream"]["Properties"]["Name"] = "readings"
    assert [c.logical_id for c in changes_of(deployed, new).resources] == ["Stream"]


def test_an_added_resource_referring_to_a_replaced_one_stays_an_addition() -> None:
    deployed = {"Resources": {"Stream": STREAM}}
    new = {
        "Resources": {
            "Stream": {**STREAM, "Properties": {"Name": "readings"}},
            "Secret": _secret_named({"Ref": "Stream"}),
        }
    }
    assert change_of(changes_of(deployed, new), "Secret") == ResourceChange(
        "Secret", "Secret", "AWS::SecretsManager::Secret", "Add"
    )


# IAM and network changes are flagged.


def test_an_iam_policy_change_is_flagged(dev: dict[str, Any]) -> None:
    path = "Api/PutRecordRole/DefaultPolicy"
    document = copy.deepcopy(dev["Resources"][logical_id(dev, path)]["Properties"]["PolicyDocument"])
    document["Statement"].append({"Action": "kinesis:DeleteStream", "Effect": "Allow", "Resource": "*"})
    changes = changes_of(dev, edited(dev, path, PolicyDocument=document))
    (change,) = changes.resources
    assert (change.path, change.properties, change.replacement, change.security) == (
        path,
        ("PolicyDocument",),
        NO,
        True,
    )
    assert changes.summary() == "0 added, 1 modified (0 replaced), 0 removed, 1 IAM/network"


def test_security_group_and_key_policy_changes_are_flagged(dev: dict[str, Any]) -> None:
    egress = [{"CidrIp": "0.0.0.0/0", "Description": "everything", "IpProtocol": "-1"}]
    new = edited(dev, "SecurityGroups/Database", SecurityGroupEgress=egress)
    key_policy = copy.deepcopy(dev["Resources"][logical_id(dev, "Database/Key")]["Properties"]["KeyPolicy"])
    key_policy["Statement"].append(
        {"Action": "kms:Decrypt", "Effect": "Allow", "Principal": {"AWS": "*"}, "Resource": "*"}
    )
    new = edited(new, "Database/Key", KeyPolicy=key_policy)
    changes = changes_of(dev, new)
    assert {(c.path, c.security) for c in changes.resources} == {
        ("SecurityGroups/Database", True),
        ("Database/Key", True),
    }


def test_an_alarm_or_database_change_is_not_flagged(dev: dict[str, Any]) -> None:
    new = edited(dev, DEAD_LETTERS_ALARM, Threshold=1)
    new = edited(new, "Database/Instance", DBInstanceClass="db.t4g.small")
    assert [c.security for c in changes_of(dev, new).resources] == [False, False]


def test_a_new_security_group_description_replaces_the_group(dev: dict[str, Any]) -> None:
    """GroupDescription of AWS::EC2::SecurityGroup: "Update requires: Replacement"."""
    changes = changes_of(dev, edited(dev, "SecurityGroups/Database", GroupDescription="PostgreSQL"))
    group = change_of(changes, logical_id(dev, "SecurityGroups/Database"))
    assert (group.replacement, group.causes, group.security) == (YES, ("GroupDescription",), True)


def test_the_summary_counts_each_kind_of_change() -> None:
    queue = {"Type": "AWS::SQS::Queue", "Properties": {}}
    deployed = {
        "Resources": {
            "Stream": STREAM,
            "Old": queue,
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Description": "a"}},
        }
    }
    new = {
        "Resources": {
            "Stream": {**STREAM, "Properties": {"ShardCount": 1, "Name": "readings"}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Description": "b"}},
            "NewQueue": queue,
            "NewTopic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        }
    }
    changes = changes_of(deployed, new)
    assert changes.summary() == "2 added, 2 modified (1 replaced), 1 removed, 1 IAM/network"


def test_outputs_added_removed_and_modified(dev: dict[str, Any]) -> None:
    new = copy.deepcopy(dev)
    new["Outputs"]["AuditTopicArn"] = {"Value": "arn:aws:sns:us-east-1:222222222222:audit"}
    del new["Outputs"]["VpcId"]
    new["Outputs"]["StreamName"]["Description"] = "The readings stream"
    changes = changes_of(dev, new)
    assert changes.outputs == {"AuditTopicArn": "Add", "StreamName": "Modify", "VpcId": "Remove"}
    assert changes.resources == []
    assert not changes.empty
