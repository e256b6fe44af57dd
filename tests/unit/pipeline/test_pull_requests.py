"""Pull-request validation (#12): CodeBuild webhooks on pull requests to the pipeline's branch report a GitHub status
check per project, run the synth step's gates, the processor's tests and every environment's review, and can never
deploy: their roles may assume only the environments' read-only CDK lookup roles."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.steps.processor_tests import processor_base_image
from tests.assembly import Synth
from tests.unit.templates import buildspec

BRANCH = "main"
CONTEXTS = {"Gates": "iot-platform/gates", "ProcessorTests": "iot-platform/processor-tests"}


def _project(synth: Synth, name: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, r["Properties"])
        for k, r in synth.resources("pipeline", "AWS::CodeBuild::Project").items()
        if synth.path_of("pipeline", k) == f"Pipeline/PullRequests/{name}/Resource"
    ]
    return found


def _statements(synth: Synth, project_id: str) -> list[dict[str, Any]]:
    role = _project(synth, project_id.split("/")[0])[1]["ServiceRole"]["Fn::GetAtt"][0]
    return [
        s
        for p in synth.resources("pipeline", "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_every_pull_request_to_the_branch_triggers_a_build_with_a_status_check(synth: Synth, name: str) -> None:
    _, project = _project(synth, name)
    source, triggers = project["Source"], project["Triggers"]
    assert source["Type"] == "GITHUB" and source["Location"].endswith("/example-org/iot-sensor-platform.git")
    assert source["ReportBuildStatus"] is True and source["BuildStatusConfig"] == {"Context": CONTEXTS[name]}
    assert triggers["Webhook"] is True
    (group,) = triggers["FilterGroups"]
    events = {f["Type"]: f["Pattern"] for f in group}
    assert set(events["EVENT"].split(", ")) == {"PULL_REQUEST_CREATED", "PULL_REQUEST_UPDATED", "PULL_REQUEST_REOPENED"}
    assert events["BASE_REF"] == f"^refs/heads/{BRANCH}$"  # anchored: not every branch whose name starts with it


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_forks_wait_for_a_maintainer_and_github_is_reached_through_the_connection(synth: Synth, name: str) -> None:
    project_id, project = _project(synth, name)
    connection = synth.config.pipeline.connection_arn
    assert project["Triggers"]["PullRequestBuildPolicy"] == {
        "RequiresCommentApproval": "FORK_PULL_REQUESTS",
        "ApproverRoles": ["GITHUB_MAINTAIN", "GITHUB_ADMIN"],
    }
    assert project["Source"]["Auth"] == {"Type": "CODECONNECTIONS", "Resource": connection}
    uses = [s for s in _statements(synth, name) if any(a.startswith("codeconnections:") for a in _actions(s))]
    assert [s["Resource"] for s in uses] == [connection]
    assert project_id


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_a_pull_request_can_never_deploy(synth: Synth, name: str) -> None:
    statements = _statements(synth, name)
    assumed = [r for s in statements if "sts:AssumeRole" in _actions(s) for r in s["Resource"]]
    if name == "Gates":  # the review reads every deployment's stack, read-only
        expected = {
            f"arn:aws:iam::{d.account}:role/cdk-hnb659fds-lookup-role-{d.account}-{d.region}"
            for d in synth.config.all_deployments
        }
        assert set(assumed) == expected
    else:
        assert assumed == []
    actions = [a for s in statements for a in _actions(s)]
    assert not [a for a in actions if a.split(":")[0] in ("cloudformation", "iam", "ecr", "ecs", "lambda", "ssm")]
    # What they may write: their own logs, reports and download cache, nothing of the pipeline's.
    writes = [s for s in statements if any(a.startswith(("s3:Put", "s3:Delete")) for a in _actions(s))]
    own_cache = "PullRequestsBuildCache"
    assert all(own_cache in json.dumps(s["Resource"]) for s in writes), writes


def test_the_gates_are_the_synth_steps_plus_every_review(synth: Synth) -> None:
    _, project = _project(synth, "Gates")
    spec = buildspec(synth, {"Properties": project})
    commands = spec["phases"]["build"]["commands"]
    assert commands[0] == "make synth"  # cdk-nag and validation fail the synth
    assert commands[1].startswith(".venv/bin/python -m pytest tests/unit ")
    assert commands[2].startswith(".venv/bin/python -m preflight.review --env all --lookup-role --cdk-out cdk.out")
    assert spec["phases"]["install"]["runtime-versions"] == {"nodejs": "22", "python": "3.11"}
    assert project["Environment"]["ComputeType"] == "BUILD_GENERAL1_LARGE"  # as the synth step's


def test_the_processor_tests_run_on_the_processor_image(synth: Synth) -> None:
    _, project = _project(synth, "ProcessorTests")
    assert project["Environment"]["Image"] == processor_base_image()
    spec = buildspec(synth, {"Properties": project})
    assert any(c.startswith(".venv/bin/python -m pytest tests/processor") for c in spec["phases"]["build"]["commands"])


def test_pull_requests_never_write_the_pipelines_build_cache(synth: Synth) -> None:
    """A pull request's code could plant packages in a cache the pipeline's synth restores: theirs is separate."""
    buckets = {synth.path_of("pipeline", k): k for k in synth.resources("pipeline", "AWS::S3::Bucket")}
    pipeline_cache = buckets["Pipeline/BuildCache/Resource"]
    _, gates = _project(synth, "Gates")
    assert gates["Cache"]["Location"]["Fn::Join"][1][0] == {"Ref": buckets["Pipeline/PullRequests/BuildCache/Resource"]}
    for name in CONTEXTS:
        assert pipeline_cache not in json.dumps(_statements(synth, name)), name


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_each_project_writes_only_the_report_groups_its_buildspec_names(synth: Synth, name: str) -> None:
    _, project = _project(synth, name)
    groups = synth.resources("pipeline", "AWS::CodeBuild::ReportGroup")
    named = [
        part["Fn::GetAtt"][0]
        for part in project["Source"]["BuildSpec"]["Fn::Join"][1]
        if isinstance(part, dict) and "Fn::GetAtt" in part and part["Fn::GetAtt"][0] in groups
    ]
    writes = [s for s in _statements(synth, name) if "codebuild:BatchPutTestCases" in _actions(s)]
    # CodeBuild's own grant on report groups named after the project, and ours on the groups the buildspec names.
    own = [s for s in writes if "report-group/" in json.dumps(s["Resource"])]
    ours = [s for s in writes if s not in own]
    assert len(own) == 1 and named, (own, named)
    (statement,) = ours
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    assert sorted(r["Fn::GetAtt"][0] for r in resources) == sorted(set(named))
    test_reports = ["codebuild:BatchPutTestCases", "codebuild:CreateReport", "codebuild:UpdateReport"]
    assert sorted(_actions(statement)) == test_reports
