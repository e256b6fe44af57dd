"""The compliance gate itself: an unacknowledged cdk-nag finding fails `cdk synth` (built in-process)."""

from __future__ import annotations

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
