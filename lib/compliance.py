"""Compliance gates: cdk-nag AwsSolutions checks as a CDK validation plugin, and acknowledgements.

`add_compliance_checks` registers cdk-nag 3.x (`AwsSolutionsChecks`) through `Validations.of(app).add_plugins`, so
any unacknowledged finding fails `cdk synth`. `acknowledge` records a reviewed exception next to the construct
that needs it, with a reason that is true for this system; tests/unit pins the full list.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

NAG_PACK = "AwsSolutions"


def add_compliance_checks(scope: IConstruct) -> None:
    """Run cdk-nag AwsSolutions over everything under ``scope`` (an App or Stage) at synth time."""
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope))


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge cdk-nag findings (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``construct`` and its children."""
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=f"{NAG_PACK}::{rule_id}", reason=reason) for rule_id in rule_ids)
    )


def acknowledge_rule(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge a finding of another validation plugin by its full id (e.g. ``CloudFormation-Validate::W3010``)."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
