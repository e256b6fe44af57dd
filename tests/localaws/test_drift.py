"""Drift detection (localaws.models.drift), through the lead's preflight.drift: what the services describe now
compared with the template as deployed; IN_SYNC, MODIFIED with the property's expected and actual values, DELETED,
and NOT_CHECKED for the types the model does not read."""

from __future__ import annotations

import uuid

from preflight.drift import detect


def test_drift_of_the_modelled_types(deploy, client, account) -> None:
    name = f"drift-{uuid.uuid4().hex[:8]}"
    body = {
        "Resources": {
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1, "RetentionPeriodHours": 24}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/{name}", "RetentionInDays": 7}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        }
    }
    assert deploy(name, body)["StackStatus"] == "CREATE_COMPLETE"
    cloudformation = client("cloudformation")
    assert detect(cloudformation, name, sleep=lambda _: None) == []

    stream = cloudformation.describe_stack_resource(StackName=name, LogicalResourceId="Stream")
    stream_name = stream["StackResourceDetail"]["PhysicalResourceId"]
    client("kinesis").increase_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=48)
    client("logs").delete_log_group(logGroupName=f"/{name}")
    drifts = {d.path: d for d in detect(cloudformation, name, sleep=lambda _: None)}
    assert drifts["Stream"].status == "MODIFIED"
    assert drifts["Stream"].differences == ("RetentionPeriodHours: expected 24, actual 48",)
    assert drifts["Logs"].status == "DELETED"
    assert set(drifts) == {"Stream", "Logs"}

    all_drifts = cloudformation.describe_stack_resource_drifts(StackName=name)["StackResourceDrifts"]
    assert {d["LogicalResourceId"]: d["StackResourceDriftStatus"] for d in all_drifts} == {
        "Stream": "MODIFIED",
        "Logs": "DELETED",
        "Topic": "NOT_CHECKED",
    }
    assert cloudformation.describe_stacks(StackName=name)["Stacks"][0]["DriftInformation"]["StackDriftStatus"] == (
        "DRIFTED"
    )
