"""The integration-test role each stage creates (lib/integration_test_role.py): trusted by the pipeline's account,
read-only except for the data test's writes."""

from __future__ import annotations

import json

import pytest

from lib.integration_test_role import DESCRIBE_ACTIONS
from platform_config.naming import integration_role_name, stage_id
from tests.assembly import ENVIRONMENTS, Synth, cdk_context


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stage_creates_a_test_role_trusting_the_pipeline_account(synth: Synth, env: str) -> None:
    pipeline_account = cdk_context()["platform"]["pipeline"]["account"]
    roles = [
        r for r in synth.resources(env, "AWS::IAM::Role").values()
        if r["Properties"].get("RoleName") == integration_role_name(env)
    ]  # fmt: skip
    assert len(roles) == 1
    (statement,) = roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert pipeline_account in json.dumps(statement["Principal"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_test_role_is_read_only_plus_the_data_test_writes(synth: Synth, env: str) -> None:
    path = f"Pipeline/{stage_id(env)}/Platform/IntegrationTests/Role"
    policies = [
        p for k, p in synth.resources(env, "AWS::IAM::Policy").items() if synth.path_of(env, k).startswith(path)
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    by_actions = {
        tuple(sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"])): s["Resource"] for s in statements
    }
    granted = {a for actions in by_actions for a in actions if a not in DESCRIBE_ACTIONS}
    writes = {a for a in granted if not a.split(":")[1].startswith(("Describe", "Get", "Filter"))}
    assert writes == {"kinesis:PutRecord", "kms:Decrypt", "kms:GenerateDataKey", "execute-api:Invoke"}
    # The consumer's dead-letter reports: read from its own log group only.
    (log_resource,) = [r for actions, r in by_actions.items() if "logs:FilterLogEvents" in actions]
    assert "ConsumeLogs" in json.dumps(log_resource)
    for actions, resource in by_actions.items():
        if resource == "*":
            assert set(actions) <= set(DESCRIBE_ACTIONS), f"{actions} on every resource"
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List", "GET")) for a in DESCRIBE_ACTIONS), (
        "describe actions must be read-only"
    )
