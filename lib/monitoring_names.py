"""Names shared by the platform's alarms (lib/monitoring.py) and the tools that read them (preflight/).

Plain Python without CDK, so the pipeline's health steps can import it with only boto3 installed.
"""

from __future__ import annotations

METRIC_NAMESPACE = "IotPlatform/Processor"  # the processor's embedded-metric-format namespace
METRIC_DIMENSION = "StreamName"


def alarm_prefix(environment: str) -> str:
    """Every alarm of an environment starts with this prefix (bake checks list alarms by it)."""
    return f"iot-{environment}"


def users_hurt_alarm_name(environment: str) -> str:
    """The composite alarm that is ALARM whenever any alarm meaning "users are hurt" is ALARM."""
    return f"{alarm_prefix(environment)}-users-hurt"


def alarm_arn(partition: str, region: str, account: str, name: str) -> str:
    """ARN of a CloudWatch alarm by name."""
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}"
