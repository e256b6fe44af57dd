"""Log groups that carry platform data are encrypted with a customer-managed key (the processor's own log among them):
what a reading's dead letter or a stack trace prints stays under the platform's keys."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.smoke


def test_the_processors_log_group_is_encrypted_with_a_customer_managed_key(aws, output, settings) -> None:
    name = output("ConsumeLogGroupName")
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    (group,) = [g for g in groups if g["logGroupName"] == name]
    assert group.get("kmsKeyId", "").startswith("arn:"), f"log group {name} is not encrypted with a KMS key"
    assert group.get("retentionInDays") == settings.log_retention_days
