"""The compliance gates themselves, built in-process: an unacknowledged cdk-nag finding fails `cdk synth`, and the
validation engine runs once, with its default rules and ours (validation/cfn-lint-parity.rego)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from lib.compliance import add_compliance_checks


def test_unacknowledged_finding_fails_synth(tmp_path: Path) -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_sqs as sqs

    app = App(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = Stack(app, "Violating")
    sqs.Queue(stack, "Queue")  # no SSL enforcement, no DLQ: AwsSolutions errors
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    nag = next(p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions")
    assert nag["conclusion"] == "failure"
    assert "AwsSolutions-SQS4" in {v["ruleName"] for v in nag["violations"]}


def _engine_rules(tmp_path: Path, build: object) -> tuple[set[str], str]:
    """Synthesize one stack with the app's gates and return the engine's unacknowledged rule ids and its conclusion."""
    from aws_cdk import App, Stack

    app = App(outdir=str(tmp_path), context={"@aws-cdk/core:validateAgainstDefaultRules": True})
    add_compliance_checks(app)
    build(Stack(app, "Checked", env={"account": "222222222222", "region": "us-east-1"}))  # type: ignore[operator]
    with contextlib.suppress(RuntimeError):  # an ERROR fails synth; the report says which
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    engines = [p for p in report["pluginReports"] if p["pluginName"] == "CloudFormation Validate"]
    assert len(engines) == 1  # ours replaces the one the flag adds: the templates are validated once
    return {v["ruleName"] for v in engines[0].get("violations", [])}, engines[0]["conclusion"]


def test_the_engine_runs_our_cfn_lint_parity_rules(tmp_path: Path) -> None:
    """validation/cfn-lint-parity.rego is loaded: an alarm period CloudWatch refuses (cfn-lint E3615, which the
    engine's own rules do not check) fails synth as IOT-006."""
    from aws_cdk import aws_cloudwatch as cloudwatch

    def build(stack: object) -> None:
        cloudwatch.CfnAlarm(
            stack,  # type: ignore[arg-type]
            "Alarm",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=1,
            threshold=1,
            metric_name="Errors",
            namespace="Example",
            statistic="Sum",
            period=45,
        )

    rules, conclusion = _engine_rules(tmp_path, build)
    assert "IOT-006" in rules and conclusion == "failure"


def test_the_engine_keeps_its_default_rules(tmp_path: Path) -> None:
    """Registering our rules keeps the engine's own: an invalid Kinesis stream mode is still reported (W3030)."""
    from aws_cdk import aws_kinesis as kinesis

    def build(stack: object) -> None:
        kinesis.CfnStream(stack, "Stream", shard_count=1, stream_mode_details={"streamMode": "ONDEMAND"})  # type: ignore[arg-type]

    rules, _ = _engine_rules(tmp_path, build)
    assert "W3030" in rules
