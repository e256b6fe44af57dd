"""CodePipeline's CloudWatchAlarm rule as localaws.models.codepipeline evaluates it, in compressed time."""

from __future__ import annotations

import threading
import time
import uuid

from localaws.models.codepipeline import evaluate_condition
from localaws.rehearsal.account import Account


def _condition(alarm: str, wait: str) -> dict:
    rule = {
        "Name": "UsersHurt",
        "RuleTypeId": {"Category": "Rule", "Owner": "AWS", "Provider": "CloudWatchAlarm", "Version": "1"},
        "Configuration": {"AlarmName": alarm, "AlarmStates": "ALARM", "WaitTime": wait},
        "Region": "us-east-1",
        "RoleArn": "arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-us-east-1",
    }
    return {"Result": "ROLLBACK", "Rules": [rule]}


def test_a_rule_fails_when_its_alarm_goes_to_alarm_within_the_wait(account: Account) -> None:
    alarm = f"rule-{uuid.uuid4().hex[:8]}"
    role_account = Account(account.env, "222222222222", "us-east-1", "hnb659fds").assume("deploy")
    cloudwatch = role_account.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=alarm,
        MetricName="Errors",
        Namespace="Test",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    timing = {"minute": 0.5, "poll": 0.1}
    quiet = evaluate_condition(_condition(alarm, "2"), account.session(), account.endpoint, **timing)
    assert quiet.result == "SUCCEEDED" and quiet.rules[0].readings > 3

    def alarm_soon() -> None:
        time.sleep(1.0)
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")

    threading.Thread(target=alarm_soon).start()
    failed = evaluate_condition(_condition(alarm, "8"), account.session(), account.endpoint, **timing)
    assert failed.result == "ROLLBACK" and failed.rules[0].states[-1] == "ALARM"
    missing = evaluate_condition(_condition("no-such-alarm", "0"), account.session(), account.endpoint, **timing)
    assert missing.result == "ROLLBACK" and missing.rules[0].reason == "alarm no-such-alarm not found"
