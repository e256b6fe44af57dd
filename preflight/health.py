"""Health gates around a deployment, on the environment's CloudWatch alarms (names from platform_config.alarms).

- ``bake``: after staging's integration tests, every ``iot-<env>-*`` alarm must stay out of ALARM for the configured
  ``monitoring.bake_minutes`` (polled, then the alarm history is read so a flap between polls counts too).
- ``arm-rollback``: before prod deploys, make sure CloudFormation's rollback triggers on the prod stack watch the
  ``iot-<env>-users-hurt`` composite alarm. CloudFormation keeps a stack's rollback triggers for every later update,
  including the direct updates the pipeline's deploy actions make, so an update during which that alarm fires is
  rolled back. Prod's pre-flight build runs this right after its checks pass (buildspecs/preflight.yml).

Usage: python -m preflight.health {bake,arm-rollback} --env NAME [--role-arn ARN] [--stack-name NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from platform_config import EnvironmentSettings
from platform_config.alarms import alarm_arn, alarm_prefix, users_hurt_alarm_name
from preflight.cli import common_arguments, default_stack_name, run_against_account, session_for

ARMED_TAG = "iot:rollback-trigger"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str


def _alarms(cloudwatch: Any, prefix: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=f"{prefix}-", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    for page in pages:
        found.extend(page.get("MetricAlarms", []))
        found.extend(page.get("CompositeAlarms", []))
    return found


def _alarmed_since(cloudwatch: Any, prefix: str, start: datetime, end: datetime) -> list[str]:
    names: set[str] = set()
    pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
        HistoryItemType="StateUpdate", StartDate=start, EndDate=end, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    for page in pages:
        for item in page.get("AlarmHistoryItems", []):
            if not item["AlarmName"].startswith(f"{prefix}-"):
                continue
            new_state = json.loads(item.get("HistoryData") or "{}").get("newState", {}).get("stateValue")
            if new_state == "ALARM":
                names.add(item["AlarmName"])
    return sorted(names)


def bake(
    cloudwatch: Any,
    env: EnvironmentSettings,
    *,
    poll_seconds: float = 30.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Every alarm of ``env`` stays out of ALARM for ``env.monitoring.bake_minutes`` from now, and the users-hurt
    composite ends the bake OK (INSUFFICIENT_DATA means nothing was judged)."""
    prefix, minutes = alarm_prefix(env.name), env.monitoring.bake_minutes
    start = clock()
    deadline = start + minutes * 60
    while True:
        alarms = _alarms(cloudwatch, prefix)
        if not alarms:
            return Outcome(
                False,
                f"No alarms named {prefix}-* exist in account {env.account} ({env.region}), so {env.name}'s health "
                "cannot be judged; deploy the platform's monitoring before promoting.",
            )
        firing = sorted(a["AlarmName"] for a in alarms if a["StateValue"] == "ALARM")
        if firing:
            return Outcome(
                False,
                f"{env.name} is not healthy: {', '.join(firing)} went to ALARM during the "
                f"{minutes}-minute bake; promotion stops here (fix {env.name}, or change "
                f"environments.{env.name}.monitoring thresholds if the alarm is wrong).",
            )
        now = clock()
        if now >= deadline:
            break
        sleep(min(poll_seconds, deadline - now))
    flapped = _alarmed_since(
        cloudwatch, prefix, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(clock(), UTC)
    )
    if flapped:
        return Outcome(
            False,
            f"{env.name} is not healthy: {', '.join(flapped)} went to ALARM and back during the {minutes}-minute bake; "
            "promotion stops here.",
        )
    # Quiet is not healthy: the alarm that sums up "users are hurt" must have data and be OK at the end.
    verdict = users_hurt_alarm_name(env.name)
    state = next((a["StateValue"] for a in alarms if a["AlarmName"] == verdict), "missing")
    if state != "OK":
        return Outcome(
            False,
            f"{env.name}'s health cannot be judged: {verdict} is {state} at the end of the {minutes}-minute bake "
            "(it must be OK); check that the platform's metrics reach CloudWatch before promoting.",
        )
    return Outcome(True, f"{env.name}: {len(alarms)} alarms stayed out of ALARM for {minutes} minutes.")


def arm_rollback(cloudformation: Any, env: EnvironmentSettings, stack_name: str, partition: str = "aws") -> Outcome:
    """Make the stack's saved rollback configuration watch the users-hurt alarm (no-op when it already does)."""
    arn = alarm_arn(partition, env.region, env.account, users_hurt_alarm_name(env.name))
    minutes = env.monitoring.rollback_monitoring_minutes
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" not in error.response["Error"].get("Message", ""):
            raise
        return Outcome(
            True, f"{stack_name} does not exist yet: its first deployment creates the alarms, the next one is guarded."
        )
    current = stack.get("RollbackConfiguration", {})
    if any(t["Arn"] == arn for t in current.get("RollbackTriggers", [])) and (
        current.get("MonitoringTimeInMinutes", 0) == minutes
    ):
        return Outcome(True, f"{stack_name} already rolls back when {arn} fires (monitoring {minutes} minutes).")
    tags = [t for t in stack.get("Tags", []) if t["Key"] != ARMED_TAG] + [{"Key": ARMED_TAG, "Value": arn}]
    parameters = [{"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in stack.get("Parameters", [])]
    request: dict[str, Any] = {
        "StackName": stack_name,
        "UsePreviousTemplate": True,
        "Parameters": parameters,
        "Capabilities": CAPABILITIES,
        "RollbackConfiguration": {
            "RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::CompositeAlarm"}],
            "MonitoringTimeInMinutes": minutes,
        },
        # A tag naming the trigger makes this update a real change even when the template is unchanged.
        "Tags": tags,
    }
    if stack.get("RoleARN"):
        request["RoleARN"] = stack["RoleARN"]
    cloudformation.update_stack(**request)
    cloudformation.get_waiter("stack_update_complete").wait(
        StackName=stack_name, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
    )
    return Outcome(True, f"{stack_name} now rolls back when {arn} fires (monitoring {minutes} minutes).")


def main(argv: list[str] | None = None, session: Any | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight.health", description=__doc__)
    parser.add_argument("command", choices=("bake", "arm-rollback"))
    common_arguments(parser)
    args = parser.parse_args(argv)

    def check(env: EnvironmentSettings) -> int:
        account = session if session is not None else session_for(env, args.role_arn, args.command)
        if args.command == "bake":
            outcome = bake(account.client("cloudwatch", region_name=env.region), env)
        else:
            client = account.client("cloudformation", region_name=env.region)
            outcome = arm_rollback(client, env, args.stack_name or default_stack_name(env), args.partition)
        print(("PASS " if outcome.ok else "FAIL ") + outcome.message)
        return 0 if outcome.ok else 1

    return run_against_account(args, check)


if __name__ == "__main__":
    sys.exit(main())
