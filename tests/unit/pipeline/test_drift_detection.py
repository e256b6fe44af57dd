"""Drift detection (#12): on the configured schedule, a CodeBuild build of the branch checks every deployment's stack
for drift, read-only as each account's lookup role; the count per deployment goes to CloudWatch (an alarm and the
pipeline dashboard watch it) and what drifted to the pipeline's topic; a run that cannot detect notifies too."""

from __future__ import annotations

import json
from typing import Any

from platform_config.alarms import DRIFT_METRIC as METRIC_NAME
from platform_config.alarms import PIPELINE_METRIC_NAMESPACE as PUT_NAMESPACE  # what preflight.drift puts
from tests.assembly import Synth
from tests.unit.templates import buildspec


def _only(synth: Synth, resource_type: str, path: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, r["Properties"])
        for k, r in synth.resources("pipeline", resource_type).items()
        if synth.path_of("pipeline", k).startswith(path)
    ]
    return found


def _statements(synth: Synth, role_id: str) -> list[dict[str, Any]]:
    return [
        s
        for p in synth.resources("pipeline", "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_a_schedule_from_config_starts_a_build_of_the_branch(synth: Synth) -> None:
    project_id, project = _only(synth, "AWS::CodeBuild::Project", "Pipeline/DriftDetection/Project/")
    _, schedule = _only(synth, "AWS::Scheduler::Schedule", "Pipeline/DriftDetection/Schedule/")
    assert schedule["ScheduleExpression"] == synth.config.pipeline.drift_schedule == "cron(0 6 * * ? *)"  # daily
    assert schedule["State"] == "ENABLED"
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": [project_id, "Arn"]}
    scheduler_role = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
    (start,) = _statements(synth, scheduler_role)
    assert start["Action"] == "codebuild:StartBuild" and start["Resource"] == {"Fn::GetAtt": [project_id, "Arn"]}
    assert project["SourceVersion"] == synth.config.pipeline.branch
    assert project["Source"]["Auth"]["Resource"] == synth.config.pipeline.connection_arn


def test_the_job_reads_every_deployment_as_its_lookup_role_and_writes_only_its_findings(synth: Synth) -> None:
    _, project = _only(synth, "AWS::CodeBuild::Project", "Pipeline/DriftDetection/Project/")
    statements = _statements(synth, project["ServiceRole"]["Fn::GetAtt"][0])
    (assume,) = [s for s in statements if s["Action"] == "sts:AssumeRole"]
    assert sorted(assume["Resource"]) == sorted(
        f"arn:aws:iam::{d.account}:role/cdk-hnb659fds-lookup-role-{d.account}-{d.region}"
        for d in synth.config.all_deployments
    )
    (metrics,) = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": PUT_NAMESPACE}}  # and only there
    (topic_id,) = synth.resources("pipeline", "AWS::SNS::Topic")
    (publish,) = [s for s in statements if s["Action"] == "sns:Publish"]
    assert publish["Resource"] == {"Ref": topic_id}
    spec = buildspec(synth, {"Properties": project})
    assert spec["phases"]["build"]["commands"] == ['python -m preflight.drift --lookup-role --topic-arn "$TOPIC_ARN"']
    variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert variables["TOPIC_ARN"] == {"Ref": topic_id}
    assert "--require-hashes" in " ".join(spec["phases"]["install"]["commands"])


def test_an_alarm_on_any_drifted_deployment_notifies_the_topic(synth: Synth) -> None:
    _, alarm = _only(synth, "AWS::CloudWatch::Alarm", "Pipeline/DriftDetection/Drifted/")
    (topic_id,) = synth.resources("pipeline", "AWS::SNS::Topic")
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    watched = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]: m["MetricStat"]["Metric"]
        for m in alarm["Metrics"]
        if "MetricStat" in m
    }
    assert sorted(watched) == sorted(d.name for d in synth.config.all_deployments)
    assert {(m["Namespace"], m["MetricName"]) for m in watched.values()} == {(PUT_NAMESPACE, METRIC_NAME)}
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"].startswith("MAX(") and expression["ReturnData"] is True


def test_a_run_that_cannot_detect_notifies_the_topic(synth: Synth) -> None:
    project_id, _ = _only(synth, "AWS::CodeBuild::Project", "Pipeline/DriftDetection/Project/")
    (topic_id,) = synth.resources("pipeline", "AWS::SNS::Topic")
    (rule,) = [
        r["Properties"]
        for r in synth.resources("pipeline", "AWS::CodeStarNotifications::NotificationRule").values()
        if r["Properties"]["Resource"] == {"Fn::GetAtt": [project_id, "Arn"]}
    ]
    assert rule["EventTypeIds"] == ["codebuild-project-build-state-failed"]
    assert rule["Targets"] == [{"TargetAddress": {"Ref": topic_id}, "TargetType": "SNS"}]


def test_the_dashboard_shows_drift_per_deployment(synth: Synth) -> None:
    (dashboard,) = synth.resources("pipeline", "AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))  # tokens are inside strings
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title") == "Drifted resources per deployment"]
    assert [m[:4] for m in widget["properties"]["metrics"]] == [
        [PUT_NAMESPACE, METRIC_NAME, "Deployment", d.name] for d in synth.config.all_deployments
    ]
