"""Drift detection (preflight.drift) on stubbed CloudFormation, CloudWatch and SNS answers: what drifted is read from
every page of DescribeStackResourceDrifts and named by construct path, the count always goes to CloudWatch (the metric
the pipeline's drift alarm watches), and the topic hears only about actual drift."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from preflight.drift import DetectionFailed, Drift, describe, detect, main, report
from tests.assembly import Synth
from tests.preflight.conftest import REGION, StubbedSession

STACK = "Staging-Platform"
STACK_ID = f"arn:aws:cloudformation:{REGION}:333333333333:stack/{STACK}/5b0d7f10-8c2e-11f0-9a3b-0e1f2a3b4c5d"
DETECTION = "2f1c1a9e-7d3b-4c5e-9f0a-1b2c3d4e5f60"
WHEN = datetime(2026, 3, 2, 6, 0, 12, tzinfo=UTC)
TOPIC = f"arn:aws:sns:{REGION}:111111111111:iot-pipeline-notifications"


def logical_id(template: dict[str, Any], path: str) -> str:
    """The logical id of the resource at construct path ``path`` inside its stack (e.g. Ingestion/Stream)."""
    found = [
        name
        for name, resource in template["Resources"].items()
        if resource.get("Metadata", {}).get("aws:cdk:path", "").split("/", 3)[-1] in (path, f"{path}/Resource")
    ]
    assert len(found) == 1, f"{len(found)} resources at {path}"
    return found[0]


def drift_item(
    logical: str, resource_type: str, status: str = "MODIFIED", differences: tuple[tuple[str, str, str], ...] = ()
) -> dict[str, Any]:
    """One StackResourceDrifts item as CloudFormation returns it (``differences``: path, expected, actual)."""
    return {
        "StackId": STACK_ID,
        "LogicalResourceId": logical,
        "PhysicalResourceId": f"{STACK}-{logical}-1A2B3C4D5E6F",
        "ResourceType": resource_type,
        "ExpectedProperties": "{}",
        "ActualProperties": "{}",
        "PropertyDifferences": [
            {"PropertyPath": path, "ExpectedValue": expected, "ActualValue": actual, "DifferenceType": "NOT_EQUAL"}
            for path, expected, actual in differences
        ],
        "StackResourceDriftStatus": status,
        "Timestamp": WHEN,
    }


def status(detection: str, drift: str | None = None, reason: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "StackId": STACK_ID,
        "StackDriftDetectionId": DETECTION,
        "DetectionStatus": detection,
        "Timestamp": WHEN,
    }
    if drift is not None:
        answer |= {"StackDriftStatus": drift, "DriftedStackResourceCount": 0}
    if reason is not None:
        answer["DetectionStatusReason"] = reason
    return answer


def stub_detection(
    cloudformation: Stubber,
    template: dict[str, Any],
    pages: list[list[dict[str, Any]]],
    stack: str = STACK,
    statuses: tuple[dict[str, Any], ...] | None = None,
) -> None:
    """A detection of ``stack`` that completes (or answers ``statuses``), then ``pages`` of drifted resources."""
    cloudformation.add_response("detect_stack_drift", {"StackDriftDetectionId": DETECTION}, {"StackName": stack})
    drifted = any(pages)
    for answer in statuses or (status("DETECTION_COMPLETE", "DRIFTED" if drifted else "IN_SYNC"),):
        cloudformation.add_response(
            "describe_stack_drift_detection_status", answer, {"StackDriftDetectionId": DETECTION}
        )
    cloudformation.add_response(
        "get_template",
        {"TemplateBody": json.dumps(template), "StagesAvailable": ["Original", "Processed"]},
        {"StackName": stack, "TemplateStage": "Original"},
    )
    for number, page in enumerate(pages):
        request: dict[str, Any] = {"StackName": stack, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]}
        if number:
            request["NextToken"] = f"page-{number}"
        answer: dict[str, Any] = {"StackResourceDrifts": page}
        if number + 1 < len(pages):
            answer["NextToken"] = f"page-{number + 1}"
        cloudformation.add_response("describe_stack_resource_drifts", answer, request)


@pytest.fixture
def staging_template(synth: Synth) -> dict[str, Any]:
    return synth.templates["staging"]


def test_drift_on_every_page_is_reported_by_construct_path_with_expected_and_actual_values(
    session: StubbedSession, staging_template: dict[str, Any]
) -> None:
    stream = logical_id(staging_template, "Ingestion/Stream")
    logs = logical_id(staging_template, "Processing/ConsumeLogs")
    stub_detection(
        session.stub("cloudformation"),
        staging_template,
        [
            [drift_item(stream, "AWS::Kinesis::Stream", differences=(("/RetentionPeriodHours", "48", "72"),))],
            [drift_item(logs, "AWS::Logs::LogGroup", status="DELETED")],
        ],
    )
    assert detect(session.client("cloudformation"), STACK) == [
        Drift(
            "Ingestion/Stream", "AWS::Kinesis::Stream", "MODIFIED", ("RetentionPeriodHours: expected 48, actual 72",)
        ),
        Drift("Processing/ConsumeLogs", "AWS::Logs::LogGroup", "DELETED", ()),
    ]


def test_nested_property_paths_and_resources_without_construct_path(session: StubbedSession) -> None:
    template = {"Resources": {"Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {}}}}
    item = drift_item(
        "Stream", "AWS::Kinesis::Stream", differences=(("/StreamEncryption/KeyId", "alias/a", "alias/b"),)
    )
    stub_detection(session.stub("cloudformation"), template, [[item]])
    (drift,) = detect(session.client("cloudformation"), STACK)
    assert drift.path == "Stream"
    assert drift.differences == ("StreamEncryption/KeyId: expected alias/a, actual alias/b",)


def test_an_in_sync_stack_has_no_drift(session: StubbedSession) -> None:
    stub_detection(session.stub("cloudformation"), {"Resources": {}}, [[]])
    assert detect(session.client("cloudformation"), STACK) == []


def test_detection_in_progress_is_polled_until_it_completes(session: StubbedSession) -> None:
    waits: list[float] = []
    running = status("DETECTION_IN_PROGRESS")
    stub_detection(
        session.stub("cloudformation"),
        {"Resources": {}},
        [[]],
        statuses=(running, running, status("DETECTION_COMPLETE", "IN_SYNC")),
    )
    assert detect(session.client("cloudformation"), STACK, sleep=waits.append) == []
    assert len(waits) == 2


def test_detection_that_outlives_its_timeout_fails(session: StubbedSession) -> None:
    cloudformation = session.stub("cloudformation")
    cloudformation.add_response("detect_stack_drift", {"StackDriftDetectionId": DETECTION}, {"StackName": STACK})
    cloudformation.add_response(
        "describe_stack_drift_detection_status",
        status("DETECTION_IN_PROGRESS"),
        {"StackDriftDetectionId": DETECTION},
    )
    with pytest.raises(DetectionFailed, match=f"drift detection of {STACK} did not finish"):
        detect(session.client("cloudformation"), STACK, timeout=-1, sleep=lambda _: None)


def test_a_failed_detection_without_a_result_says_why(session: StubbedSession) -> None:
    cloudformation = session.stub("cloudformation")
    cloudformation.add_response("detect_stack_drift", {"StackDriftDetectionId": DETECTION}, {"StackName": STACK})
    reason = "Failed to detect drift on resource [IngestionStreamE182A196]: Access Denied"
    cloudformation.add_response(
        "describe_stack_drift_detection_status",
        status("DETECTION_FAILED", reason=reason),
        {"StackDriftDetectionId": DETECTION},
    )
    with pytest.raises(DetectionFailed, match=reason.replace("[", r"\[").replace("]", r"\]")):
        detect(session.client("cloudformation"), STACK)


def test_a_partly_failed_detection_still_reports_what_it_found(session: StubbedSession) -> None:
    """DETECTION_FAILED with a StackDriftStatus: some resources could not be checked, the others were."""
    template = {"Resources": {"Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {}}}}
    item = drift_item("Stream", "AWS::Kinesis::Stream", differences=(("/ShardCount", "2", "4"),))
    partial = status("DETECTION_FAILED", "DRIFTED", reason="Failed to detect drift on resource [Custom]")
    stub_detection(session.stub("cloudformation"), template, [[item]], statuses=(partial,))
    assert [d.path for d in detect(session.client("cloudformation"), STACK)] == ["Stream"]


def test_describe_names_each_resource_and_each_property() -> None:
    drifts = [
        Drift(
            "Ingestion/Stream", "AWS::Kinesis::Stream", "MODIFIED", ("RetentionPeriodHours: expected 48, actual 72",)
        ),
        Drift("Processing/ConsumeLogs", "AWS::Logs::LogGroup", "DELETED", ()),
    ]
    lines = describe("staging", STACK, drifts).splitlines()
    assert lines[0].startswith(f"staging ({STACK}): 2 resource(s) drifted")
    assert lines[1] == "- Ingestion/Stream (AWS::Kinesis::Stream) modified"
    assert lines[2].strip() == "RetentionPeriodHours: expected 48, actual 72"
    assert lines[3] == "- Processing/ConsumeLogs (AWS::Logs::LogGroup) deleted"
    assert len(lines) == 4
    assert describe("staging", STACK, []) == f"staging ({STACK}): no drift."


def metric_request(deployment: str, count: int) -> dict[str, Any]:
    return {
        "Namespace": "IotPlatform/Pipeline",
        "MetricData": [
            {
                "MetricName": "DriftedResources",
                "Dimensions": [{"Name": "Deployment", "Value": deployment}],
                "Value": count,
                "Unit": "Count",
            }
        ],
    }


def test_report_without_drift_puts_zero_and_publishes_nothing(session: StubbedSession, synth: Synth) -> None:
    """Stubber refuses any call not stubbed: a publish here would fail the test."""
    staging = synth.config.environment("staging")
    session.stub("cloudwatch").add_response("put_metric_data", {}, metric_request("staging", 0))
    session.stub("sns")
    text = report(staging, [], session.client("cloudwatch"), session.client("sns"), TOPIC)
    assert text == f"staging ({STACK}): no drift."


def test_report_with_drift_puts_the_count_and_tells_the_topic_what_drifted(
    session: StubbedSession, synth: Synth
) -> None:
    staging = synth.config.environment("staging")
    drifts = [Drift("Ingestion/Stream", "AWS::Kinesis::Stream", "MODIFIED", ("ShardCount: expected 2, actual 4",))]
    session.stub("cloudwatch").add_response("put_metric_data", {}, metric_request("staging", 1))
    session.stub("sns").add_response(
        "publish",
        {"MessageId": "5a1d3c2e-9b8f-4e7d-a6c5-b4a3f2e1d0c9"},
        {"TopicArn": TOPIC, "Subject": ANY, "Message": describe("staging", STACK, drifts)},
    )
    published: list[dict[str, Any]] = []
    session.clients["sns"].meta.events.register(
        "before-parameter-build.sns.Publish", lambda params, **_: published.append(dict(params))
    )
    report(staging, drifts, session.client("cloudwatch"), session.client("sns"), TOPIC)
    subject = published[0]["Subject"]
    assert "staging" in subject
    assert len(subject) < 100 and "\n" not in subject  # SNS: under 100 characters, no line break


def test_report_without_a_topic_only_puts_the_metric(session: StubbedSession, synth: Synth) -> None:
    staging = synth.config.environment("staging")
    drifts = [Drift("Ingestion/Stream", "AWS::Kinesis::Stream", "DELETED", ())]
    session.stub("cloudwatch").add_response("put_metric_data", {}, metric_request("staging", 1))
    report(staging, drifts, session.client("cloudwatch"), None, None)


def test_the_metric_put_is_the_one_the_pipeline_drift_alarm_watches(session: StubbedSession, synth: Synth) -> None:
    """Each metric the pipeline's drift alarm reads (one per deployment) is the one report() puts for it."""
    (alarm,) = (
        resource
        for resource in synth.templates["pipeline"]["Resources"].values()
        if resource.get("Metadata", {}).get("aws:cdk:path") == "Pipeline/DriftDetection/Drifted/Resource"
    )
    watched = [query["MetricStat"]["Metric"] for query in alarm["Properties"]["Metrics"] if "MetricStat" in query]
    cloudwatch = session.stub("cloudwatch")
    for metric in watched:
        datum = {"MetricName": metric["MetricName"], "Dimensions": metric["Dimensions"], "Value": 0, "Unit": "Count"}
        cloudwatch.add_response("put_metric_data", {}, {"Namespace": metric["Namespace"], "MetricData": [datum]})
    deployments = [synth.config.environment(metric["Dimensions"][0]["Value"]) for metric in watched]
    assert {d.name for d in deployments} == {d.name for d in synth.config.all_deployments}
    for deployment in deployments:
        report(deployment, [], session.client("cloudwatch"), None, None)


def test_main_checks_every_deployment_and_exits_0_when_detection_ran(
    session: StubbedSession, synth: Synth, capsys: pytest.CaptureFixture[str]
) -> None:
    cloudformation, cloudwatch = session.stub("cloudformation"), session.stub("cloudwatch")
    for deployment in synth.config.all_deployments:
        stack = synth.stage_stack(deployment.name).name
        stub_detection(cloudformation, synth.templates[deployment.name], [[]], stack=stack)
        cloudwatch.add_response("put_metric_data", {}, metric_request(deployment.name, 0))
    assert main([], session=session) == 0
    out = capsys.readouterr().out
    assert [line.split(" ")[0] for line in out.splitlines()] == [d.name for d in synth.config.all_deployments]


def test_main_publishes_drift_of_one_deployment_to_the_topic(
    session: StubbedSession, staging_template: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    stream = logical_id(staging_template, "Ingestion/Stream")
    item = drift_item(stream, "AWS::Kinesis::Stream", differences=(("/RetentionPeriodHours", "48", "72"),))
    stub_detection(session.stub("cloudformation"), staging_template, [[item]])
    session.stub("cloudwatch").add_response("put_metric_data", {}, metric_request("staging", 1))
    session.stub("sns").add_response(
        "publish",
        {"MessageId": "5a1d3c2e-9b8f-4e7d-a6c5-b4a3f2e1d0c9"},
        {"TopicArn": TOPIC, "Subject": ANY, "Message": ANY},
    )
    assert main(["--env", "staging", "--topic-arn", TOPIC], session=session) == 0
    assert "Ingestion/Stream (AWS::Kinesis::Stream) modified" in capsys.readouterr().out


def test_main_exits_1_when_a_stack_cannot_be_checked_and_still_checks_the_others(
    session: StubbedSession, synth: Synth, capsys: pytest.CaptureFixture[str]
) -> None:
    cloudformation, cloudwatch = session.stub("cloudformation"), session.stub("cloudwatch")
    for deployment in synth.config.all_deployments:
        stack = synth.stage_stack(deployment.name).name
        if deployment.name == "staging":
            cloudformation.add_client_error(
                "detect_stack_drift",
                service_error_code="AccessDenied",
                service_message="User: arn:aws:sts::333333333333:assumed-role/cdk-hnb659fds-lookup-role/drift is not "
                "authorized to perform: cloudformation:DetectStackDrift",
                http_status_code=403,
                expected_params={"StackName": stack},
            )
            continue
        stub_detection(cloudformation, synth.templates[deployment.name], [[]], stack=stack)
        cloudwatch.add_response("put_metric_data", {}, metric_request(deployment.name, 0))
    assert main([], session=session) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("Could not detect drift of staging: ")
    assert "prod (Prod-Platform): no drift." in captured.out


def test_main_exits_2_on_an_unknown_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env", "qa"], session=object()) == 2
    assert capsys.readouterr().err.strip() == "Invalid config: environments.qa is not a configured environment."
