"""Plumbing shared by the CloudFormation models: a minimal model class, flags and tags as templates write them, and
`{{resolve:secretsmanager:...}}` dynamic references resolved as CloudFormation does (a missing secret fails the
resource)."""

from __future__ import annotations

import json
import re
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.secretsmanager.models import secretsmanager_backends

_RESOLVE = re.compile(
    r"\{\{resolve:secretsmanager:(?P<id>arn:[^:]+:secretsmanager:[^:]+:\d+:secret:[^:]+|[^:}]+)"
    r"(?::SecretString:(?P<key>[^:}]*):(?P<stage>[^:}]*):(?P<version>[^:}]*))?\}\}"
)


def flag(value: Any) -> bool:
    return str(value).lower() == "true"


def camel(document: Any) -> Any:
    """CloudFormation's PascalCase property names to the API's camelCase, nested (moto's own remapping)."""
    return remap_nested_keys(document, pascal_to_camelcase)


def tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t["Value"]} for t in properties.get("Tags", [])]


def resolve_dynamic_references(value: str, account_id: str, region_name: str) -> str:
    """Resolve `{{resolve:secretsmanager:...}}` as CloudFormation does; a missing secret fails the resource."""

    def secret_value(match: re.Match[str]) -> str:
        backend = secretsmanager_backends[account_id][region_name]
        try:
            secret = backend.get_secret_value(match["id"], None, match["stage"] or None)
        except Exception as error:  # the backend raises its own exceptions
            raise ValidationError(message=f"Unable to resolve dynamic reference {match[0]}: {error}") from error
        text = secret["SecretString"]
        return json.loads(text)[match["key"]] if match["key"] else text

    return _RESOLVE.sub(secret_value, value)


class Model(CloudFormationModel):
    """Common plumbing: a physical id, attributes by name, nothing to wait for."""

    TYPE = ""
    ATTRIBUTES: tuple[str, ...] = ()

    def __init__(self, physical_id: str, attributes: dict[str, Any] | None = None) -> None:
        self._physical_id = physical_id
        self._attributes = attributes or {}

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self._attributes:
            raise ValidationError(message=f"{self.TYPE} has no attribute {attribute_name}")
        return self._attributes[attribute_name]

    def is_created(self) -> bool:
        return True
