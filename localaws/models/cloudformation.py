"""CloudFormation: template `Rules`, which moto ignores, and resources that fail to create.

- `Rules` are evaluated for the assertion form CDK emits (`CheckBootstrapVersion`: `Fn::Not` of `Fn::Contains` over
  the `BootstrapVersion` parameter), so deploying into an environment bootstrapped with a too old version fails with
  CDK's own message (CreateStack's ValidationError), as in AWS.
- A resource whose creation fails makes moto's CreateStack answer an internal error (HTTP 500). In AWS the call
  succeeds and the stack fails: here the stack ends CREATE_FAILED with CloudFormation's reason ("The following
  resource(s) failed to create: [<logical id>]. ..."), the failing resource named. Not reproduced: the rollback
  (what was created stays; AWS would delete it and end ROLLBACK_COMPLETE).
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError

_original_stack_create_resources = cfn_models.Stack.create_resources
_original_parse_and_create_resource = parsing.parse_and_create_resource


class ResourceFailed(ValidationError):
    """One resource of a stack failed to create; names it."""

    def __init__(self, logical_id: str, resource_type: str, error: BaseException) -> None:
        detail = getattr(error, "message", None) or " ".join(str(a) for a in error.args) or type(error).__name__
        super().__init__(message=f"{logical_id} ({resource_type}): {detail}")
        self.logical_id, self.detail = logical_id, detail


def _parse_and_create_resource(
    logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
) -> Any:
    """moto's resource creation; a failure names the resource (the first one that failed, when nested)."""
    try:
        return _original_parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name)
    except ResourceFailed:
        raise
    except Exception as error:  # whatever the service backend raised
        raise ResourceFailed(logical_id, resource_json.get("Type", "?"), error) from error


def _check_rules(stack: cfn_models.Stack) -> None:
    """Evaluate the template's `Rules` assertions of the form CDK emits; a failing one fails the stack."""
    resources = stack.resource_map
    for rule_name, rule in (stack.template_dict.get("Rules") or {}).items():
        for assertion in rule.get("Assertions", []):
            if not _evaluate(assertion["Assert"], resources):
                raise ValidationError(message=f"Rule {rule_name}: {assertion.get('AssertDescription', 'failed')}")


def _evaluate(condition: Any, resources: Any) -> Any:
    if isinstance(condition, dict) and len(condition) == 1:
        ((function, argument),) = condition.items()
        if function == "Fn::Not":
            return not _evaluate(argument[0], resources)
        if function == "Fn::Contains":
            values, value = (_evaluate(a, resources) for a in argument)
            return value in values
        if function == "Fn::Equals":
            left, right = (_evaluate(a, resources) for a in argument)
            return left == right
        if function in ("Fn::And", "Fn::Or"):
            results = [_evaluate(a, resources) for a in argument]
            return all(results) if function == "Fn::And" else any(results)
        return parsing.clean_json(condition, resources)
    if isinstance(condition, list):
        return [_evaluate(item, resources) for item in condition]
    return condition


def _create_resources(self: cfn_models.Stack) -> None:
    _check_rules(self)
    try:
        _original_stack_create_resources(self)
    except ResourceFailed as failure:
        self.status = "CREATE_FAILED"
        self.stack_status_reason = (
            f"The following resource(s) failed to create: [{failure.logical_id}]. {failure.detail}"
        )
        self._add_stack_event("CREATE_FAILED", resource_status_reason=self.stack_status_reason)


def patch() -> None:
    cfn_models.Stack.create_resources = _create_resources
    parsing.parse_and_create_resource = _parse_and_create_resource
