"""Names of the platform's alarms and of the processor's metrics: lib/ creates them, the health gates read them."""

from __future__ import annotations

from platform_config.naming import resource_prefix

METRIC_NAMESPACE = "IotPlatform/Processor"  # the processor's embedded-metric-format namespace
METRIC_DIMENSION = "StreamName"


def alarm_prefix(deployment: str) -> str:
    """Every alarm of a deployment starts with this prefix (the bake lists alarms by it)."""
    return resource_prefix(deployment)


def users_hurt_alarm_name(deployment: str) -> str:
    """The composite alarm that is ALARM whenever any alarm meaning "users are hurt" is ALARM."""
    return f"{alarm_prefix(deployment)}-users-hurt"


def alarm_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}"
