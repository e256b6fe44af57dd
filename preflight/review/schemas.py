"""Which property changes replace a resource, from CloudFormation's resource provider schemas (as cfn-lint bundles
them): `createOnlyProperties` always replace; `conditionalCreateOnlyProperties` replace when the service cannot update
them in place (a change set decides; the review reports them as "may replace"). A type the bundled schemas do not know
(newer than this cfn-lint, or not offered in the region) is reported as "may replace" on any change, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError


@dataclass(frozen=True)
class Immutability:
    create_only: frozenset[str]  # top-level property names
    conditional: frozenset[str]
    known: bool = True  # False: no schema for the type, so any change may replace it


def _names(paths: list[str]) -> frozenset[str]:
    return frozenset(path.removeprefix("/properties/").split("/", 1)[0] for path in paths)


@cache
def immutability(region: str, resource_type: str) -> Immutability:
    """The create-only properties of ``resource_type``; none for a type without a schema (custom resources)."""
    if not resource_type.startswith("AWS::") or resource_type.startswith("AWS::Serverless::"):
        return Immutability(frozenset(), frozenset())
    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except ResourceNotFoundError:
        return Immutability(frozenset(), frozenset(), known=False)
    return Immutability(
        _names(schema.get("createOnlyProperties", [])), _names(schema.get("conditionalCreateOnlyProperties", []))
    )
