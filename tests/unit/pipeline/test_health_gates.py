"""Health gates in the pipeline: a read-only pre-flight before every deployment, staging's bake and prod's rollback on
alarm as CodePipeline stage conditions (pipeline/conditions.py). Where each step runs for lead time is pinned in
test_lead_time.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from pipeline.steps.buildspec import BUILDSPECS
from platform_config.alarms import users_hurt_alarm_name
from tests.assembly import Synth, cdk_context

LOOKUP = "arn:aws:iam::{0}:role/cdk-hnb659fds-lookup-role-{0}-us-east-1"


def _pipeline(synth: Synth) -> dict[str, Any]:
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    return pipeline["Properties"]


def _stages(synth: Synth) -> dict[str, dict[str, Any]]:
    return {stage["Name"]: stage for stage in _pipeline(synth)["Stages"]}


def _position(synth: Synth, stage: str, action: str) -> tuple[int, int]:
    """When an action runs: (index of its stage, its RunOrder); stages run one after the other."""
    names = list(_stages(synth))
    (order,) = [a["RunOrder"] for a in _stages(synth)[stage]["Actions"] if a["Name"] == action]
    return names.index(stage), order


def _project(synth: Synth, path_part: str) -> dict[str, Any]:
    (project,) = [
        r
        for k, r in synth.resources("pipeline", "AWS::CodeBuild::Project").items()
        if path_part in synth.path_of("pipeline", k)
    ]
    return project


def _env(project: dict[str, Any]) -> dict[str, Any]:
    return {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}


# Where each environment's pre-flight runs: dev's and staging's beside the synth (nothing gates them), prod's in its
# own stage, after the approval stage.
PREFLIGHTS = {
    "dev": ("Build", "PreflightDev", "/BesideSynth/PreflightDev/"),
    "staging": ("Build", "PreflightStaging", "/BesideSynth/PreflightStaging/"),
    "prod": ("Prod", "Preflight", "/Prod/Preflight/"),
}


@pytest.mark.parametrize("env", PREFLIGHTS)
def test_preflight_runs_before_the_deployment_as_the_read_only_lookup_role(synth: Synth, env: str) -> None:
    stage, action, path = PREFLIGHTS[env]
    deploy_stage = env.capitalize()
    assert _position(synth, stage, action) < _position(synth, deploy_stage, "Platform.Deploy")
    project = _project(synth, path)
    account = cdk_context()["platform"]["environments"][env]["account"]
    assert _env(project) == {
        "ENVIRONMENT": env,
        "STACK_NAME": f"{deploy_stage}-Platform",
        "ROLE_ARN": LOOKUP.format(account),
    }
    assert project["Properties"]["Cache"] == {"Type": "NO_CACHE"}  # nothing another project wrote
    (policy,) = [
        r
        for k, r in synth.resources("pipeline", "AWS::IAM::Policy").items()
        if path in synth.path_of("pipeline", k) and "/Role/" in synth.path_of("pipeline", k)
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (assume,) = [s for s in statements if s["Action"] == "sts:AssumeRole"]
    assert assume["Resource"] == LOOKUP.format(account)  # never the deploy role
    others = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not {a for a in others if a.split(":")[0] not in ("logs", "codebuild", "s3", "kms", "sts")}


def test_prod_preflight_runs_after_the_approval_stage(synth: Synth) -> None:
    names = list(_stages(synth))
    assert names.index("PromoteToProd") == names.index("Prod") - 1
    assert [a["ActionTypeId"]["Category"] for a in _stages(synth)["PromoteToProd"]["Actions"]] == ["Approval"]
    assert _position(synth, "Prod", "Preflight")[1] == 1


def test_staging_bakes_on_its_users_hurt_alarm_before_anything_is_promoted(synth: Synth) -> None:
    staging = _stages(synth)["Staging"]
    assert "OnFailure" not in staging and not any(a["Name"] == "Bake" for a in staging["Actions"])
    (condition,) = staging["OnSuccess"]["Conditions"]
    assert condition["Result"] == "FAIL"
    (rule,) = condition["Rules"]
    assert rule["RuleTypeId"] == {"Category": "Rule", "Owner": "AWS", "Provider": "CloudWatchAlarm", "Version": "1"}
    bake = cdk_context()["platform"]["environments"]["staging"]["monitoring"]["bake_minutes"]
    assert rule["Configuration"] == {
        "AlarmName": users_hurt_alarm_name("staging"),
        "AlarmStates": "ALARM",
        "WaitTime": str(bake),
    }
    assert (rule["Region"], rule["RoleArn"]) == ("us-east-1", LOOKUP.format("333333333333"))


def test_prod_rolls_back_on_failure_and_on_alarm(synth: Synth) -> None:
    prod = _stages(synth)["Prod"]
    assert prod["OnFailure"] == {"Result": "ROLLBACK"}
    (condition,) = prod["OnSuccess"]["Conditions"]
    assert condition["Result"] == "ROLLBACK"
    (rule,) = condition["Rules"]
    minutes = cdk_context()["platform"]["environments"]["prod"]["monitoring"]["rollback_monitoring_minutes"]
    assert rule["Configuration"]["AlarmName"] == users_hurt_alarm_name("prod")
    assert rule["Configuration"]["WaitTime"] == str(minutes)
    assert rule["RoleArn"] == LOOKUP.format("444444444444")


def test_dev_has_no_health_conditions(synth: Synth) -> None:
    assert set(_stages(synth)["Dev"]) == {"Name", "Actions"}


def test_the_pipeline_role_may_assume_exactly_the_rules_roles(synth: Synth) -> None:
    rules = [
        rule["RoleArn"]
        for stage in _stages(synth).values()
        for condition in stage.get("OnSuccess", {}).get("Conditions", [])
        for rule in condition["Rules"]
    ]
    pipeline_role = _pipeline(synth)["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in synth.resources("pipeline", "AWS::IAM::Policy").values()
        if {"Ref": pipeline_role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assumed = [
        json.dumps(r).replace('{"Ref": "AWS::Partition"}', "aws")
        for s in statements
        if s["Action"] == "sts:AssumeRole"
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert sorted(r for r in assumed if "lookup-role" in r) == sorted(json.dumps(r) for r in rules)


def test_preflight_buildspec_installs_only_hash_pinned_packages() -> None:
    spec = yaml.safe_load((BUILDSPECS / "preflight.yml").read_text())
    (install,) = spec["phases"]["install"]["commands"]
    assert "--require-hashes" in install and "--no-cache-dir" in install and "-r preflight/requirements.txt" in install
    check, reviewed = spec["phases"]["build"]["commands"]
    assert check.startswith("python -m preflight ") and '--role-arn "$ROLE_ARN"' in check
    # After an approval only: the stack is still the one the approved review saw.
    assert reviewed.startswith('if [ -n "${REVIEWED_BASE:-}" ]; then python -m preflight.review.base ')
    assert '--expect "$REVIEWED_BASE" --lookup-role' in reviewed
