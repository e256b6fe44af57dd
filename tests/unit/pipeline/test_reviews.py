"""Review before deployment (#12): every guarded or approved environment's review runs before anything deploys (so the
stateful-replacement guard stops a change before CloudFormation is called anywhere), read-only; prod's approval
carries its summary and links its report; and prod's pre-flight after the approval re-checks that prod is still what
the review saw."""

from __future__ import annotations

import json
from typing import Any

import pytest

from platform_config.naming import stage_id
from tests.assembly import Synth
from tests.unit.templates import buildspec

GUARDED = ("staging", "prod")  # review.guard in cdk.json; prod also requires an approval


def _stages(synth: Synth) -> list[dict[str, Any]]:
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return stages


def _where(synth: Synth, action_name: str) -> tuple[int, int, dict[str, Any]]:
    (found,) = [
        (index, action["RunOrder"], action)
        for index, stage in enumerate(_stages(synth))
        for action in stage["Actions"]
        if action["Name"] == action_name
    ]
    return found


def _project(synth: Synth, action: dict[str, Any]) -> dict[str, Any]:
    project: dict[str, Any] = synth.templates["pipeline"]["Resources"][action["Configuration"]["ProjectName"]["Ref"]]
    return project


def test_guarded_environments_are_the_configured_ones(synth: Synth) -> None:
    configured = tuple(e.name for e in synth.config.environments if e.review.guard)
    assert configured == GUARDED
    assert [e.name for e in synth.config.environments if e.requires_approval] == ["prod"]


@pytest.mark.parametrize("env", GUARDED)
def test_the_review_runs_before_any_deployment(synth: Synth, env: str) -> None:
    review_stage, review_order, _ = _where(synth, f"Review{stage_id(env)}")
    for index, stage in enumerate(_stages(synth)):
        for action in stage["Actions"]:
            if action["ActionTypeId"]["Category"] == "Deploy":
                assert (review_stage, review_order) < (index, action["RunOrder"]), action["Name"]


@pytest.mark.parametrize("env", GUARDED)
def test_the_review_reads_cdk_out_and_only_its_environments_lookup_roles(synth: Synth, env: str) -> None:
    _, _, action = _where(synth, f"Review{stage_id(env)}")
    assert {a["Name"] for a in action["InputArtifacts"]} == {"Synth_Output", "example_org_iot_sensor_platform_Source"}
    project = _project(synth, action)
    variables = {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}
    assert variables["ENVIRONMENT"] == env
    assert project["Properties"]["Cache"] == {"Type": "NO_CACHE"}
    role = project["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in synth.resources("pipeline", "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assumed = [
        r
        for s in statements
        if s["Action"] == "sts:AssumeRole"
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    deployments = synth.config.deployments(synth.config.environment(env))
    assert sorted(assumed) == sorted(
        f"arn:aws:iam::{d.account}:role/cdk-hnb659fds-lookup-role-{d.account}-{d.region}" for d in deployments
    )
    writes = [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert not [a for a in writes if a.split(":")[0] in ("cloudformation", "iam", "ssm", "secretsmanager")]


@pytest.mark.parametrize("env", GUARDED)
def test_the_review_exports_what_the_approval_and_the_preflight_read(synth: Synth, env: str) -> None:
    _, _, action = _where(synth, f"Review{stage_id(env)}")
    spec = buildspec(synth, _project(synth, action))
    assert spec["env"]["exported-variables"] == ["REVIEW_SUMMARY", "REVIEW_CHANGES", "REVIEW_URL", "REVIEW_BASE"]
    commands = spec["phases"]["build"]["commands"]
    assert any(c.startswith('python -m preflight.review --env "$ENVIRONMENT" --lookup-role') for c in commands)
    install = " ".join(spec["phases"]["install"]["commands"])
    assert "--require-hashes" in install and "preflight/review/requirements.txt" in install


def test_prods_approval_shows_its_review_and_links_the_report(synth: Synth) -> None:
    review_stage, _, review = _where(synth, "ReviewProd")
    approval_stage, _, approval = _where(synth, "PromoteToProd")
    names = [s["Name"] for s in _stages(synth)]
    assert review_stage < names.index("Staging") < approval_stage < names.index("Prod")
    namespace = review["Namespace"]
    assert approval["Configuration"]["ExternalEntityLink"] == f"#{{{namespace}.REVIEW_URL}}"
    assert f"#{{{namespace}.REVIEW_SUMMARY}}" in approval["Configuration"]["CustomData"]


def test_prods_preflight_rechecks_the_reviewed_base_after_the_approval(synth: Synth) -> None:
    _, _, review = _where(synth, "ReviewProd")
    approval_stage, _, _ = _where(synth, "PromoteToProd")
    preflight_stage, preflight_order, preflight = _where(synth, "Preflight")
    (deploy_order,) = [
        a["RunOrder"] for a in _stages(synth)[preflight_stage]["Actions"] if a["Name"] == "Platform.Deploy"
    ]
    assert approval_stage < preflight_stage and preflight_order < deploy_order
    variables = json.loads(preflight["Configuration"]["EnvironmentVariables"])
    assert {"name": "REVIEWED_BASE", "type": "PLAINTEXT", "value": f"#{{{review['Namespace']}.REVIEW_BASE}}"} in (
        variables
    )


def test_skipping_an_unchanged_approval_is_off_by_default(synth: Synth) -> None:
    assert not synth.config.environment("prod").review.skip_approval_without_changes
    stage = next(s for s in _stages(synth) if s["Name"] == "PromoteToProd")
    assert "BeforeEntry" not in stage
