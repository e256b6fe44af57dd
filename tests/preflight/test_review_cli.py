"""`python -m preflight.review` end to end on the synthesized cloud assembly and stubbed deployed stacks: what it
reports, what it writes for the pipeline (reports/review-<deployment>.{md,json,xml}, reports/review-<env>.env), and its
exit codes (0 reviewed, 1 stopped by the guard, 2 invalid input, 3 an account that cannot be asked)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from platform_config import PlatformConfig, load_config_file
from preflight.review import base
from preflight.review.__main__ import main, run
from preflight.review.base import template_fingerprint
from tests.assembly import REPO_ROOT, Synth
from tests.preflight.conftest import FakeSts, StubbedSession, install_fake_sts
from tests.preflight.test_review_base import stub_deployed
from tests.preflight.test_review_changes import DEAD_LETTERS_ALARM, edited, logical_id

STAGING_ALARM = DEAD_LETTERS_ALARM.replace("iot-dev", "iot-staging")


def exported(reports: Path, environment: str) -> dict[str, str]:
    """The variables the review step exports, read the way its buildspec does: `. reports/review-<env>.env`."""
    script = '. "$1" && printf "%s\\n%s\\n%s" "$REVIEW_SUMMARY" "$REVIEW_CHANGES" "$REVIEW_BASE"'
    path = reports / f"review-{environment}.env"
    out = subprocess.run(["sh", "-c", script, "sh", str(path)], capture_output=True, text=True, check=True).stdout
    summary, changes, reviewed = out.split("\n")
    return {"REVIEW_SUMMARY": summary, "REVIEW_CHANGES": changes, "REVIEW_BASE": reviewed}


def config_with(tmp_path: Path, environment: str, **review: Any) -> Path:
    """A copy of cdk.json whose ``environment`` has these review settings."""
    document = json.loads((REPO_ROOT / "cdk.json").read_text())
    document["context"]["platform"]["environments"][environment]["review"].update(review)
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps(document))
    return path


def review_staging(
    session: StubbedSession, synth: Synth, deployed: dict[str, Any] | None, reports: Path, config: PlatformConfig
) -> int:
    stub_deployed(session, deployed)
    return run(config, "staging", synth.outdir, reports, lambda _: session.client("cloudformation"))


@pytest.fixture
def staging(synth: Synth) -> dict[str, Any]:
    return synth.templates["staging"]


def test_an_unchanged_environment_reports_no_change(
    session: StubbedSession, synth: Synth, staging: dict[str, Any], tmp_path: Path
) -> None:
    assert review_staging(session, synth, staging, tmp_path, synth.config) == 0
    variables = exported(tmp_path, "staging")
    assert variables["REVIEW_SUMMARY"] == "staging: no change"
    assert variables["REVIEW_CHANGES"] == "0"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "review-staging.env",
        "review-staging.json",
        "review-staging.md",
        "review-staging.xml",
    ]
    assert json.loads((tmp_path / "review-staging.json").read_text())["resources"] == []


def test_the_exported_base_passes_the_recheck_until_the_stack_is_deployed_again(
    session: StubbedSession, synth: Synth, staging: dict[str, Any], tmp_path: Path
) -> None:
    assert review_staging(session, synth, staging, tmp_path, synth.config) == 0
    reviewed = exported(tmp_path, "staging")["REVIEW_BASE"]
    assert list(base.parse(reviewed)) == ["staging"]
    stub_deployed(session, staging)
    stub_deployed(session, edited(staging, STAGING_ALARM, Threshold=1))  # someone deployed in between
    recheck = ["--env", "staging", "--expect", reviewed]
    assert base.main(recheck, clients=lambda _: session.client("cloudformation")) == 0
    assert base.main(recheck, clients=lambda _: session.client("cloudformation")) == 1


def test_a_new_alarm_threshold_is_one_modification_and_passes(
    session: StubbedSession, synth: Synth, staging: dict[str, Any], tmp_path: Path
) -> None:
    threshold = staging["Resources"][logical_id(staging, STAGING_ALARM)]["Properties"]["Threshold"]
    deployed = edited(staging, STAGING_ALARM, Threshold=threshold + 100)
    assert review_staging(session, synth, deployed, tmp_path, synth.config) == 0
    variables = exported(tmp_path, "staging")
    assert variables["REVIEW_SUMMARY"] == "staging: 0 added, 1 modified (0 replaced), 0 removed, 0 IAM/network"
    assert variables["REVIEW_CHANGES"] == "1"
    (change,) = json.loads((tmp_path / "review-staging.json").read_text())["resources"]
    assert (change["path"], change["properties"], change["replacement"]) == (STAGING_ALARM, ["Threshold"], "no")


def test_replacing_the_database_stops_staging_and_says_why(
    session: StubbedSession,
    synth: Synth,
    staging: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deployed = edited(staging, "Database/Instance", DBInstanceIdentifier="iot-staging-db")
    assert review_staging(session, synth, deployed, tmp_path, synth.config) == 1
    (stop,) = capsys.readouterr().err.splitlines()
    assert stop.startswith("Staging-Platform: Database/Instance (AWS::RDS::DBInstance) ")
    assert "DBInstanceIdentifier" in stop
    assert 'environments.staging.review.allow_replacements: ["Database/Instance:DBInstanceIdentifier"]' in stop
    assert json.loads((tmp_path / "review-staging.json").read_text())["stopped"] == [stop]
    assert stop in (tmp_path / "review-staging.md").read_text()
    assert ET.parse(tmp_path / "review-staging.xml").getroot().get("failures") == "1"
    assert "1 replaced" in exported(tmp_path, "staging")["REVIEW_SUMMARY"]


def test_the_allowed_database_replacement_passes(
    session: StubbedSession, synth: Synth, staging: dict[str, Any], tmp_path: Path
) -> None:
    config = load_config_file(
        config_with(tmp_path, "staging", allow_replacements=["Database/Instance:DBInstanceIdentifier"])
    )
    deployed = edited(staging, "Database/Instance", DBInstanceIdentifier="iot-staging-db")
    reports = tmp_path / "reports"
    assert review_staging(session, synth, deployed, reports, config) == 0
    document = json.loads((reports / "review-staging.json").read_text())
    assert document["stopped"] == []
    assert "Database/Instance" in {c["path"] for c in document["resources"] if c["replacement"] == "replace"}


def test_without_the_guard_a_replacement_is_reported_not_stopped(
    session: StubbedSession, synth: Synth, staging: dict[str, Any], tmp_path: Path
) -> None:
    config = load_config_file(config_with(tmp_path, "staging", guard=False))
    deployed = edited(staging, "Database/Instance", DBInstanceIdentifier="iot-staging-db")
    reports = tmp_path / "reports"
    assert review_staging(session, synth, deployed, reports, config) == 0
    assert "1 replaced" in exported(reports, "staging")["REVIEW_SUMMARY"]


def test_a_first_deployment_adds_everything_and_its_base_says_none(
    session: StubbedSession, synth: Synth, staging: dict[str, Any], tmp_path: Path
) -> None:
    assert review_staging(session, synth, None, tmp_path, synth.config) == 0
    variables = exported(tmp_path, "staging")
    assert variables["REVIEW_CHANGES"] == str(len(staging["Resources"]) + len(staging["Outputs"]))
    assert variables["REVIEW_BASE"] == f"staging:none:{template_fingerprint(staging)}"  # nothing seen; this reviewed
    assert variables["REVIEW_SUMMARY"].startswith(f"staging: {len(staging['Resources'])} added, 0 modified")


def test_main_reviews_every_environment_with_all(
    session: StubbedSession, synth: Synth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for environment in ("dev", "staging", "prod"):
        stub_deployed(session, synth.templates[environment], synth.stage_stack(environment).name)
    argv = ["--env", "all", "--cdk-out", str(synth.outdir), "--reports", str(tmp_path)]
    assert main(argv, session=session) == 0
    for environment in ("dev", "staging", "prod"):
        assert exported(tmp_path, environment)["REVIEW_SUMMARY"] == f"{environment}: no change"
    assert capsys.readouterr().out.count("# Change review: ") == 3


def test_main_exits_1_when_any_environment_is_stopped(
    session: StubbedSession, synth: Synth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = synth.templates["prod"]
    deployed = edited(prod, "Database/Instance", DBInstanceIdentifier="iot-prod-db")
    stub_deployed(session, deployed, "Prod-Platform")
    argv = ["--env", "prod", "--cdk-out", str(synth.outdir), "--reports", str(tmp_path)]
    assert main(argv, session=session) == 1
    assert capsys.readouterr().err.startswith("Prod-Platform: Database/Instance (AWS::RDS::DBInstance) ")


def test_main_exits_2_on_an_unknown_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env", "qa", "--reports", str(tmp_path)], session=object()) == 2
    assert capsys.readouterr().err.strip() == (
        "Invalid config: environments.qa is not a configured environment; review one of dev, staging, prod or all."
    )


def test_main_reviews_environments_not_single_regions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A region of an environment shares its review settings: the review takes the environment, whose message then
    names the key that holds them (environments.prod.review...)."""
    assert main(["--env", "prod-eu-west-1", "--reports", str(tmp_path)], session=object()) == 2
    assert "environments.prod-eu-west-1 is not a configured environment" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_main_exits_2_without_a_cloud_assembly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--env", "prod", "--cdk-out", str(tmp_path / "cdk.out"), "--reports", str(tmp_path / "reports")]
    assert main(argv, session=object()) == 2
    err = capsys.readouterr().err
    assert "make synth" in err and err.count("\n") == 1


def test_main_exits_3_when_the_deployed_stack_cannot_be_read(
    session: StubbedSession, synth: Synth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session.stub("cloudformation").add_client_error(
        "get_template",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:sts::444444444444:assumed-role/cdk-hnb659fds-lookup-role-444444444444-us-east-1"
        "/review is not authorized to perform: cloudformation:GetTemplate",
        http_status_code=403,
        expected_params={"StackName": "Prod-Platform", "TemplateStage": "Original"},
    )
    argv = ["--env", "prod", "--cdk-out", str(synth.outdir), "--reports", str(tmp_path)]
    assert main(argv, session=session) == 3
    assert capsys.readouterr().err.startswith("Could not read the deployed stacks of prod: ")


def test_lookup_role_reads_prod_as_its_cdk_lookup_role(
    monkeypatch: pytest.MonkeyPatch, synth: Synth, tmp_path: Path
) -> None:
    sts = install_fake_sts(monkeypatch, FakeSts(refuse=True))
    argv = ["--env", "prod", "--lookup-role", "--cdk-out", str(synth.outdir), "--reports", str(tmp_path)]
    assert main(argv) == 3
    (request,) = sts.requests
    assert request["RoleArn"] == "arn:aws:iam::444444444444:role/cdk-hnb659fds-lookup-role-444444444444-us-east-1"
