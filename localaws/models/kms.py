"""KMS: moto's `AWS::KMS::Key` model passes the template's `Tags` (Key/Value) to the KMS API, which wants
TagKey/TagValue, and fails every tagged key; they are translated (and the policy given as JSON text)."""

from __future__ import annotations

import json
from typing import Any

from moto.kms import models as kms_models

_original_key_create = kms_models.Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_key(
    cls: type[kms_models.Key],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> kms_models.Key:
    """moto's key model with `Tags` in the KMS API's TagKey/TagValue form and the policy as JSON text."""
    props = dict(cloudformation_json.get("Properties", {}))
    props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags", [])]
    if not isinstance(props.get("KeyPolicy"), str):
        props["KeyPolicy"] = json.dumps(props.get("KeyPolicy"))
    document = {**cloudformation_json, "Properties": props}
    return _original_key_create(cls, resource_name, document, account_id, region_name, **kwargs)


def patch() -> None:
    kms_models.Key.create_from_cloudformation_json = classmethod(_create_key)  # type: ignore[assignment]
