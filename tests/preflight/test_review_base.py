"""What a review was computed against (preflight.review.base): the fingerprint of each deployment's deployed template,
REVIEW_BASE as the review exports it, and the re-check after the approval, which fails when the deployed stack is no
longer the one the approver's review was computed against."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from preflight.review.base import (
    NOT_DEPLOYED,
    base,
    changed_since,
    deployed_template,
    main,
    parse,
    template_fingerprint,
)
from tests.assembly import Synth
from tests.preflight.conftest import FakeSts, StubbedSession, install_fake_sts

STACK = "Staging-Platform"


@pytest.fixture
def deployed(synth: Synth) -> dict[str, Any]:
    """What staging runs: the synthesized staging template, as CloudFormation keeps it."""
    return synth.templates["staging"]


def stub_deployed(session: StubbedSession, template: dict[str, Any] | None, stack: str = STACK) -> None:
    """GetTemplate (Original) of ``stack``: ``template``, or ValidationError "does not exist" when None."""
    cloudformation = session.stub("cloudformation")
    request = {"StackName": stack, "TemplateStage": "Original"}
    if template is None:
        cloudformation.add_client_error(
            "get_template",
            service_error_code="ValidationError",
            service_message=f"Stack with id {stack} does not exist",
            http_status_code=400,
            expected_params=request,
        )
    else:
        answer = {"TemplateBody": json.dumps(template), "StagesAvailable": ["Original", "Processed"]}
        cloudformation.add_response("get_template", answer, request)


def check(session: StubbedSession, *argv: str) -> int:
    return main(["--env", "staging", *argv], clients=lambda _: session.client("cloudformation"))


def test_the_fingerprint_ignores_key_order_and_changes_with_any_value(deployed: dict[str, Any]) -> None:
    reordered = json.loads(json.dumps(deployed, sort_keys=True))
    reordered["Resources"] = dict(reversed(list(reordered["Resources"].items())))
    assert template_fingerprint(reordered) == template_fingerprint(deployed)
    changed = copy.deepcopy(deployed)
    alarm = next(r for r in changed["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm")
    alarm["Properties"]["EvaluationPeriods"] += 1
    assert template_fingerprint(changed) != template_fingerprint(deployed)
    assert template_fingerprint(None) == NOT_DEPLOYED


def test_review_base_round_trips() -> None:
    fingerprints = {
        "prod": ("0f1e2d3c4b5a6978", "8796a5b4c3d2e1f0"),
        "prod-eu-west-1": (NOT_DEPLOYED, "1111222233334444"),
    }
    assert parse(base(fingerprints)) == fingerprints


@pytest.mark.parametrize("value", ["", "prod", "prod:0f1e2d3c4b5a6978", "prod:a:b,staging", "prod:a:b:c"])
def test_a_malformed_review_base_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="REVIEWED_BASE"):
        parse(value)


def test_changed_since_names_each_deployment_whose_stack_moved() -> None:
    assert changed_since({"prod": ("aaaa", "ffff")}, {"prod": "aaaa"}) == []
    (problem,) = changed_since(
        {"prod": ("aaaa", "ffff"), "staging": ("cccc", "eeee")}, {"prod": "bbbb", "staging": "cccc"}
    )
    assert "Prod-Platform" in problem
    assert "aaaa" in problem and "bbbb" in problem
    assert "\n" not in problem


def test_a_stack_that_already_is_the_reviewed_template_passes() -> None:
    """The stage run again after its deployment succeeded: the stack is what the review reviewed, not what it saw."""
    assert changed_since({"prod": ("aaaa", "ffff")}, {"prod": "ffff"}) == []


def test_the_deployed_template_is_read_as_cloudformation_keeps_it(
    session: StubbedSession, deployed: dict[str, Any]
) -> None:
    stub_deployed(session, deployed)
    assert deployed_template(session.client("cloudformation"), STACK) == deployed


def test_a_stack_not_deployed_yet_has_no_template(session: StubbedSession) -> None:
    stub_deployed(session, None)
    assert deployed_template(session.client("cloudformation"), STACK) is None


def test_a_refused_read_is_an_error_not_a_missing_stack(session: StubbedSession) -> None:
    session.stub("cloudformation").add_client_error(
        "get_template", service_error_code="AccessDenied", service_message="not authorized", http_status_code=403
    )
    with pytest.raises(ClientError):
        deployed_template(session.client("cloudformation"), STACK)


def test_the_stack_the_review_saw_passes(
    session: StubbedSession, deployed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    stub_deployed(session, deployed)
    assert check(session, "--expect", base({"staging": (template_fingerprint(deployed), "0f1e2d3c4b5a6978")})) == 0
    assert STACK in capsys.readouterr().out


def test_a_stack_deployed_since_the_review_fails_naming_it(
    session: StubbedSession, deployed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = base({"staging": (template_fingerprint(deployed), "0f1e2d3c4b5a6978")})
    topic = {"Type": "AWS::SNS::Topic", "Properties": {}}
    since = {**deployed, "Resources": {**deployed["Resources"], "AuditTopic1A2B3C4D": topic}}
    stub_deployed(session, since)
    assert check(session, "--expect", reviewed) == 1
    assert f"{STACK} (staging)" in capsys.readouterr().err


def test_only_the_deployment_s_own_fingerprint_is_checked(session: StubbedSession, deployed: dict[str, Any]) -> None:
    stub_deployed(session, deployed)
    fingerprints = {
        "staging": (template_fingerprint(deployed), "0f1e2d3c4b5a6978"),
        "staging-eu-west-1": ("0f1e2d3c4b5a6978", "8796a5b4c3d2e1f0"),
    }
    assert check(session, "--expect", base(fingerprints)) == 0


def test_a_review_base_without_the_deployment_fails(session: StubbedSession, deployed: dict[str, Any]) -> None:
    stub_deployed(session, deployed)
    assert check(session, "--expect", base({"prod": (template_fingerprint(deployed), "0f1e2d3c4b5a6978")})) == 1


def test_a_first_deployment_passes_while_the_stack_still_does_not_exist(session: StubbedSession) -> None:
    stub_deployed(session, None)
    assert check(session, "--expect", f"staging:{NOT_DEPLOYED}:0f1e2d3c4b5a6978") == 0


def test_a_stack_created_since_a_review_of_nothing_fails(session: StubbedSession, deployed: dict[str, Any]) -> None:
    stub_deployed(session, deployed)
    assert check(session, "--expect", f"staging:{NOT_DEPLOYED}:0f1e2d3c4b5a6978") == 1


@pytest.mark.parametrize(
    "argv", [["--env", "qa", "--expect", "qa:none:0f1e2d3c4b5a6978"], ["--env", "staging", "--expect", "none"]]
)
def test_invalid_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv, clients=lambda _: pytest.fail("no account is asked")) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_an_account_that_cannot_be_asked_exits_3(session: StubbedSession, capsys: pytest.CaptureFixture[str]) -> None:
    session.stub("cloudformation").add_client_error(
        "get_template",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:sts::333333333333:assumed-role/cdk-hnb659fds-lookup-role-333333333333-us-east-1"
        "/review-base is not authorized to perform: cloudformation:GetTemplate",
        http_status_code=403,
    )
    assert check(session, "--expect", "staging:none:0f1e2d3c4b5a6978") == 3
    assert capsys.readouterr().err.startswith("Could not read the deployed stack of staging: ")


def test_lookup_role_reads_as_the_deployment_s_cdk_lookup_role(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sts = install_fake_sts(monkeypatch, FakeSts(refuse=True))
    assert main(["--env", "staging", "--expect", "staging:none:0f1e2d3c4b5a6978", "--lookup-role"]) == 3
    (request,) = sts.requests
    assert request["RoleArn"] == "arn:aws:iam::333333333333:role/cdk-hnb659fds-lookup-role-333333333333-us-east-1"
    assert "AccessDenied" in capsys.readouterr().err
