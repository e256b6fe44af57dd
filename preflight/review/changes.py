"""What a new template changes in a deployed stack, resource by resource, as CloudFormation will apply it.

A resource is added, removed, or modified in the properties whose values differ; a modification replaces it when a
create-only property changes, or when a create-only property refers (Ref, Fn::GetAtt, Fn::Sub) to the identity (Ref,
ARN, id) of a resource that is itself replaced, since its value then changes at deployment; a reference to another
attribute of a replaced resource (an endpoint's port) may replace it, as CloudFormation's change sets say
"Conditional". Metadata, DependsOn and deletion policies change no
resource and are not counted. IAM (roles, policies, key policies) and network (security groups, their rules, network
ACLs) changes are flagged for review.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from platform_config.assembly import construct_path
from preflight.review.schemas import immutability

SECURITY_TYPES = (
    "AWS::IAM::",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::NetworkAcl",
    "AWS::KMS::Key",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::Lambda::Permission",
)
YES, MAYBE, NO = "replace", "may replace", "no"


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    path: str  # the resource's construct path inside its stack (its logical id when it has none)
    resource_type: str
    action: str  # Add | Modify | Remove
    properties: tuple[str, ...] = ()  # the top-level properties that change
    replacement: str = NO  # replace | may replace | no
    causes: tuple[str, ...] = ()  # what forces the replacement: properties, or "<Property> -> <replaced resource>"

    @property
    def security(self) -> bool:
        return self.resource_type.startswith(SECURITY_TYPES)


@dataclass
class StackChanges:
    stack: str
    resources: list[ResourceChange] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # output name -> Add | Modify | Remove

    def count(self, action: str) -> int:
        return sum(1 for c in self.resources if c.action == action)

    @property
    def replaced(self) -> list[ResourceChange]:
        return [c for c in self.resources if c.replacement == YES]

    @property
    def empty(self) -> bool:
        return not self.resources and not self.outputs

    def summary(self) -> str:
        """One line: "2 added, 1 modified (1 replaced), 0 removed, 1 IAM/network" (", 1 output" when outputs change)."""
        security = sum(1 for c in self.resources if c.security)
        replaced = len(self.replaced)
        modified = self.count("Modify")
        line = (
            f"{self.count('Add')} added, {modified} modified ({replaced} replaced), {self.count('Remove')} removed, "
            f"{security} IAM/network"
        )
        if self.outputs:
            line += f", {len(self.outputs)} output{'s' if len(self.outputs) > 1 else ''}"
        return line


def references(value: Any) -> set[tuple[str, str]]:
    """(logical id, attribute) of each resource a property value refers to; the attribute is "" for a Ref."""
    found: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str) and not value["Ref"].startswith("AWS::"):
            found.add((value["Ref"], ""))
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            name, _, attribute = (".".join(target) if isinstance(target, list) else str(target)).partition(".")
            found.add((name, attribute))
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            for part in text.split("${")[1:]:
                name, _, attribute = part.split("}")[0].partition(".")
                found.add((name, attribute))
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def _identity(attribute: str) -> bool:
    """Whether a reference yields the resource's identity (Ref, its ARN or id), which a replacement always changes;
    other attributes (an endpoint's port, say) may keep their value, as CloudFormation's "Conditional" says."""
    return attribute == "" or attribute.endswith(("Arn", "Id"))


def _same(left: Any, right: Any) -> bool:
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def diff(deployed: dict[str, Any] | None, new: dict[str, Any], *, stack: str, region: str) -> StackChanges:
    """The changes ``new`` makes to a stack deployed with ``deployed`` (None: the stack does not exist yet)."""
    old = (deployed or {}).get("Resources", {})
    resources = new.get("Resources", {})
    changes: dict[str, ResourceChange] = {}
    for logical_id, resource in resources.items():
        path = construct_path(resource, logical_id)
        if logical_id not in old:
            changes[logical_id] = ResourceChange(logical_id, path, resource["Type"], "Add")
            continue
        before = old[logical_id]
        if before["Type"] != resource["Type"]:
            changes[logical_id] = ResourceChange(
                logical_id, path, resource["Type"], "Modify", ("Type",), YES, ("Type",)
            )
            continue
        props, previous = resource.get("Properties", {}), before.get("Properties", {})
        changed = tuple(sorted(p for p in set(props) | set(previous) if not _same(props.get(p), previous.get(p))))
        if changed:
            rules = immutability(region, resource["Type"])
            forced = tuple(p for p in changed if p in rules.create_only)
            maybe = tuple(p for p in changed if p in rules.conditional or not rules.known)
            replacement = YES if forced else MAYBE if maybe else NO
            changes[logical_id] = ResourceChange(
                logical_id, path, resource["Type"], "Modify", changed, replacement, forced or maybe
            )
    for logical_id, resource in old.items():
        if logical_id not in resources:
            changes[logical_id] = ResourceChange(
                logical_id, construct_path(resource, logical_id), resource["Type"], "Remove"
            )
    _propagate_replacements(changes, resources, region)
    return StackChanges(stack, sorted(changes.values(), key=lambda c: c.path), _outputs(deployed, new))


def _propagate_replacements(changes: dict[str, ResourceChange], resources: dict[str, Any], region: str) -> None:
    """A create-only property that refers to a replaced resource gets a new value at deployment: replaced too when it
    refers to the resource's identity, else it may be."""
    replaced = {i for i, c in changes.items() if c.replacement == YES or c.action == "Remove"}
    while True:
        added = False
        for logical_id, resource in resources.items():
            current = changes.get(logical_id)
            if logical_id in replaced or (current is not None and current.action == "Add"):
                continue
            create_only = immutability(region, resource["Type"]).create_only
            causing = [
                (name, target, attribute)
                for name, value in sorted(resource.get("Properties", {}).items())
                if name in create_only
                for target, attribute in sorted(references(value))
                if target in replaced
            ]
            if not causing:
                continue
            definite = any(_identity(attribute) for _, _, attribute in causing)
            if current is not None and (current.replacement == MAYBE and not definite):
                continue  # already known to be a possible replacement
            causes = tuple(
                dict.fromkeys(
                    f"{name} -> {target}" + (f".{attribute}" if attribute else "")
                    for name, target, attribute in causing
                    if _identity(attribute) == definite
                )
            )
            properties = tuple(sorted({*(current.properties if current else ()), *(c.split(" ")[0] for c in causes)}))
            changes[logical_id] = ResourceChange(
                logical_id,
                construct_path(resource, logical_id),
                resource["Type"],
                "Modify",
                properties,
                YES if definite else MAYBE,
                causes,
            )
            if definite:
                replaced.add(logical_id)
                added = True
        if not added:
            return


def _outputs(deployed: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, str]:
    old, current = (deployed or {}).get("Outputs", {}), new.get("Outputs", {})
    found = {name: "Add" for name in current if name not in old}
    found |= {name: "Remove" for name in old if name not in current}
    found |= {name: "Modify" for name in current if name in old and not _same(old[name], current[name])}
    return dict(sorted(found.items()))
