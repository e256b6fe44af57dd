"""Issue 5 in the pipeline: pre-flight before every deployment, staging's bake before prod's approval, prod's
rollback triggers armed before its deployment, each step with one assumable read-only (or deploy) role."""

from __future__ import annotations

import json
from typing import Any

import yaml

from pipeline.health_steps import PREFLIGHT_BUILDSPEC
from tests.unit.conftest import Synth


def _stages(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    return {stage["Name"]: stage["Actions"] for stage in pipeline["Properties"]["Stages"]}


def _order(actions: list[dict[str, Any]]) -> dict[str, int]:
    return {a["Name"]: a["RunOrder"] for a in actions}


def _project(synth: Synth, path_part: str) -> dict[str, Any]:
    (project,) = [
        r
        for k, r in synth.resources("pipeline", "AWS::CodeBuild::Project").items()
        if path_part in synth.path_of("pipeline", k)
    ]
    return project


def _env(project: dict[str, Any]) -> dict[str, Any]:
    return {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}


def test_preflight_runs_before_every_deployment(synth: Synth) -> None:
    stages = _stages(synth)
    for name in ("Dev", "Staging", "Prod"):
        order = _order(stages[name])
        assert order["Preflight"] < order["Platform.Prepare"] < order["Platform.Deploy"], name


def test_prod_order_approval_preflight_arm_deploy(synth: Synth) -> None:
    order = _order(_stages(synth)["Prod"])
    assert order["PromoteToProd"] < order["Preflight"] < order["ArmRollback"] < order["Platform.Prepare"]
    assert "Bake" not in order


def test_staging_bakes_after_its_integration_tests(synth: Synth) -> None:
    order = _order(_stages(synth)["Staging"])
    assert order["Platform.Deploy"] < order["IntegrationTests"] < order["Bake"]
    assert "ArmRollback" not in order and "Bake" not in _order(_stages(synth)["Dev"])
    bake = _project(synth, "/Staging/Bake/")
    assert bake["Properties"]["TimeoutInMinutes"] == 30 + 15  # staging's monitoring.bake_minutes + slack


def test_steps_run_the_preflight_buildspec_with_their_check(synth: Synth) -> None:
    for path, check, role, account in (
        ("/Dev/Preflight/", "preflight", "lookup", "222222222222"),
        ("/Staging/Preflight/", "preflight", "lookup", "333333333333"),
        ("/Prod/Preflight/", "preflight", "lookup", "444444444444"),
        ("/Staging/Bake/", "preflight.health bake", "lookup", "333333333333"),
        ("/Prod/ArmRollback/", "preflight.health arm-rollback", "deploy", "444444444444"),
    ):
        project = _project(synth, path)
        env = _env(project)
        assert env["CHECK"] == check
        assert env["STACK_NAME"] == f"{path.split('/')[1]}-Platform"
        assert env["ROLE_ARN"] == f"arn:aws:iam::{account}:role/cdk-hnb659fds-{role}-role-{account}-us-east-1"
        buildspec = json.dumps(project["Properties"]["Source"]["BuildSpec"])
        assert "python -m $CHECK --env" in buildspec


def test_step_roles_may_only_assume_their_bootstrap_role(synth: Synth) -> None:
    """Least privilege: the only non-pipeline permission of each health step is sts:AssumeRole on one role."""
    for path in ("/Dev/Preflight/", "/Prod/ArmRollback/", "/Staging/Bake/"):
        (policy,) = [
            r
            for k, r in synth.resources("pipeline", "AWS::IAM::Policy").items()
            if path in synth.path_of("pipeline", k) and "/Role/" in synth.path_of("pipeline", k)
        ]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assume = [s for s in statements if s["Action"] == "sts:AssumeRole"]
        assert len(assume) == 1 and assume[0]["Resource"].startswith("arn:aws:iam::")
        assert "*" not in assume[0]["Resource"] and ":role/cdk-hnb659fds-" in assume[0]["Resource"]
        others = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert not {a for a in others if a.split(":")[0] not in ("logs", "codebuild", "s3", "kms", "sts")}


def test_buildspec_file() -> None:
    spec = yaml.safe_load(PREFLIGHT_BUILDSPEC.read_text())
    assert spec["phases"]["install"]["runtime-versions"]["python"] == "3.11"
    assert any("python -m $CHECK" in c for c in spec["phases"]["build"]["commands"])
