"""Customer-managed KMS keys: one per kind of data, so each key's policy and audit trail concern one thing."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from constructs import Construct

from lib.cdk_enums import REMOVAL_POLICY
from platform_config import EnvironmentSettings


def customer_managed_key(
    scope: Construct, construct_id: str, *, purpose: str, settings: EnvironmentSettings
) -> kms.Key:
    """A key with automatic rotation, kept or removed as the environment's data is (`removal_policy`)."""
    return kms.Key(
        scope,
        construct_id,
        description=f"{purpose} ({settings.name})",
        enable_key_rotation=True,
        removal_policy=REMOVAL_POLICY[settings.removal_policy],
    )
