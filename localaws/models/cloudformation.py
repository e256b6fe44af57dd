"""CloudFormation: template `Rules`, which moto ignores. They are evaluated for the assertion form CDK emits
(`CheckBootstrapVersion`: `Fn::Not` of `Fn::Contains` over the `BootstrapVersion` parameter), so deploying into an
environment bootstrapped with a too old version fails with CDK's own message, as in AWS."""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError

_original_stack_create_resources = cfn_models.Stack.create_resources


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
    _original_stack_create_resources(self)


def patch() -> None:
    cfn_models.Stack.create_resources = _create_resources
