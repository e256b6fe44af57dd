"""Which property changes replace a resource, from CloudFormation's resource provider schemas (as cfn-lint bundles
them): `createOnlyProperties` always replace; `conditionalCreateOnlyProperties` replace when the service cannot update
them in place (a change set decides; the review reports them as "may replace")."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER


@dataclass(frozen=True)
class Immutability:
    create_only: frozenset[str]  # top-level property names
    conditional: frozenset[str]


def _names(paths: list[str]) -> frozenset[str]:
    return frozenset(path.removeprefix("/properties/").split("/", 1)[0] for path in paths)


@cache
def immutability(region: str, resource_type: str) -> Immutability:
    """The create-only properties of ``resource_type``; none for a type without a schema (custom resources)."""
    if not resource_type.startswith("AWS::") or resource_type.startswith("AWS::Serverless::"):
        return Immutability(frozenset(), frozenset())
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    return Immutability(
        _names(schema.get("createOnlyProperties", [])), _names(schema.get("conditionalCreateOnlyProperties", []))
    )
