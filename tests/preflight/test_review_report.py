"""The review as people and tools read it (preflight.review.report): the approver's one-line headline, the Markdown
report, the JSON document and the JUnit file of the CodeBuild report group (a guard stop fails its resource's case)."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from preflight.review.changes import MAYBE, NO, YES, ResourceChange, StackChanges
from preflight.review.guard import violations
from preflight.review.report import as_json, headline, junit, markdown

STACK = "Prod-Platform"
SETTING = "environments.prod.review.allow_replacements"

INSTANCE = ResourceChange(
    "DatabaseInstanceAA8A5FDE",
    "Database/Instance",
    "AWS::RDS::DBInstance",
    "Modify",
    ("DBInstanceClass", "DBInstanceIdentifier"),
    YES,
    ("DBInstanceIdentifier",),
)
ALARM = ResourceChange(
    "MonitoringFacadeAlarm1A2B3C4D",
    "Monitoring/Facade/iot-prod-Api-Latency",
    "AWS::CloudWatch::Alarm",
    "Modify",
    ("Threshold",),
    NO,
    (),
)
POLICY = ResourceChange("ApiRolePolicy5E6F7A8B", "Api/PutRecordRole/DefaultPolicy", "AWS::IAM::Policy", "Add")
STREAM = ResourceChange("IngestionStreamE182A196", "Ingestion/Stream", "AWS::Kinesis::Stream", "Remove")
AUTH_TOKEN = ResourceChange(
    "CacheReplicationGroupBFE59FF3",
    "Cache/ReplicationGroup",
    "AWS::ElastiCache::ReplicationGroup",
    "Modify",
    ("AuthToken",),
    MAYBE,
    ("AuthToken",),
)


def reviewed(*resources: ResourceChange, outputs: dict[str, str] | None = None) -> StackChanges:
    return StackChanges(STACK, list(resources), outputs or {})


def test_the_headline_says_no_change_when_nothing_changes() -> None:
    assert headline("prod", reviewed()) == "prod: no change"


def test_the_headline_counts_each_kind_of_change() -> None:
    changes = reviewed(INSTANCE, ALARM, POLICY, STREAM)
    assert headline("prod", changes) == "prod: 1 added, 2 modified (1 replaced), 1 removed, 1 IAM/network"


def test_the_headline_counts_changed_outputs_too() -> None:
    """An outputs-only change is a change: the approval must not read as if nothing changed."""
    assert headline("prod", reviewed(outputs={"ApiUrl": "Modify"})) == (
        "prod: 0 added, 0 modified (0 replaced), 0 removed, 0 IAM/network, 1 output"
    )
    two = reviewed(ALARM, outputs={"ApiUrl": "Modify", "DashboardUrl": "Add"})
    assert headline("prod", two).endswith(", 2 outputs")


def test_markdown_has_one_row_per_resource_with_its_change() -> None:
    report = markdown("prod", reviewed(INSTANCE, ALARM, POLICY, STREAM, AUTH_TOKEN), [])
    rows = {line.split("`")[1]: line for line in report.splitlines() if line.startswith("| ") and "`" in line}
    assert set(rows) == {c.path for c in (INSTANCE, ALARM, POLICY, STREAM, AUTH_TOKEN)}
    instance = rows["Database/Instance"]
    assert "AWS::RDS::DBInstance" in instance
    assert "DBInstanceClass" in instance
    assert "REPLACE (DBInstanceIdentifier)" in instance
    assert "MAY REPLACE (AuthToken)" in rows["Cache/ReplicationGroup"]
    assert "REPLACE" not in rows[ALARM.path] and "Threshold" in rows[ALARM.path]
    assert "remove" in rows["Ingestion/Stream"] and "add" in rows[POLICY.path]
    flagged = {path for path, row in rows.items() if row.rstrip(" |").endswith("yes")}
    assert flagged == {POLICY.path}


def test_markdown_leads_with_the_headline_and_lists_the_guard_stops() -> None:
    changes = reviewed(INSTANCE)
    stops = violations(changes, (), SETTING)
    lines = markdown("prod", changes, stops).splitlines()
    assert lines[0] == f"# Change review: {headline('prod', changes)}"
    assert f"- {stops[0]}" in lines
    assert not any("stateful-replacement guard" in line for line in markdown("prod", changes, []).splitlines())


def test_markdown_says_nothing_changes_and_lists_changed_outputs() -> None:
    assert "Nothing changes" in markdown("prod", reviewed(), [])
    report = markdown("prod", reviewed(outputs={"ApiUrl": "Modify", "AuditTopicArn": "Add"}), [])
    assert "Nothing changes" not in report
    assert "ApiUrl" in report and "AuditTopicArn" in report


def test_json_carries_every_change_with_its_flag_and_the_stops() -> None:
    changes = reviewed(INSTANCE, POLICY, outputs={"ApiUrl": "Modify"})
    stops = violations(changes, (), SETTING)
    document = json.loads(as_json("prod", changes, stops))
    assert document["environment"] == "prod"
    assert document["stack"] == STACK
    assert document["summary"] == headline("prod", changes)
    assert document["stopped"] == stops
    assert document["outputs"] == {"ApiUrl": "Modify"}
    instance, policy = document["resources"]
    assert instance["path"] == "Database/Instance"
    assert instance["replacement"] == YES
    assert instance["causes"] == ["DBInstanceIdentifier"]
    assert (instance["security"], policy["security"]) == (False, True)


def test_junit_has_one_case_per_resource_and_a_stop_fails_its_case() -> None:
    changes = reviewed(INSTANCE, ALARM, STREAM)
    stops = violations(changes, (), SETTING)
    assert len(stops) == 2  # the instance replaced, the stream deleted
    suite = ET.fromstring(junit("prod", changes, stops))
    cases = suite.findall("testcase")
    assert suite.get("tests") == "3"
    assert suite.get("failures") == "2"
    assert len(cases) == 3
    failed = {case.get("name", "").split(" ")[0]: case.find("failure") for case in cases}
    assert failed["Monitoring/Facade/iot-prod-Api-Latency"] is None
    assert failed["Database/Instance"] is not None and failed["Database/Instance"].get("message") in stops
    assert failed["Ingestion/Stream"] is not None and failed["Ingestion/Stream"].get("message") in stops
    assert {case.get("classname") for case in cases} == {STACK}


def test_junit_without_changes_is_one_passing_case() -> None:
    suite = ET.fromstring(junit("prod", reviewed(), []))
    (case,) = suite.findall("testcase")
    assert case.find("failure") is None
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
