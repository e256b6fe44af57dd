"""Outputs: stable, export-free stack outputs that the integration tests and operators read.

The names are platform_config.outputs.OUTPUT_NAMES. Each output's logical id is pinned (override_logical_id) so that it
stays the same whatever construct tree produces it; nothing is exported, so stacks never become coupled through
Fn::ImportValue.
"""

from __future__ import annotations

from aws_cdk import CfnOutput
from constructs import Construct

from platform_config.outputs import OUTPUT_NAMES


class Outputs(Construct):
    """CfnOutputs with exactly the names in OUTPUT_NAMES."""

    def __init__(self, scope: Construct, construct_id: str, *, values: dict[str, str]) -> None:
        super().__init__(scope, construct_id)
        missing = sorted(set(OUTPUT_NAMES) - set(values))
        unknown = sorted(set(values) - set(OUTPUT_NAMES))
        if missing or unknown:
            raise ValueError(f"outputs must be exactly OUTPUT_NAMES (missing {missing}, unknown {unknown})")
        for name in OUTPUT_NAMES:
            output = CfnOutput(self, name, value=values[name], description=f"{name} of the IoT platform")
            output.override_logical_id(name)
