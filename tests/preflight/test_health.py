"""Health gates: staging's bake on its alarms, and prod's CloudFormation rollback triggers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import ANY

from platform_config import EnvironmentSettings
from preflight import health
from tests.preflight.conftest import REGION, StubbedSession

START = datetime(2025, 12, 4, 12, 0, tzinfo=UTC).timestamp()
ALARM_QUERY = {"AlarmNamePrefix": "iot-staging-", "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
STACK_ID = "arn:aws:cloudformation:us-east-1:444444444444:stack/Prod-Platform/7d3e5a40-d0f1-11f0-9c1e-0e2b5c6d7e8f"
USERS_HURT = f"arn:aws:cloudwatch:{REGION}:444444444444:alarm:iot-prod-users-hurt"


class Clock:
    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _metric_alarm(name: str, state: str = "OK") -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:333333333333:alarm:{name}",
        "ActionsEnabled": True,
        "StateValue": state,
        "StateReason": "Threshold Crossed: 1 out of the last 3 datapoints [12.0 (04/12/25 12:05:00)] was greater "
        "than the threshold (5.0) (minimum 3 datapoints for OK -> ALARM transition)."
        if state == "ALARM"
        else "Threshold Crossed: no datapoints were received for 3 periods.",
        "StateUpdatedTimestamp": datetime(2025, 12, 4, 11, 0, tzinfo=UTC),
        "MetricName": "5XXError",
        "Namespace": "AWS/ApiGateway",
        "Statistic": "Sum",
        "Dimensions": [{"Name": "ApiName", "Value": "iot-platform-staging"}, {"Name": "Stage", "Value": "v1"}],
        "Period": 300,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 3,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }


def _composite(name: str, state: str = "OK") -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:333333333333:alarm:{name}",
        "ActionsEnabled": True,
        "AlarmRule": 'ALARM("iot-staging-Api-5xx-Critical")',
        "StateValue": state,
        "StateReason": "arn:aws:cloudwatch:us-east-1:333333333333:alarm:iot-staging-Api-5xx-Critical transitioned.",
        "StateUpdatedTimestamp": datetime(2025, 12, 4, 11, 0, tzinfo=UTC),
    }


def _history(name: str, new_state: str, minute: int) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmType": "MetricAlarm",
        "Timestamp": datetime(2025, 12, 4, 12, minute, tzinfo=UTC),
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from OK to {new_state}" if new_state == "ALARM" else "Alarm updated to OK",
        "HistoryData": json.dumps(
            {"version": "1.0", "oldState": {"stateValue": "OK"}, "newState": {"stateValue": new_state}}
        ),
    }


def _baking(env: EnvironmentSettings, minutes: int) -> EnvironmentSettings:
    return env.model_copy(update={"monitoring": env.monitoring.model_copy(update={"bake_minutes": minutes})})


def _alarms_response(state: str = "OK") -> dict[str, Any]:
    return {
        "MetricAlarms": [_metric_alarm("iot-staging-Api-5xx-Critical", state)],
        "CompositeAlarms": [_composite("iot-staging-users-hurt", state)],
    }


def test_bake_passes_when_alarms_stay_ok(session: StubbedSession, staging: EnvironmentSettings) -> None:
    cloudwatch = session.stub("cloudwatch")
    for _ in range(3):  # at 0, 1 and 2 minutes of a 2-minute bake polled every minute
        cloudwatch.add_response("describe_alarms", _alarms_response(), ALARM_QUERY)
    cloudwatch.add_response(
        "describe_alarm_history",
        {"AlarmHistoryItems": [_history("iot-staging-Api-5xx-Critical", "OK", 1), _history("other-app", "ALARM", 1)]},
        {"HistoryItemType": "StateUpdate", "StartDate": ANY, "EndDate": ANY, "AlarmTypes": ANY},
    )
    clock = Clock()
    outcome = health.bake(
        session.client("cloudwatch"), _baking(staging, 2), poll_seconds=60, clock=clock, sleep=clock.sleep
    )
    assert outcome == health.Outcome(True, "staging: 2 alarms stayed out of ALARM for 2 minutes.")
    assert clock.sleeps == [60, 60]


def test_bake_without_data_is_not_healthy(session: StubbedSession, staging: EnvironmentSettings) -> None:
    cloudwatch = session.stub("cloudwatch")
    for _ in range(2):  # at 0 and 1 minutes of a 1-minute bake
        cloudwatch.add_response("describe_alarms", _alarms_response("INSUFFICIENT_DATA"), ALARM_QUERY)
    cloudwatch.add_response(
        "describe_alarm_history",
        {"AlarmHistoryItems": []},
        {"HistoryItemType": "StateUpdate", "StartDate": ANY, "EndDate": ANY, "AlarmTypes": ANY},
    )
    clock = Clock()
    outcome = health.bake(
        session.client("cloudwatch"), _baking(staging, 1), poll_seconds=60, clock=clock, sleep=clock.sleep
    )
    assert outcome == health.Outcome(
        False,
        "staging's health cannot be judged: iot-staging-users-hurt is INSUFFICIENT_DATA at the end of the 1-minute "
        "bake (it must be OK); check that the platform's metrics reach CloudWatch before promoting.",
    )


def test_bake_uses_the_configured_minutes(staging: EnvironmentSettings) -> None:
    assert staging.monitoring.bake_minutes == 30


def test_bake_stops_promotion_on_alarm(session: StubbedSession, staging: EnvironmentSettings) -> None:
    cloudwatch = session.stub("cloudwatch")
    cloudwatch.add_response("describe_alarms", _alarms_response(), ALARM_QUERY)
    cloudwatch.add_response("describe_alarms", _alarms_response("ALARM"), ALARM_QUERY)
    clock = Clock()
    outcome = health.bake(session.client("cloudwatch"), staging, poll_seconds=30, clock=clock, sleep=clock.sleep)
    assert not outcome.ok
    assert outcome.message == (
        "staging is not healthy: iot-staging-Api-5xx-Critical, iot-staging-users-hurt went to ALARM during the "
        "30-minute bake; promotion stops here (fix staging, or change environments.staging.monitoring thresholds if "
        "the alarm is wrong)."
    )


def test_bake_catches_a_flap_between_polls(session: StubbedSession, staging: EnvironmentSettings) -> None:
    cloudwatch = session.stub("cloudwatch")
    cloudwatch.add_response("describe_alarms", _alarms_response(), ALARM_QUERY)
    cloudwatch.add_response("describe_alarms", _alarms_response(), ALARM_QUERY)
    cloudwatch.add_response(
        "describe_alarm_history",
        {"AlarmHistoryItems": [_history("iot-staging-Api-5xx-Critical", "ALARM", 0)]},
        {"HistoryItemType": "StateUpdate", "StartDate": ANY, "EndDate": ANY, "AlarmTypes": ANY},
    )
    clock = Clock()
    outcome = health.bake(
        session.client("cloudwatch"), _baking(staging, 1), poll_seconds=60, clock=clock, sleep=clock.sleep
    )
    assert not outcome.ok and "went to ALARM and back during the 1-minute bake" in outcome.message


def test_bake_without_alarms_fails(session: StubbedSession, staging: EnvironmentSettings) -> None:
    session.stub("cloudwatch").add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": []}, ALARM_QUERY)
    outcome = health.bake(session.client("cloudwatch"), staging)
    assert not outcome.ok and outcome.message.startswith("No alarms named iot-staging-* exist in account 333333333333")


def _stack(**extra: Any) -> dict[str, Any]:
    return {
        "StackId": STACK_ID,
        "StackName": "Prod-Platform",
        "Description": "IoT sensor platform (prod)",
        "Parameters": [
            {
                "ParameterKey": "BootstrapVersion",
                "ParameterValue": "/cdk-bootstrap/hnb659fds/version",
                "ResolvedValue": "27",
            }
        ],
        "CreationTime": datetime(2025, 12, 1, 9, 0, tzinfo=UTC),
        "LastUpdatedTime": datetime(2025, 12, 3, 9, 0, tzinfo=UTC),
        "StackStatus": "UPDATE_COMPLETE",
        "DisableRollback": False,
        "Capabilities": ["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "RoleARN": "arn:aws:iam::444444444444:role/cdk-hnb659fds-cfn-exec-role-444444444444-us-east-1",
        "Tags": [{"Key": "Project", "Value": "iot-sensor-platform"}, {"Key": "Environment", "Value": "prod"}],
        "EnableTerminationProtection": False,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        **extra,
    }


def test_arm_rollback_sets_triggers_once(session: StubbedSession, prod: EnvironmentSettings) -> None:
    cfn = session.stub("cloudformation")
    cfn.add_response("describe_stacks", {"Stacks": [_stack(RollbackConfiguration={})]}, {"StackName": "Prod-Platform"})
    cfn.add_response(
        "update_stack",
        {"StackId": _stack()["StackId"]},
        {
            "StackName": "Prod-Platform",
            "UsePreviousTemplate": True,
            "Parameters": [{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            "RoleARN": _stack()["RoleARN"],
            "RollbackConfiguration": {
                "RollbackTriggers": [{"Arn": USERS_HURT, "Type": "AWS::CloudWatch::CompositeAlarm"}],
                "MonitoringTimeInMinutes": 15,
            },
            "Tags": [*_stack()["Tags"], {"Key": "iot:rollback-trigger", "Value": USERS_HURT}],
        },
    )
    armed = {
        "RollbackTriggers": [{"Arn": USERS_HURT, "Type": "AWS::CloudWatch::CompositeAlarm"}],
        "MonitoringTimeInMinutes": 15,
    }
    cfn.add_response(
        "describe_stacks", {"Stacks": [_stack(RollbackConfiguration=armed)]}, {"StackName": "Prod-Platform"}
    )
    outcome = health.arm_rollback(session.client("cloudformation"), prod, "Prod-Platform")
    assert outcome.ok and outcome.message.startswith("Prod-Platform now rolls back when")
    # Next run: the triggers are saved on the stack, CloudFormation applies them to the pipeline's stack updates.
    cfn.add_response(
        "describe_stacks", {"Stacks": [_stack(RollbackConfiguration=armed)]}, {"StackName": "Prod-Platform"}
    )
    outcome = health.arm_rollback(session.client("cloudformation"), prod, "Prod-Platform")
    assert outcome.ok and outcome.message.startswith("Prod-Platform already rolls back when")


def test_arm_rollback_before_first_deployment(session: StubbedSession, prod: EnvironmentSettings) -> None:
    session.stub("cloudformation").add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id Prod-Platform does not exist",
        http_status_code=400,
    )
    outcome = health.arm_rollback(session.client("cloudformation"), prod, "Prod-Platform")
    assert outcome.ok and "does not exist yet" in outcome.message


def test_health_cli(session: StubbedSession, capsys: pytest.CaptureFixture[str]) -> None:
    session.stub("cloudwatch").add_response("describe_alarms", _alarms_response("ALARM"), ALARM_QUERY)
    assert health.main(["bake", "--env", "staging"], session=session) == 1
    assert capsys.readouterr().out.startswith("FAIL staging is not healthy")
    assert health.main(["bake", "--env", "nope"], session=session) == 2
