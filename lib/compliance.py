"""Compliance gates: cdk-nag AwsSolutions checks and CloudFormation's validation engine as CDK validation plugins,
and acknowledgements.

`add_compliance_checks` registers cdk-nag 3.x (`AwsSolutionsChecks`) and the validation engine aws-cdk-lib runs with
`@aws-cdk/core:validateAgainstDefaultRules` (its default rules, plus validation/*.rego: the checks cfn-lint makes that
the engine does not, so it is the one template-validation pass) through `Validations.of(app).add_plugins`, so any
unacknowledged finding fails `cdk synth`. `acknowledge` records a reviewed exception next to the construct
that needs it, with a reason that is true for this system; tests/unit pins the full list.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, CloudFormationValidatePlugin, ValidationRuleSource, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

NAG_PACK = "AwsSolutions"
TEMPLATE_RULES = Path(__file__).resolve().parents[1] / "validation"


def add_compliance_checks(scope: IConstruct) -> None:
    """Run cdk-nag AwsSolutions and the template checks over everything under ``scope`` (an App) at synth time."""
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope), template_checks())


def template_checks() -> CloudFormationValidatePlugin:
    """The validation engine with its default rules and ours; registered, it replaces the one the flag adds."""
    rules = [ValidationRuleSource(name=f.name, content=f.read_text()) for f in sorted(TEMPLATE_RULES.glob("*.rego"))]
    return CloudFormationValidatePlugin(rego_rules=rules, include_default_rules=True)


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge cdk-nag findings (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``construct`` and its children."""
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=f"{NAG_PACK}::{rule_id}", reason=reason) for rule_id in rule_ids)
    )


def acknowledge_rule(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge a finding of another validation plugin by its full id (e.g. ``CloudFormation-Validate::W3010``)."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
