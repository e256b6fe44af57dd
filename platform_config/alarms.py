"""Names of the platform's alarms and of the metrics the processor and the pipeline emit: lib/ and pipeline/ create
alarms and widgets on them, the health gates and preflight.drift read or write them."""

from __future__ import annotations

from platform_config.naming import resource_prefix

METRIC_NAMESPACE = "IotPlatform/Processor"  # the processor's embedded-metric-format namespace
METRIC_DIMENSION = "StreamName"
PIPELINE_METRIC_NAMESPACE = "IotPlatform/Pipeline"  # the pipeline's own metrics: execution events, drift
DRIFT_METRIC = "DriftedResources"  # put by preflight.drift per deployment (dimension Deployment)


def alarm_prefix(deployment: str) -> str:
    """Every alarm of a deployment starts with this prefix (the bake lists alarms by it)."""
    return resource_prefix(deployment)


def users_hurt_alarm_name(deployment: str) -> str:
    """The composite alarm that is ALARM whenever any alarm meaning "users are hurt" is ALARM."""
    return f"{alarm_prefix(deployment)}-users-hurt"
