"""The Kinesis stream: active, encrypted with the platform's key, and records go in and come out."""

from __future__ import annotations

import json
import time
import uuid

import pytest


@pytest.mark.smoke
def test_stream_is_active_and_kms_encrypted(aws, output, settings) -> None:
    summary = aws("kinesis").describe_stream_summary(StreamName=output("StreamName"))["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["StreamARN"] == output("StreamArn")
    assert summary.get("EncryptionType") == "KMS", f"stream encryption is {summary.get('EncryptionType')}"
    assert summary.get("KeyId") == output("StreamKeyArn")
    assert summary["RetentionPeriodHours"] == settings.stream.retention_hours
    assert summary["StreamModeDetails"]["StreamMode"] == settings.stream.capacity_mode


@pytest.mark.smoke
def test_stream_key_rotates(aws, output) -> None:
    kms = aws("kms")
    assert kms.describe_key(KeyId=output("StreamKeyArn"))["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=output("StreamKeyArn"))["KeyRotationEnabled"] is True


def test_put_record_get_records_round_trip(aws, output) -> None:
    kinesis, stream = aws("kinesis"), output("StreamName")
    marker = f"integration-{uuid.uuid4()}"
    data = json.dumps({"sensorId": marker, "probe": True}).encode()
    put = kinesis.put_record(StreamName=stream, Data=data, PartitionKey=marker)
    iterator = kinesis.get_shard_iterator(
        StreamName=stream,
        ShardId=put["ShardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=put["SequenceNumber"],
    )["ShardIterator"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = kinesis.get_records(ShardIterator=iterator, Limit=10)
        found = [r for r in response["Records"] if r["SequenceNumber"] == put["SequenceNumber"]]
        if found:
            assert found[0]["Data"] == data
            assert found[0]["PartitionKey"] == marker
            return
        iterator = response["NextShardIterator"]
        time.sleep(0.5)
    pytest.fail(f"record {put['SequenceNumber']} not readable from {put['ShardId']} within 30s")
