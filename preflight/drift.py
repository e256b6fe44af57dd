"""`python -m preflight.drift [--env NAME] [--lookup-role] [--topic-arn ARN]`: has anything changed outside git?

Runs CloudFormation drift detection on every deployment's platform stack (or one, with --env), read-only as each
account's CDK lookup role with --lookup-role. For each deployment it puts the number of drifted resources to CloudWatch
(IotPlatform/Pipeline DriftedResources, dimension Deployment) and, when anything drifted and --topic-arn is given,
publishes which resources and which properties (expected and actual values) to that topic; both as the caller (the
pipeline's account). Exits 0 when detection ran (drift or not), 1 when it could not, 2 on invalid configuration.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from platform_config import ConfigError, EnvironmentSettings, load_config_file
from platform_config.alarms import DRIFT_METRIC, PIPELINE_METRIC_NAMESPACE
from platform_config.assembly import construct_path
from platform_config.loader import CDK_JSON
from platform_config.naming import stack_name
from preflight.cli import lookup_session
from preflight.review.base import deployed_template

DRIFTED = ["MODIFIED", "DELETED"]


class DetectionFailed(RuntimeError):
    """CloudFormation could not tell whether the stack drifted."""


@dataclass(frozen=True)
class Drift:
    path: str  # the resource's construct path in the stack, or its logical id
    resource_type: str
    status: str  # MODIFIED | DELETED
    differences: tuple[str, ...]  # "RetentionPeriodHours: expected 24, actual 48"


def detect(
    cloudformation: Any, stack: str, *, timeout: float = 900, sleep: Callable[[float], None] = time.sleep
) -> list[Drift]:
    """Start drift detection on ``stack``, wait for it, and list what drifted."""
    detection = cloudformation.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    deadline = time.monotonic() + timeout
    while True:
        status = cloudformation.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        if time.monotonic() > deadline:
            raise DetectionFailed(f"drift detection of {stack} did not finish within {timeout:.0f}s")
        sleep(5)
    if status["DetectionStatus"] == "DETECTION_FAILED" and "StackDriftStatus" not in status:
        raise DetectionFailed(f"drift detection of {stack} failed: {status.get('DetectionStatusReason', '')}")
    resources = (deployed_template(cloudformation, stack) or {}).get("Resources", {})
    drifts = []
    request: dict[str, Any] = {"StackName": stack, "StackResourceDriftStatusFilters": DRIFTED}
    while True:  # paged by NextToken; botocore has no paginator for this operation
        page = cloudformation.describe_stack_resource_drifts(**request)
        for item in page["StackResourceDrifts"]:
            differences = tuple(
                f"{d['PropertyPath'].lstrip('/')}: expected {d.get('ExpectedValue')}, actual {d.get('ActualValue')}"
                for d in item.get("PropertyDifferences", [])
            )
            path = construct_path(resources.get(item["LogicalResourceId"], {}), item["LogicalResourceId"])
            drifts.append(Drift(path, item["ResourceType"], item["StackResourceDriftStatus"], differences))
        if not page.get("NextToken"):
            return sorted(drifts, key=lambda d: d.path)
        request["NextToken"] = page["NextToken"]


def describe(deployment: str, stack: str, drifts: list[Drift]) -> str:
    """What drifted, for people: one line per resource, one indented line per property."""
    if not drifts:
        return f"{deployment} ({stack}): no drift."
    lines = [f"{deployment} ({stack}): {len(drifts)} resource(s) drifted from the template git deployed:"]
    for drift in drifts:
        lines.append(f"- {drift.path} ({drift.resource_type}) {drift.status.lower()}")
        lines += [f"    {difference}" for difference in drift.differences]
    return "\n".join(lines)


def report(
    deployment: EnvironmentSettings, drifts: list[Drift], cloudwatch: Any, sns: Any | None, topic_arn: str | None
) -> str:
    text = describe(deployment.name, stack_name(deployment.name), drifts)
    cloudwatch.put_metric_data(
        Namespace=PIPELINE_METRIC_NAMESPACE,
        MetricData=[
            {
                "MetricName": DRIFT_METRIC,
                "Dimensions": [{"Name": "Deployment", "Value": deployment.name}],
                "Value": len(drifts),
                "Unit": "Count",
            }
        ],
    )
    if drifts and sns is not None and topic_arn:
        subject = f"Drift in {deployment.name}: {len(drifts)} resource(s) changed outside git"
        sns.publish(TopicArn=topic_arn, Subject=subject[:99], Message=text)  # SNS: under 100 characters
    return text


def main(argv: list[str] | None = None, session: Any | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight.drift", description=__doc__)
    parser.add_argument("--env", default=None, help="one deployment (dev, staging, prod, <env>-<region>); default all")
    parser.add_argument("--lookup-role", action="store_true", help="read each deployment as its CDK lookup role")
    parser.add_argument("--topic-arn", default=None, help="SNS topic to tell what drifted")
    parser.add_argument("--config", type=Path, default=CDK_JSON, help="the CDK app file (cdk.json)")
    args = parser.parse_args(argv)
    try:
        config = load_config_file(args.config)
        deployments = [config.environment(args.env)] if args.env else list(config.all_deployments)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    own = session if session is not None else boto3.Session()
    failed = False
    for deployment in deployments:
        account = session if session is not None else lookup_session(deployment, args.lookup_role, "drift")
        try:
            drifts = detect(
                account.client("cloudformation", region_name=deployment.region), stack_name(deployment.name)
            )
            cloudwatch = own.client("cloudwatch")  # the pipeline's account and region, where the dashboard is
            sns = own.client("sns") if args.topic_arn else None
            print(report(deployment, drifts, cloudwatch, sns, args.topic_arn))
        except (BotoCoreError, ClientError, DetectionFailed) as error:
            print(f"Could not detect drift of {deployment.name}: {error}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
