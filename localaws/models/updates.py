"""CloudFormation stack updates, as CloudFormation performs them.

moto 5.2.5's `ResourceMap.update` calls a type's `update_from_cloudformation_json` when it has one; for any other type
(RDS instances, log groups, alarms, ...) it stores None for the resource: the update is silently lost and the resource
vanishes from the stack. And it accepts an update that changes nothing. Here, per resource, as CloudFormation does:
- added resources are created, removed ones deleted after every create and update (the cleanup phase);
- a modified resource whose changed properties include a create-only one (from CloudFormation's own resource schemas,
  as cfn-lint bundles them, read by the review's own `immutability`), or whose type changed, is
  replaced: a new one is created (a new physical id), the old one deleted in the cleanup phase; a custom-named
  resource cannot be replaced without a new name (CloudFormation's own error);
- otherwise it is updated in place through the type's update model; a type with none, or a change of a property its
  model does not update (`IN_PLACE_PROPERTIES`), fails the update, naming the type and the properties, instead of
  dropping the change;
- a resource whose properties refer (Ref, Fn::GetAtt, Fn::Sub) to a replaced one is updated too (its values changed),
  replaced itself when the reference sits in a create-only property;
- `UpdateStack` with the deployed template, parameters and tags fails with CloudFormation's
  "No updates are to be performed."; a successful update sets the stack's `LastUpdatedTime`; a failed one leaves the
  stack in UPDATE_ROLLBACK_FAILED with the reason (what was already applied stays: no rollback is modelled).
Not reproduced: rollback, update policies, stack policies, `UpdateReplacePolicy: Retain` (the old resource is
deleted), and CloudFormation's conditional replacements (`conditionalCreateOnlyProperties` update in place here).
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.core.utils import utcnow

from localaws.models import rds
from preflight.review.changes import references as template_references
from preflight.review.schemas import immutability

# Types whose update model applies only some properties in place: a change of any other fails the update.
IN_PLACE_PROPERTIES: dict[str, frozenset[str]] = {"AWS::RDS::DBInstance": frozenset(rds.IN_PLACE)}


def references(value: Any) -> set[str]:
    """Logical ids a template value refers to (Ref, Fn::GetAtt, Fn::Sub)."""
    return {logical_id for logical_id, _ in template_references(value)}


def _same(left: Any, right: Any) -> bool:
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def _has_update(resource_class: Any) -> bool:
    return not hasattr(resource_class.update_from_cloudformation_json, "__isabstractmethod__")


def _replace(self: parsing.ResourceMap, logical_id: str, new: dict[str, Any], changed: set[str]) -> None:
    resource_class = parsing.resource_class_from_type(new["Type"])
    name_property = resource_class.cloudformation_name_type()
    props = new.get("Properties", {})
    if name_property and name_property in props and name_property not in changed:
        raise ValidationError(
            message="CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename "
            f"{props[name_property]} and update the stack again."
        )
    self._parsed_resources.pop(logical_id, None)
    replacement = parsing.parse_and_create_resource(
        logical_id, new, self, account_id=self._account_id, region_name=self._region_name
    )
    if replacement is not None:
        self._parsed_resources[logical_id] = replacement


def _update_one(
    self: parsing.ResourceMap, logical_id: str, old: dict[str, Any], new: dict[str, Any], replaced: set[str]
) -> str:
    """Update one resource as CloudFormation would: "replace", "update" or "none"."""
    resource_class = parsing.resource_class_from_type(new["Type"])
    if resource_class is None or self._parsed_resources.get(logical_id) is None:
        return "none"  # a type moto skips (and skipped at creation): nothing exists to update
    old_props, new_props = old.get("Properties", {}), new.get("Properties", {})
    changed = {p for p in set(old_props) | set(new_props) if not _same(old_props.get(p), new_props.get(p))}
    changed |= {p for p, value in new_props.items() if references(value) & replaced}
    if old["Type"] != new["Type"] or changed & immutability(self._region_name, new["Type"]).create_only:
        _replace(self, logical_id, new, changed)
        return "replace"
    if not changed:
        return "none"  # metadata, DependsOn or policies only: no resource changes
    unmodelled = changed - IN_PLACE_PROPERTIES.get(new["Type"], frozenset(changed))
    if not _has_update(resource_class) or unmodelled:
        raise ValidationError(
            message=f"localaws has no in-place update model for {new['Type']} ({logical_id}); it would change "
            f"{', '.join(sorted(unmodelled or changed))}"
        )
    updated = parsing.parse_and_update_resource(
        logical_id, new, self, account_id=self._account_id, region_name=self._region_name
    )
    self._parsed_resources[logical_id] = updated
    return "update"


def _update(self: parsing.ResourceMap, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
    """ResourceMap.update: create, update in place or replace, then clean up (see the module docstring)."""
    old_json: dict[str, Any] = dict(self._resource_json_map)
    new_json: dict[str, Any] = template["Resources"]
    added = [name for name in new_json if name not in old_json]
    removed = [name for name in old_json if name not in new_json]
    pending = [name for name in new_json if name in old_json and not _same(old_json[name], new_json[name])]

    self._template = template
    if parameters:
        self.input_parameters = parameters
    self.load_mapping()
    self.load_parameters()
    self.load_conditions()
    self._resource_json_map = new_json

    for name in added:
        _ = self[name]  # created, with whatever it refers to
    old_resources = {name: self._parsed_resources.get(name) for name in old_json}
    replaced: set[str] = set()
    done: set[str] = set()
    while pending:
        # referenced resources first, so a dependent sees their new values
        ready = [n for n in pending if not (references(new_json[n]) & (set(pending) - {n}))] or pending[:1]
        name = ready[0]
        pending.remove(name)
        done.add(name)
        if _update_one(self, name, old_json[name], new_json[name], replaced) == "replace":
            replaced.add(name)
            dependents = [d for d in new_json if d not in done and d not in pending and d not in added]
            pending += [d for d in dependents if name in references(new_json[d])]

    for name in removed:
        resource = self._parsed_resources.pop(name, None)
        if resource is not None:
            self._delete_resource(resource, old_json[name])
    for name in replaced:
        if old_resources.get(name) is not None:
            self._delete_resource(old_resources[name], old_json[name])


_original_stack_update = cfn_models.Stack.update


def _stack_update(
    self: cfn_models.Stack,
    template: str,
    role_arn: str | None = None,
    parameters: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """Stack.update with LastUpdatedTime, and a failed update visible in the stack's status and reason."""
    try:
        _original_stack_update(self, template, role_arn, parameters, tags)
    except Exception as error:  # a resource failed: CloudFormation reports it on the stack, not to the caller
        reason = getattr(error, "message", None) or str(error)
        self.status = "UPDATE_ROLLBACK_FAILED"
        self.stack_status_reason = f"Update failed (localaws models no rollback): {reason}"
        self._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=self.stack_status_reason)
    else:
        self.stack_status_reason = None
    self.last_updated_time = utcnow()


_original_backend_update_stack = cfn_models.CloudFormationBackend.update_stack


def _backend_update_stack(
    self: cfn_models.CloudFormationBackend,
    name: str,
    template: str,
    role_arn: str | None,
    parameters: list[dict[str, Any]],
    tags: dict[str, str] | None,
) -> cfn_models.Stack:
    """UpdateStack; one that changes nothing fails as CloudFormation's does."""
    stack = self.get_stack(name)
    resolved = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
    same_tags = tags is None or tags == stack.tags
    if stack.has_template(template) and resolved == (stack.parameters or {}) and same_tags:
        raise ValidationError(stack.name, message="No updates are to be performed.")
    return _original_backend_update_stack(self, name, template, role_arn, parameters, tags)


def patch() -> None:
    parsing.ResourceMap.update = _update  # type: ignore[method-assign]
    cfn_models.Stack.update = _stack_update  # type: ignore[method-assign]
    cfn_models.CloudFormationBackend.update_stack = _backend_update_stack  # type: ignore[method-assign]
