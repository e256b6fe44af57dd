"""Pipeline notifications with the optional AWS Chatbot Slack channel (not in the committed config), in-process."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.notifications import PipelineNotifications
from platform_config import NotificationSettings
from tests.unit.templates import is_subset


@pytest.fixture(scope="module")
def slack_template() -> dict[str, Any]:
    from aws_cdk import App, Stack
    from aws_cdk import aws_codepipeline as codepipeline

    app = App()
    stack = Stack(app, "Notifications")
    pipeline = codepipeline.Pipeline.from_pipeline_arn(
        stack, "Pipeline", "arn:aws:codepipeline:us-east-1:111111111111:iot-sensor-platform"
    )
    settings = NotificationSettings(
        emails=("a@example.com", "b@example.com"), slack_workspace_id="T0123ABCD", slack_channel_id="C0456EFGH"
    )
    PipelineNotifications(stack, "Notifications", settings=settings).watch(pipeline)
    template: dict[str, Any] = app.synth().get_stack_by_name("Notifications").template
    return template


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def test_optional_slack_channel(slack_template: dict[str, Any]) -> None:
    (topic,) = _of_type(slack_template, "AWS::SNS::Topic")
    (slack,) = _of_type(slack_template, "AWS::Chatbot::SlackChannelConfiguration").values()
    expected = {"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0456EFGH", "SnsTopicArns": [{"Ref": topic}]}
    assert is_subset(expected, slack["Properties"])
    assert len(_of_type(slack_template, "AWS::SNS::Subscription")) == 2
