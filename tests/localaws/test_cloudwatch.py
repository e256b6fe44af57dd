"""Alarms from CloudFormation, and composite alarms evaluated when an alarm they name changes state
(localaws.models.cloudwatch)."""

from __future__ import annotations

import uuid

import pytest

from localaws.models.cloudwatch import evaluate_rule


def _alarm(name: str) -> dict:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": name,
            "Metrics": [
                {
                    "Id": "m1",
                    "MetricStat": {
                        "Metric": {
                            "MetricName": "5XXError",
                            "Namespace": "AWS/ApiGateway",
                            "Dimensions": [{"Name": "ApiName", "Value": "x"}],
                        },
                        "Period": 60,
                        "Stat": "Sum",
                    },
                    "ReturnData": False,
                },
                {"Id": "e1", "Expression": "m1 * 100", "ReturnData": True},
            ],
            "Threshold": 5,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    }


def test_a_composite_alarm_follows_the_alarms_it_names(deploy, client) -> None:
    name = f"cw-{uuid.uuid4().hex[:8]}"
    rule = {
        "Fn::Join": [
            "",
            ['ALARM("', {"Fn::GetAtt": ["Errors", "Arn"]}, '") OR ALARM("', {"Fn::GetAtt": ["Latency", "Arn"]}, '")'],
        ]
    }
    body = {
        "Resources": {
            "Errors": _alarm(f"{name}-errors"),
            "Latency": _alarm(f"{name}-latency"),
            "Hurt": {
                "Type": "AWS::CloudWatch::CompositeAlarm",
                "Properties": {"AlarmName": f"{name}-hurt", "AlarmRule": rule},
            },
        }
    }
    assert deploy(name, body)["StackStatus"] == "CREATE_COMPLETE"
    cloudwatch = client("cloudwatch")

    def state(alarm: str) -> str:
        found = cloudwatch.describe_alarms(AlarmNames=[alarm], AlarmTypes=["CompositeAlarm", "MetricAlarm"])
        return (found["CompositeAlarms"] + found["MetricAlarms"])[0]["StateValue"]

    metric = cloudwatch.describe_alarms(AlarmNames=[f"{name}-errors"])["MetricAlarms"][0]
    assert [m["Id"] for m in metric["Metrics"]] == ["m1", "e1"]
    assert state(f"{name}-hurt") == "OK"
    cloudwatch.set_alarm_state(AlarmName=f"{name}-latency", StateValue="ALARM", StateReason="test")
    assert state(f"{name}-hurt") == "ALARM"
    cloudwatch.set_alarm_state(AlarmName=f"{name}-latency", StateValue="OK", StateReason="test")
    assert state(f"{name}-hurt") == "OK"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('ALARM("a") OR ALARM("b")', True),
        ('ALARM("a") AND ALARM("b")', False),
        ('ALARM("a") AND NOT ALARM(b)', True),
        ('ALARM("a") AND NOT OK(b)', False),
        ("(OK(b) OR FALSE) AND TRUE", True),
        ('INSUFFICIENT_DATA("missing")', True),
    ],
)
def test_the_alarm_rule_language(rule: str, expected: bool) -> None:
    states = {"a": "ALARM", "b": "OK"}
    assert evaluate_rule(rule, lambda name: states.get(name, "INSUFFICIENT_DATA")) is expected
