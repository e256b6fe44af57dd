"""CodePipeline V2 stage conditions with CloudWatchAlarm rules, evaluated as CodePipeline evaluates them (moto has no
rule evaluation: it stores a pipeline's conditions and never runs them). This model runs on the caller's side, as
CodePipeline's own evaluator, against the emulator's CloudWatch.

What it reproduces, from the rule reference (rule-reference-CloudWatchAlarm) and the conditions guide:
- each rule reads its `AlarmName` in its `Region` as its `RoleArn`, assumed with the pipeline's credentials
  (`preflight.session.assumed_role_session`: assumed again before each set of credentials expires);
- for `WaitTime` minutes (default 0: one reading) the alarm's state is read repeatedly; as soon as it is in one of
  `AlarmStates` (comma-separated; default ALARM) the rule fails, else it succeeds when the wait is over;
- a condition's rules must all succeed; a failed rule makes the condition's `Result` happen (FAIL or ROLLBACK for
  OnSuccess); a missing alarm fails the rule, as CodePipeline reports an alarm it cannot find.
Time compression (deliberate): a rule's minute lasts `minute` seconds (60 in AWS); the alarm is read every `poll`
seconds. Not reproduced: the console's rule status history, OnFailure RETRY, and BeforeEntry's wait-until-OK.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.credentials import ReadOnlyCredentials

from preflight.session import assumed_role_session


@dataclass
class RuleResult:
    name: str
    succeeded: bool
    reason: str
    readings: int  # how many times the alarm's state was read
    states: list[str] = field(default_factory=list)  # every distinct state seen, in order
    credentials: list[ReadOnlyCredentials] = field(default_factory=list)  # each set of role credentials used, in order


@dataclass
class ConditionResult:
    result: str  # SUCCEEDED, or the condition's Result (FAIL, ROLLBACK) when a rule failed
    rules: list[RuleResult]


def alarm_state(cloudwatch: Any, name: str) -> str | None:
    """The StateValue of the metric or composite alarm ``name``; None when there is no such alarm."""
    answer = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm", "MetricAlarm"])
    alarms = answer.get("CompositeAlarms", []) + answer.get("MetricAlarms", [])
    return alarms[0]["StateValue"] if alarms else None


def evaluate_rule(
    rule: dict[str, Any],
    source: boto3.Session,
    endpoint_url: str,
    *,
    minute: float = 60.0,
    poll: float = 10.0,
    duration_seconds: int = 3600,
) -> RuleResult:
    """One CloudWatchAlarm rule: its alarm read as its role for its wait time."""
    config = rule["Configuration"]
    states_to_fail = {s.strip() for s in config.get("AlarmStates", "ALARM").split(",") if s.strip()}
    session = assumed_role_session(
        rule["RoleArn"],
        f"codepipeline-{rule['Name']}",
        rule["Region"],
        source=source,
        duration_seconds=duration_seconds,
    )
    credentials = session.get_credentials()
    cloudwatch = session.client("cloudwatch", endpoint_url=endpoint_url)
    result = RuleResult(rule["Name"], True, "", 0)
    deadline = time.monotonic() + float(config.get("WaitTime", "0")) * minute
    while True:
        state = alarm_state(cloudwatch, config["AlarmName"])
        result.readings += 1
        frozen = credentials.get_frozen_credentials()
        if not result.credentials or result.credentials[-1] != frozen:
            result.credentials.append(frozen)
        if state is None:
            result.succeeded, result.reason = False, f"alarm {config['AlarmName']} not found"
            return result
        if not result.states or result.states[-1] != state:
            result.states.append(state)
        if state in states_to_fail:
            result.succeeded, result.reason = False, f"alarm {config['AlarmName']} is {state}"
            return result
        if time.monotonic() >= deadline:
            result.reason = f"alarm {config['AlarmName']} stayed out of {', '.join(sorted(states_to_fail))}"
            return result
        time.sleep(min(poll, max(0.0, deadline - time.monotonic())))


def evaluate_condition(
    condition: dict[str, Any], source: boto3.Session, endpoint_url: str, **timing: Any
) -> ConditionResult:
    """A stage condition (`{"Result": ..., "Rules": [...]}`): SUCCEEDED when every rule succeeds, else its Result."""
    rules = [evaluate_rule(rule, source, endpoint_url, **timing) for rule in condition["Rules"]]
    return ConditionResult("SUCCEEDED" if all(r.succeeded for r in rules) else condition["Result"], rules)
