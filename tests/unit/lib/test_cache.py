"""Cache: the encrypted Redis replication group with an AUTH token (lib/cache.py)."""

from __future__ import annotations

import pytest

from tests.assembly import Synth
from tests.unit.templates import only, text


@pytest.mark.parametrize(("env", "nodes", "multi_az"), [("dev", 1, False), ("staging", 2, True), ("prod", 3, True)])
def test_redis_encrypted_with_auth_token_and_failover(synth: Synth, env: str, nodes: int, multi_az: bool) -> None:
    props = only(synth.resources(env, "AWS::ElastiCache::ReplicationGroup"))["Properties"]
    assert props["Engine"] == "redis"
    assert props["NumCacheClusters"] == nodes
    assert props["MultiAZEnabled"] is multi_az
    assert props["AutomaticFailoverEnabled"] is multi_az
    assert props["AtRestEncryptionEnabled"] is True
    assert props["TransitEncryptionEnabled"] is True
    assert "KmsKeyId" in props
    assert props["Port"] == 6379
    token = text(props["AuthToken"])
    assert "{{resolve:secretsmanager:" in token  # a dynamic reference, never the token itself
    private = {k for k, v in synth.resources(env, "AWS::EC2::Subnet").items() if "/private" in synth.path_of(env, k)}
    subnet_group = only(synth.resources(env, "AWS::ElastiCache::SubnetGroup"))["Properties"]
    assert {ref["Ref"] for ref in subnet_group["SubnetIds"]} == private


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_auth_token_is_encrypted_with_the_cache_key(synth: Synth, env: str) -> None:
    (token,) = [
        r for k, r in synth.resources(env, "AWS::SecretsManager::Secret").items()
        if "/Cache/AuthToken/" in synth.path_of(env, k)
    ]  # fmt: skip
    (key_id,) = [k for k in synth.resources(env, "AWS::KMS::Key") if "/Cache/Key/" in synth.path_of(env, k)]
    assert token["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
