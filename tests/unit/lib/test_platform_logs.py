"""Log groups that carry platform data are encrypted with the logs key, which CloudWatch Logs may use for this account's
and region's log groups only (lib/platform_logs.py)."""

from __future__ import annotations

import json

import pytest

from tests.assembly import ENVIRONMENTS, Synth


def _logs_key(synth: Synth, env: str) -> tuple[str, dict]:
    (found,) = [
        (k, r) for k, r in synth.resources(env, "AWS::KMS::Key").items() if "/Logs/Key/" in synth.path_of(env, k)
    ]
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_platform_log_group_is_encrypted_with_the_logs_key(synth: Synth, env: str) -> None:
    key_id, _ = _logs_key(synth, env)
    groups = {synth.path_of(env, k): r["Properties"] for k, r in synth.resources(env, "AWS::Logs::LogGroup").items()}
    kinds = {"/Network/FlowLogs/", "/Database/PostgresqlLogs/", "/Database/UpgradeLogs/", "/Processing/ConsumeLogs/",
             "/Processing/ServeLogs/", "/Api/AccessLogs/"}  # fmt: skip
    for kind in kinds:
        assert any(kind in path for path in groups), kind
    for path, group in groups.items():
        assert group.get("KmsKeyId") == {"Fn::GetAtt": [key_id, "Arn"]}, path


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_logs_key_rotates_and_serves_only_this_accounts_log_groups(synth: Synth, env: str) -> None:
    _, key = _logs_key(synth, env)
    assert key["Properties"]["EnableKeyRotation"] is True
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Service" in s["Principal"]]
    assert statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    context = json.dumps(statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
    account = synth.stage_stack(env).account
    assert f":logs:us-east-1:{account}:log-group:*" in context
