"""The integration-test role each stage creates (lib/integration_test_role.py): only the pipeline's integration-test
runner may assume it; read-only for the smoke suite (no secret value, no write), plus the data test's writes and the
secrets' values for the full suite."""

from __future__ import annotations

import json

import pytest

from lib.integration_test_role import DESCRIBE_ACTIONS
from platform_config.naming import integration_role_name, integration_runner_role_name, stage_id
from tests.assembly import ENVIRONMENTS, Synth, cdk_context


def _role(synth: Synth, env: str) -> dict:
    (role,) = [
        r for r in synth.resources(env, "AWS::IAM::Role").values()
        if r["Properties"].get("RoleName") == integration_role_name(env)
    ]  # fmt: skip
    return role


def _statements(synth: Synth, env: str) -> list[dict]:
    path = f"Pipeline/{stage_id(env)}/Platform/IntegrationTests/Role"
    policies = [
        p for k, p in synth.resources(env, "AWS::IAM::Policy").items() if synth.path_of(env, k).startswith(path)
    ]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statement: dict) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_the_pipelines_integration_runner_may_assume_the_test_role(synth: Synth, env: str) -> None:
    pipeline_account = cdk_context()["platform"]["pipeline"]["account"]
    (statement,) = _role(synth, env)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert pipeline_account in json.dumps(statement["Principal"])
    runner = f"arn:aws:iam::{pipeline_account}:role/{integration_runner_role_name(env)}"
    # The account principal alone would let any principal of the tooling account allowed sts:AssumeRole in.
    assert json.dumps(statement["Condition"]).replace('{"Ref": "AWS::Partition"}', "aws") == json.dumps(
        {"ArnEquals": {"aws:PrincipalArn": runner}}
    )


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_full_suite_role_is_read_only_plus_the_data_test_writes(synth: Synth, env: str) -> None:
    statements = _statements(synth, env)
    granted = {a for s in statements for a in _actions(s) if a not in DESCRIBE_ACTIONS}
    writes = {a for a in granted if not a.split(":")[1].startswith(("Describe", "Get", "Filter"))}
    assert writes == {"kinesis:PutRecord", "kms:Decrypt", "kms:GenerateDataKey", "execute-api:Invoke"}
    # The consumer's dead-letter reports: read from its own log group only.
    (log_statement,) = [s for s in statements if "logs:FilterLogEvents" in _actions(s)]
    assert "ConsumeLogs" in json.dumps(log_statement["Resource"])
    # The values of the application secret and the Redis token (to check them), never the master secret.
    reads = [s for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    assert reads and all("DatabaseInstanceSecret" not in json.dumps(s["Resource"]) for s in reads)


def test_prod_smoke_role_reads_no_secret_value_and_writes_nothing(synth: Synth) -> None:
    statements = _statements(synth, "prod")
    actions = {a for s in statements for a in _actions(s)}
    assert not {a for a in actions if not a.split(":")[1].startswith(("Describe", "Get", "List", "GET"))}
    assert "secretsmanager:GetSecretValue" not in actions
    assert not {a for a in actions if a.startswith(("kms:Decrypt", "kms:GenerateDataKey", "kinesis:Get"))}
    assert "secretsmanager:DescribeSecret" in actions  # rotation and keys are still checked
    # And no key lets it decrypt through Secrets Manager either.
    role_id = next(k for k, r in synth.resources("prod", "AWS::IAM::Role").items() if r is _role(synth, "prod"))
    for key in synth.resources("prod", "AWS::KMS::Key").values():
        assert role_id not in json.dumps(key["Properties"]["KeyPolicy"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_nothing_but_describes_on_every_resource(synth: Synth, env: str) -> None:
    for statement in _statements(synth, env):
        if statement["Resource"] == "*":
            assert set(_actions(statement)) <= set(DESCRIBE_ACTIONS), f"{statement['Action']} on every resource"
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List", "GET")) for a in DESCRIBE_ACTIONS), (
        "describe actions must be read-only"
    )
