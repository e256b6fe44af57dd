"""Each stage's post-deployment integration tests: order, buildspec, report group, and the only role the step may
assume (the stage's own test role, tests/unit/lib/test_integration_test_role.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from pipeline.codebuild import NODE_MAJOR
from pipeline.steps.buildspec import BUILDSPECS, buildspec_document
from platform_config.naming import integration_role_name, integration_runner_role_name, stage_id
from tests.assembly import ENVIRONMENTS, Synth, cdk_context

INTEGRATION_BUILDSPEC = BUILDSPECS / "integration.yml"


def _stage_actions(synth: Synth, stage: str) -> list[dict[str, Any]]:
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    return next(s["Actions"] for s in pipeline["Properties"]["Stages"] if s["Name"] == stage)


def _project(synth: Synth, action: dict[str, Any]) -> dict[str, Any]:
    logical_id = action["Configuration"]["ProjectName"]["Ref"]
    return synth.templates["pipeline"]["Resources"][logical_id]


def _buildspec(synth: Synth, action: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The step's buildspec, with each CloudFormation token in it replaced by TOKEN<i>; and the tokens."""
    text = _project(synth, action)["Properties"]["Source"]["BuildSpec"]
    tokens: list[Any] = []
    if isinstance(text, dict):
        separator, parts = text["Fn::Join"]
        tokens = [p for p in parts if not isinstance(p, str)]
        text = separator.join(p if isinstance(p, str) else f"TOKEN{tokens.index(p)}" for p in parts)
    return yaml.safe_load(text), tokens


def _env(synth: Synth, action: dict[str, Any]) -> dict[str, str]:
    variables = _project(synth, action)["Properties"]["Environment"]["EnvironmentVariables"]
    return {v["Name"]: v["Value"] for v in variables}


def _integration(synth: Synth, stage: str) -> dict[str, Any]:
    (action,) = [a for a in _stage_actions(synth, stage) if a["Name"] == "IntegrationTests"]
    return action


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_integration_tests_run_after_the_deployment(synth: Synth, env: str) -> None:
    actions = _stage_actions(synth, stage_id(env))
    deploy_orders = [a["RunOrder"] for a in actions if a["ActionTypeId"]["Category"] == "Deploy"]
    test = _integration(synth, stage_id(env))
    assert test["ActionTypeId"]["Provider"] == "CodeBuild"
    assert test["RunOrder"] > max(deploy_orders)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_integration_step_uses_the_buildspec_and_reports_junit(synth: Synth, env: str) -> None:
    spec, tokens = _buildspec(synth, _integration(synth, stage_id(env)))
    source = yaml.safe_load(INTEGRATION_BUILDSPEC.read_text())
    # The file's phases, with the Node.js runtime every project of the pipeline shares (pipeline/codebuild.py).
    source["phases"]["install"]["runtime-versions"]["nodejs"] = NODE_MAJOR
    assert spec["phases"] == source["phases"]
    build = spec["phases"]["build"]["commands"]
    assert any("pytest tests/integration" in c and "--junitxml=reports/integration-tests.xml" in c for c in build)
    (report_key,) = spec["reports"]
    assert spec["reports"][report_key]["file-format"] == "JUNITXML"
    group = tokens[int(report_key.removeprefix("TOKEN"))]
    (group_id,) = [
        k
        for k in synth.resources("pipeline", "AWS::CodeBuild::ReportGroup")
        if "/IntegrationTestReports/" in synth.path_of("pipeline", k)
    ]
    assert group == {"Fn::GetAtt": [group_id, "Arn"]}
    assert synth.templates["pipeline"]["Resources"][group_id]["Properties"]["Type"] == "TEST"


def test_integration_build_spec_binds_the_report_group() -> None:
    spec = buildspec_document(
        "integration", {"integration-tests": "arn:aws:codebuild:us-east-1:111111111111:report-group/it"}
    )
    assert list(spec["reports"]) == ["arn:aws:codebuild:us-east-1:111111111111:report-group/it"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_integration_step_targets_the_stage_stack(synth: Synth, env: str) -> None:
    variables = _env(synth, _integration(synth, stage_id(env)))
    stack = synth.stage_stack(env)
    config = cdk_context()["platform"]["environments"][env]
    assert variables["STACK_NAME"] == stack.name
    assert variables["AWS_REGION"] == config["region"]
    assert variables["ENVIRONMENT"] == env
    expected = {"smoke": "smoke", "full": "not efs_mount"}[config["integration_suite"]]
    assert variables["PYTEST_MARKERS"] == expected


def test_prod_runs_only_the_smoke_subset(synth: Synth) -> None:
    assert _env(synth, _integration(synth, "Prod"))["PYTEST_MARKERS"] == "smoke"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cross_account_step_may_only_assume_the_stage_test_role(synth: Synth, env: str) -> None:
    config = cdk_context()["platform"]
    account = config["environments"][env]["account"]
    assert account != config["pipeline"]["account"]
    action = _integration(synth, stage_id(env))
    role_arn = f"arn:aws:iam::{account}:role/{integration_role_name(env)}"
    assert _env(synth, action)["TEST_ROLE_ARN"].endswith(f":iam::{account}:role/{integration_role_name(env)}")
    project = _project(synth, action)
    role_id = project["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    policies = [
        p
        for p in synth.resources("pipeline", "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assume = [s for s in statements if s["Action"] == "sts:AssumeRole"]
    assert len(assume) == 1
    assert json.dumps(assume[0]["Resource"]).replace('{"Ref": "AWS::Partition"}', "aws").count(account) == 1
    assert role_arn.split(":role/")[1] in json.dumps(assume[0]["Resource"])
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(a.startswith(("kinesis:", "rds:", "ecs:", "secretsmanager:")) for a in actions)
    # The step runs as its own role, under the fixed name the stage's test role trusts (and nothing else does).
    runner = synth.templates["pipeline"]["Resources"][role_id]["Properties"]
    assert runner["RoleName"] == integration_runner_role_name(env)
    assert runner["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert project["Properties"]["Cache"] == {"Type": "NO_CACHE"}
