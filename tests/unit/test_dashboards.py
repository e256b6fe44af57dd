"""Dashboards and alarms: the platform dashboard per stage, the users-hurt composite, and the pipeline dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.assembly import ENVIRONMENTS, Synth, cdk_context


def _body(synth: Synth, name: str, prefix: str) -> str:
    """The rendered dashboard body (Fn::Join parts flattened; tokens shown as their JSON)."""
    (dashboard,) = [
        d
        for d in synth.resources(name, "AWS::CloudWatch::Dashboard").values()
        if d["Properties"]["DashboardName"] == prefix
    ]
    body = dashboard["Properties"]["DashboardBody"]
    return "".join(p if isinstance(p, str) else json.dumps(p) for p in body["Fn::Join"][1])


def _alarms(synth: Synth, name: str) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources(name, "AWS::CloudWatch::Alarm").values()
        if "AlarmName" in a["Properties"]
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_platform_dashboard_has_every_metric(synth: Synth, env: str) -> None:
    body = _body(synth, env, f"iot-platform-{env}")
    for namespace, metrics in {
        "AWS/Kinesis": ("IncomingRecords", "GetRecords.IteratorAgeMilliseconds"),
        "AWS/ECS": ("CPUUtilization", "MemoryUtilization"),
        "ECS/ContainerInsights": ("RunningTaskCount",),
        "AWS/RDS": ("CPUUtilization", "DatabaseConnections", "FreeStorageSpace"),
        "AWS/ElastiCache": ("EngineCPUUtilization", "FreeableMemory", "Evictions"),
        "AWS/ApiGateway": ("4XXError", "5XXError", "Latency"),
        "IotPlatform/Processor": (
            "RecordsProcessed",
            "RecordsStored",
            "RecordsInvalid",
            "RecordsDuplicate",
            "RecordsConflicting",
            "BatchLatency",
            "LeasesHeld",
        ),
    }.items():
        assert namespace in body, (env, namespace)
        for metric in metrics:
            assert f'"{metric}"' in body, (env, metric)
    assert '"StreamName"' in body  # the processor's EMF dimension
    assert body.count('"ServiceName"') >= 2  # both Fargate services
    # Per shard (the processor's ShardId dimension), whatever shards the stream has after a reshard: a search.
    for metric in ("MillisBehindLatest", "ReadThrottles"):
        assert f'SEARCH(\'{{IotPlatform/Processor,ShardId,StreamName}} MetricName=\\"{metric}\\" StreamName=' in body, (
            env,
            metric,
        )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_credentials_that_stay_wrong_after_a_rotation_notify(synth: Synth, env: str) -> None:
    """The processor counts DatabaseAuthFailures per service only when the re-read secret still does not log in."""
    alarms = _alarms(synth, env)
    for service in ("Consume", "Serve"):
        alarm = alarms[f"iot-{env}-Processor-DatabaseAuth{service}-Warning"]
        (metric,) = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m] or [alarm]
        assert metric["MetricName"] == "DatabaseAuthFailures" and metric["Namespace"] == "IotPlatform/Processor"
        # The deployment's stream too: environments sharing an account and region must not trip each other's alarm.
        (stream,) = synth.resources(env, "AWS::Kinesis::Stream")
        assert sorted(metric["Dimensions"], key=lambda d: d["Name"]) == [
            {"Name": "Service", "Value": service.lower()},
            {"Name": "StreamName", "Value": {"Ref": stream}},
        ]
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarms_on_what_hurts_users_roll_up(synth: Synth, env: str) -> None:
    monitoring = cdk_context()["platform"]["environments"][env]["monitoring"]
    alarms = _alarms(synth, env)
    critical = {name for name in alarms if name.endswith("-Critical")}
    assert critical == {
        f"iot-{env}-Stream-Iterator-Age-Max-Critical",
        f"iot-{env}-Database-Min-Usage-Count-Critical",
        f"iot-{env}-Api-Latency-P99-Critical",
        f"iot-{env}-Api-Fault-Rate-Critical",
    }
    assert alarms[f"iot-{env}-Api-Latency-P99-Critical"]["Threshold"] == monitoring["api_p99_latency_ms"]
    assert alarms[f"iot-{env}-Api-Fault-Rate-Critical"]["Threshold"] == monitoring["api_5xx_percent"] / 100
    assert alarms[f"iot-{env}-Stream-Iterator-Age-Max-Critical"]["Threshold"] == monitoring["iterator_age_alarm_ms"]
    assert alarms[f"iot-{env}-Processor-DeadLetters-Warning"]["Threshold"] == monitoring["dead_letters_per_5_minutes"]
    (composite,) = synth.resources(env, "AWS::CloudWatch::CompositeAlarm").values()
    assert composite["Properties"]["AlarmName"] == f"iot-{env}-users-hurt"
    rule = json.dumps(composite["Properties"]["AlarmRule"])
    ids = {
        k
        for k, a in synth.resources(env, "AWS::CloudWatch::Alarm").items()
        if a["Properties"].get("AlarmName") in critical
    }
    assert all(logical_id in rule for logical_id in ids) and len(ids) == 4
    assert "Warning" not in rule
    (topic_id,) = synth.resources(env, "AWS::SNS::Topic")
    for alarm in (*alarms.values(), composite["Properties"]):
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarm_topic_encrypted_with_configured_emails(synth: Synth, env: str) -> None:
    (topic,) = synth.resources(env, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    emails = cdk_context()["platform"]["environments"][env]["monitoring"]["alarm_emails"]
    subscriptions = synth.resources(env, "AWS::SNS::Subscription").values()
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions) == sorted(emails)


def test_pipeline_dashboard(synth: Synth) -> None:
    body = _body(synth, "pipeline", "iot-pipeline")
    for metric in ("ExecutionsSucceeded", "ExecutionsFailed", "StageFailures", "ProdDeployments"):
        assert f'"{metric}"' in body
    for stage in ("Build", "Dev", "Staging", "Prod"):
        assert f'"Stage","{stage}"' in body
    assert "EPOCH(FILL(deploys, 0)) - FILL(EPOCH(deploys), REPEAT)" in body  # hours since the last prod deploy
    assert "stats (max(@timestamp) - min(@timestamp)) / 60000 as minutes" in body  # execution duration
    projects = {k for k in synth.resources("pipeline", "AWS::CodeBuild::Project")}
    durations = body.count('"AWS/CodeBuild","Duration"')
    # synth + pre-flight and integration tests of each stage
    assert durations >= 7 and all(
        p in body for p in projects if "Synth" in p or "Preflight" in p or "IntegrationTests" in p
    )


def test_pipeline_events_feed_metric_filters(synth: Synth) -> None:
    (rule,) = synth.resources("pipeline", "AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.codepipeline"]
    assert set(pattern["detail-type"]) == {
        "CodePipeline Pipeline Execution State Change",
        "CodePipeline Stage Execution State Change",
    }
    (log_group_id, log_group) = next(iter(synth.resources("pipeline", "AWS::Logs::LogGroup").items()))
    assert log_group["Properties"]["LogGroupName"].startswith("/aws/events/")
    filters = {
        f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"]
        for f in synth.resources("pipeline", "AWS::Logs::MetricFilter").values()
    }
    assert set(filters) == {"ExecutionsSucceeded", "ExecutionsFailed", "StageFailures", "ProdDeployments"}
    assert '$.detail.stage = "Prod"' in filters["ProdDeployments"]["FilterPattern"]
    assert filters["StageFailures"]["MetricTransformations"][0]["Dimensions"] == [
        {"Key": "Stage", "Value": "$.detail.stage"}
    ]
    assert log_group_id
