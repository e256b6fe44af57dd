"""Health steps in the pipeline: pre-flight before every deployment, staging's bake before prod's approval, prod's
rollback triggers armed before its deployment (by its pre-flight build, after the checks), each step assuming only
the bootstrap roles of its checks. Where each step runs for lead time is pinned in test_lead_time.py."""

from __future__ import annotations

import json
from typing import Any

import yaml

from pipeline.steps.buildspec import BUILDSPECS
from tests.assembly import Synth

PREFLIGHT_BUILDSPEC = BUILDSPECS / "preflight.yml"


def _stages(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    return {stage["Name"]: stage["Actions"] for stage in pipeline["Properties"]["Stages"]}


def _order(actions: list[dict[str, Any]]) -> dict[str, int]:
    return {a["Name"]: a["RunOrder"] for a in actions}


def _position(synth: Synth, stage: str, action: str) -> tuple[int, int]:
    """When an action runs: (index of its stage, its RunOrder); stages run one after the other."""
    names = list(_stages(synth))
    return names.index(stage), _order(_stages(synth)[stage])[action]


# Where each environment's pre-flight runs: dev's and staging's beside the synth (no approval gates them), prod's
# after its approval.
PREFLIGHTS = {"Dev": ("Build", "PreflightDev"), "Staging": ("Build", "PreflightStaging"), "Prod": ("Prod", "Preflight")}


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
    for name, (stage, action) in PREFLIGHTS.items():
        assert _position(synth, stage, action) < _position(synth, name, "Platform.Deploy"), name


def test_prod_order_approval_preflight_arm_deploy(synth: Synth) -> None:
    order = _order(_stages(synth)["Prod"])
    assert order["PromoteToProd"] < order["Preflight"] < order["Platform.Deploy"]
    assert "Bake" not in order and "ArmRollback" not in order  # prod's pre-flight build arms rollback itself
    env = _env(_project(synth, "/Prod/Preflight/"))
    assert env["ARM_ROLE_ARN"] == "arn:aws:iam::444444444444:role/cdk-hnb659fds-deploy-role-444444444444-us-east-1"
    assert all(
        "ARM_ROLE_ARN" not in _env(_project(synth, f"/BesideSynth/{a}/")) for _, a in list(PREFLIGHTS.values())[:2]
    )


def test_staging_bakes_after_its_integration_tests(synth: Synth) -> None:
    order = _order(_stages(synth)["Staging"])
    assert order["Platform.Deploy"] < order["IntegrationTests"] < order["Bake"]
    assert "ArmRollback" not in order and "Bake" not in _order(_stages(synth)["Dev"])
    bake = _project(synth, "/Staging/Bake/")
    assert bake["Properties"]["TimeoutInMinutes"] == 30 + 15  # staging's monitoring.bake_minutes + slack


def test_steps_run_the_preflight_buildspec_with_their_check(synth: Synth) -> None:
    for path, stage, check, role, account in (
        ("/BesideSynth/PreflightDev/", "Dev", "preflight", "lookup", "222222222222"),
        ("/BesideSynth/PreflightStaging/", "Staging", "preflight", "lookup", "333333333333"),
        ("/Prod/Preflight/", "Prod", "preflight", "lookup", "444444444444"),
        ("/Staging/Bake/", "Staging", "preflight.health bake", "lookup", "333333333333"),
    ):
        project = _project(synth, path)
        env = _env(project)
        assert env["CHECK"] == check
        assert env["ENVIRONMENT"] == stage.lower()
        assert env["STACK_NAME"] == f"{stage}-Platform"
        assert env["ROLE_ARN"] == f"arn:aws:iam::{account}:role/cdk-hnb659fds-{role}-role-{account}-us-east-1"
        buildspec = json.dumps(project["Properties"]["Source"]["BuildSpec"])
        assert "python -m $CHECK --env" in buildspec


def test_step_roles_may_only_assume_their_bootstrap_role(synth: Synth) -> None:
    """Least privilege: the only non-pipeline permission of each health step is sts:AssumeRole on its check's roles:
    the lookup role (read-only), and for prod's pre-flight also the deploy role it arms rollback triggers with."""
    for path, kinds in (
        ("/BesideSynth/PreflightDev/", ["lookup"]),
        ("/BesideSynth/PreflightStaging/", ["lookup"]),
        ("/Prod/Preflight/", ["deploy", "lookup"]),
        ("/Staging/Bake/", ["lookup"]),
    ):
        (policy,) = [
            r
            for k, r in synth.resources("pipeline", "AWS::IAM::Policy").items()
            if path in synth.path_of("pipeline", k) and "/Role/" in synth.path_of("pipeline", k)
        ]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assume = [s for s in statements if s["Action"] == "sts:AssumeRole"]
        assert len(assume) == 1
        roles = assume[0]["Resource"] if isinstance(assume[0]["Resource"], list) else [assume[0]["Resource"]]
        assert sorted(r.split(":role/cdk-hnb659fds-")[1].split("-role-")[0] for r in roles) == kinds, path
        assert all(r.startswith("arn:aws:iam::") and "*" not in r for r in roles)
        others = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert not {a for a in others if a.split(":")[0] not in ("logs", "codebuild", "s3", "kms", "sts")}


def test_buildspec_file() -> None:
    spec = yaml.safe_load(PREFLIGHT_BUILDSPEC.read_text())
    assert spec["phases"]["install"]["runtime-versions"]["python"] == "3.11"
    check, arm = spec["phases"]["build"]["commands"]
    assert check.startswith("python -m $CHECK")
    # Rollback arming (CloudFormation) is a later command of the same phase: a failing check ends the build first.
    assert 'if [ -n "${ARM_ROLE_ARN:-}" ]' in arm and "preflight.health arm-rollback" in arm
    assert '--role-arn "$ARM_ROLE_ARN"' in arm
