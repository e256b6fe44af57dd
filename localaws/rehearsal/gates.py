"""Day 2, scenario 5: the pipeline's health gates, which are CodePipeline V2 stage conditions (pipeline/conditions.py),
evaluated as CodePipeline evaluates them (localaws.models.codepipeline) against the deployed stage's real alarms.

The conditions are the pipeline's own: `pipeline.conditions.stage_conditions` for this environment with a bake (and,
as prod runs it, with rollback on alarm). Three bakes, in compressed time (a rule's minute lasts MINUTE seconds):
- quiet: the users-hurt composite alarm stays OK for the whole wait: the condition succeeds;
- an alarm: one of the alarms the composite watches is set to ALARM (SetAlarmState) during the bake: the composite
  goes to ALARM (localaws.models.cloudwatch evaluates composites), the bake's condition answers FAIL and prod's
  ROLLBACK; the composite is read as ALARM while the alarm is on, and OK once it is set back;
- longer than the first credentials: the rule's role is assumed for SHORT_CREDENTIALS seconds (moto honours the
  duration; localaws.models.sts refuses expired credentials) and the bake lasts longer; it succeeds because
  `preflight.session.assumed_role_session` assumed the role again (the credentials changed during the bake), and the
  first credentials are refused afterwards (ExpiredToken), so the refresh was needed.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError

from localaws.models.codepipeline import ConditionResult, alarm_state, evaluate_condition
from localaws.rehearsal.scenarios import check
from localaws.rehearsal.stage import Stage
from platform_config import EnvironmentSettings
from platform_config.alarms import alarm_prefix, users_hurt_alarm_name
from platform_config.loader import REPO_ROOT

MINUTE = 1.0  # seconds a rule's minute lasts here
POLL = 0.25  # seconds between two readings of an alarm
SHORT_CREDENTIALS = 3  # seconds the long bake's role credentials last


def conditions(stage: Stage, settings: EnvironmentSettings) -> dict[str, Any]:
    """The pipeline's conditions for ``settings`` (as pipeline/conditions.py builds them for the pipeline stack)."""
    node = REPO_ROOT / "node_modules" / ".bin" / "node"
    if node.exists():  # the CDK's jsii runtime on the pinned Node.js, as `make synth` runs it
        os.environ.setdefault("JSII_NODE", str(node))
    from pipeline.conditions import stage_conditions

    return stage_conditions("aws", stage.config, settings)


def _with(settings: EnvironmentSettings, **monitoring: Any) -> EnvironmentSettings:
    return settings.model_copy(update={"monitoring": settings.monitoring.model_copy(update=monitoring)})


def _evaluate(stage: Stage, condition: dict[str, Any], **timing: Any) -> ConditionResult:
    source = stage.pipeline.session(validate=False)  # SHORT_CREDENTIALS is below botocore's 900-second check
    return evaluate_condition(condition, source, stage.account.endpoint, minute=MINUTE, poll=POLL, **timing)


def _watched_alarm(stage: Stage) -> str:
    """An alarm the users-hurt composite alarm names in its rule."""
    cloudwatch = stage.account.client("cloudwatch")
    composite = cloudwatch.describe_alarms(
        AlarmNames=[users_hurt_alarm_name(stage.settings.name)], AlarmTypes=["CompositeAlarm"]
    )["CompositeAlarms"][0]
    metric_alarms = cloudwatch.describe_alarms(AlarmNamePrefix=alarm_prefix(stage.settings.name))["MetricAlarms"]
    return next(a["AlarmName"] for a in metric_alarms if a["AlarmArn"] in composite["AlarmRule"])


def health_gates(stage: Stage) -> list[str]:
    bake = _with(stage.settings, bake_minutes=3, rollback_on_alarm=False)
    rollback = _with(stage.settings, bake_minutes=0, rollback_on_alarm=True, rollback_monitoring_minutes=3)
    bake_condition = conditions(stage, bake)["OnSuccess"]["Conditions"][0]
    rollback_condition = conditions(stage, rollback)["OnSuccess"]["Conditions"][0]
    check(
        bake_condition["Result"] == "FAIL" and rollback_condition["Result"] == "ROLLBACK",
        f"conditions: bake {bake_condition['Result']}, rollback {rollback_condition['Result']}",
    )

    quiet = _evaluate(stage, bake_condition)
    check(quiet.result == "SUCCEEDED", f"quiet bake: {quiet.result} ({quiet.rules[0].reason})")

    cloudwatch = stage.account.client("cloudwatch")
    watched = _watched_alarm(stage)
    results: dict[str, ConditionResult] = {}
    runs = [
        threading.Thread(target=lambda n=n, c=c: results.__setitem__(n, _evaluate(stage, c)))
        for n, c in (("bake", bake_condition), ("rollback", rollback_condition))
    ]
    for run in runs:
        run.start()
    time.sleep(MINUTE)
    cloudwatch.set_alarm_state(AlarmName=watched, StateValue="ALARM", StateReason="rehearsal: users are hurt")
    for run in runs:
        run.join(60)
    during = alarm_state(cloudwatch, users_hurt_alarm_name(stage.settings.name))
    cloudwatch.set_alarm_state(AlarmName=watched, StateValue="OK", StateReason="rehearsal: recovered")
    check(results["bake"].result == "FAIL", f"bake during an alarm: {results['bake'].result}")
    check(results["rollback"].result == "ROLLBACK", f"prod's condition during an alarm: {results['rollback'].result}")
    check("ALARM" in results["bake"].rules[0].states, f"the bake never saw ALARM: {results['bake'].rules[0].states}")
    check(during == "ALARM", f"the users-hurt alarm was {during} while {watched} was ALARM")
    after = alarm_state(cloudwatch, users_hurt_alarm_name(stage.settings.name))
    check(after == "OK", f"the users-hurt alarm stayed {after} after {watched} recovered")

    long_bake = _with(stage.settings, bake_minutes=3 * SHORT_CREDENTIALS, rollback_on_alarm=False)
    long_condition = conditions(stage, long_bake)["OnSuccess"]["Conditions"][0]
    started = time.monotonic()
    long = _evaluate(stage, long_condition, duration_seconds=SHORT_CREDENTIALS)
    lasted = time.monotonic() - started
    rule = long.rules[0]
    check(long.result == "SUCCEEDED", f"long bake: {long.result} ({rule.reason})")
    check(lasted > 2 * SHORT_CREDENTIALS, f"the bake lasted {lasted:.1f}s, not longer than its first credentials")
    keys = {c.access_key for c in rule.credentials}
    check(len(keys) > 1, "the rule's credentials were never refreshed")
    refused = _refused(stage, rule.credentials[0])
    check("ExpiredToken" in refused, f"the first credentials still work after the bake: {refused!r}")
    return [
        f"quiet bake ({quiet.rules[0].readings} readings of {quiet.rules[0].name}): SUCCEEDED",
        f"{watched} set to ALARM during the bake: users-hurt went {during}; bake FAIL, prod ROLLBACK; back to {after}",
        f"bake of {lasted:.1f}s on {SHORT_CREDENTIALS}s credentials: SUCCEEDED with {len(keys)} credential sets; "
        f"the first is refused afterwards ({refused})",
    ]


def _refused(stage: Stage, credentials: ReadOnlyCredentials) -> str:
    """What the emulator answers a call signed with ``credentials`` now: its error code, or "accepted"."""
    sts = stage.pipeline.session().client(
        "sts",
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    )
    try:
        sts.get_caller_identity()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "accepted"
