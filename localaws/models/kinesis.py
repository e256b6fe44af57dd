"""Kinesis: moto's `AWS::Kinesis::Stream` model ignores `StreamEncryption` and `StreamModeDetails`; the stream is
created by moto's own model, then encrypted with the given key and put in the given capacity mode through the
backend."""

from __future__ import annotations

from typing import Any

from moto.kinesis import models as kinesis_models

_original_stream_create = kinesis_models.Stream.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_stream(
    cls: type[kinesis_models.Stream],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> kinesis_models.Stream:
    """moto's stream model, plus the `StreamEncryption` and `StreamModeDetails` it ignores."""
    props = cloudformation_json.get("Properties", {})
    stream = _original_stream_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    backend = kinesis_models.kinesis_backends[account_id][region_name]
    mode = props.get("StreamModeDetails")
    if mode:
        backend.update_stream_mode(stream.arn, {"StreamMode": mode["StreamMode"]})
    encryption = props.get("StreamEncryption")
    if encryption:
        backend.start_stream_encryption(
            stream_arn=stream.arn,
            stream_name=stream.stream_name,
            encryption_type=encryption["EncryptionType"],
            key_id=encryption["KeyId"],
        )
    return stream


def patch() -> None:
    kinesis_models.Stream.create_from_cloudformation_json = classmethod(_create_stream)  # type: ignore[assignment]
