"""Gates: cdk-nag (AwsSolutions) and CloudFormation's validation engine (with validation/*.rego) over the whole app,
every finding acknowledged or failing; the synth summary that enforces it."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests.assembly import REPO_ROOT, Synth

PINNED = Path(__file__).with_name("acknowledged_findings.txt")


def _summary_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synth_summary", REPO_ROOT / "scripts" / "synth_summary.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _acknowledged(report: dict) -> set[str]:
    return {
        f"{violation['ruleName']} {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin.get("suppressedViolations", [])
        for construct in violation["violatingConstructs"]
    }


def test_both_validation_plugins_ran_and_passed(synth: Synth) -> None:
    plugins = {p["pluginName"]: p for p in synth.report["pluginReports"]}
    assert set(plugins) == {"AwsSolutions", "CloudFormation Validate"}
    for plugin in plugins.values():
        assert plugin["conclusion"] == "success"
        assert plugin["violations"] == []


def test_nag_covers_pipeline_and_every_stage(synth: Synth) -> None:
    paths = {line.split(" ", 1)[1] for line in _acknowledged(synth.report)}
    for prefix in (
        "Pipeline/Pipeline/",
        "Pipeline/Dev/Platform/",
        "Pipeline/Staging/Platform/",
        "Pipeline/Prod/Platform/",
    ):
        assert any(path.startswith(prefix) for path in paths), prefix


def test_acknowledged_findings_are_pinned(synth: Synth) -> None:
    pinned = {line for line in PINNED.read_text().splitlines() if line and not line.startswith("#")}
    actual = _acknowledged(synth.report)
    assert sorted(actual - pinned) == [], "new acknowledgement: review it and add it to acknowledged_findings.txt"
    assert sorted(pinned - actual) == [], "acknowledgement no longer needed: remove it from acknowledged_findings.txt"


def test_every_acknowledgement_has_a_specific_reason(synth: Synth) -> None:
    for plugin in synth.report["pluginReports"]:
        for violation in plugin.get("suppressedViolations", []):
            assert len(violation["reason"]) >= 80, violation["acknowledgedId"]


def test_environment_specific_acknowledgements_follow_config() -> None:
    lines = PINNED.read_text().splitlines()
    assert "AwsSolutions-RDS3 Pipeline/Dev/Platform/Database/Instance/Resource" in lines
    assert not any(
        line.startswith(("AwsSolutions-RDS3 ", "AwsSolutions-RDS10 ", "AwsSolutions-AEC4 ")) and "/Prod/" in line
        for line in lines
    )


def test_validate_against_default_rules_flag_is_on() -> None:
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    assert context["@aws-cdk/core:validateAgainstDefaultRules"] is True


def test_the_engine_validated_every_template_once_with_our_rules(synth: Synth) -> None:
    script = _summary_script()
    templates = script.stack_templates(synth.outdir)
    assert len(templates) == 7  # the pipeline, and per environment its platform and account-settings stacks
    engines = [p for p in synth.report["pluginReports"] if p["pluginName"] == "CloudFormation Validate"]
    assert len(engines) == 1 and engines[0]["conclusion"] == "success"
    rules = sorted((REPO_ROOT / "validation").glob("*.rego"))
    assert [r.name for r in rules] == ["cfn-lint-parity.rego"]


def test_an_unacknowledged_warning_fails_the_summary(synth: Synth, tmp_path: Path) -> None:
    """`cdk synth` lets the engine's warnings through (an invalid enum, an open security group); the summary not."""
    script = _summary_script()
    outdir = tmp_path / "cdk.out"
    shutil.copytree(synth.outdir, outdir)
    report = json.loads((outdir / "validation-report.json").read_text())
    engine = next(p for p in report["pluginReports"] if p["pluginName"] == "CloudFormation Validate")
    engine["violations"] = [
        {
            "ruleName": "W3030",
            "description": "'ONDEMAND' is not one of ['ON_DEMAND', 'PROVISIONED']",
            "violatingConstructs": [{"constructPath": "Pipeline/Dev/Platform/Ingestion/Stream/Resource"}],
        }
    ]
    (outdir / "validation-report.json").write_text(json.dumps(report))
    assert script.main(["synth_summary.py", str(outdir)]) == 1


def test_synth_summary_passes(synth: Synth, capsys: pytest.CaptureFixture[str]) -> None:
    script = _summary_script()
    assert script.main(["synth_summary.py", str(synth.outdir)]) == 0
    out = capsys.readouterr().out
    assert "Stacks: 7" in out
    pinned = [line for line in PINNED.read_text().splitlines() if line.startswith("AwsSolutions-")]
    assert f"AwsSolutions: {len(pinned)} acknowledged, 0 unacknowledged" in out
    assert out.rstrip().endswith("synth gates: PASS")
