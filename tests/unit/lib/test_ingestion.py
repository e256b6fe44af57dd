"""Ingestion: the KMS-encrypted Kinesis stream per environment (lib/ingestion.py); every key rotates (lib/keys.py)."""

from __future__ import annotations

from tests.assembly import ENVIRONMENTS, Synth
from tests.unit.templates import only


def test_stream_encrypted_with_rotating_cmk_per_env(synth: Synth) -> None:
    expected = {"dev": ("PROVISIONED", 1, 24), "staging": ("PROVISIONED", 2, 48), "prod": ("ON_DEMAND", None, 168)}
    for env, (mode, shards, hours) in expected.items():
        stream = only(synth.resources(env, "AWS::Kinesis::Stream"))["Properties"]
        assert stream["StreamEncryption"]["EncryptionType"] == "KMS"
        key_id = stream["StreamEncryption"]["KeyId"]["Fn::GetAtt"][0]
        assert synth.templates[env]["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
        assert stream["StreamModeDetails"]["StreamMode"] == mode
        assert stream.get("ShardCount") == shards
        assert stream["RetentionPeriodHours"] == hours


def test_every_kms_key_rotates(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        keys = synth.resources(env, "AWS::KMS::Key")
        assert len(keys) == 6  # stream, database, cache, file system, alarm topic, logs
        assert all(k["Properties"]["EnableKeyRotation"] for k in keys.values())
