"""Pipeline notifications: encrypted topic (which CodeStar Notifications and CloudWatch alarms may use), rules for
failed and succeeded executions, the approval's own notification with its review, configured e-mails."""

from __future__ import annotations

from typing import Any

from tests.assembly import Synth, cdk_context


def _rules(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["Name"]: r["Properties"]
        for r in synth.resources("pipeline", "AWS::CodeStarNotifications::NotificationRule").values()
    }


def test_topic_is_encrypted_with_a_rotating_key(synth: Synth) -> None:
    topics = synth.resources("pipeline", "AWS::SNS::Topic")
    (topic_id, topic) = next(iter(topics.items()))
    assert len(topics) == 1
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert synth.templates["pipeline"]["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    policies = synth.resources("pipeline", "AWS::SNS::TopicPolicy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    assert any(s.get("Principal") == {"Service": "codestar-notifications.amazonaws.com"} for s in statements)
    assert topic_id
    # Both services that publish to it may use its key (without it their messages are dropped silently).
    (key_policy,) = [synth.templates["pipeline"]["Resources"][key_id]["Properties"]["KeyPolicy"]]
    (publishers,) = [s for s in key_policy["Statement"] if "kms:GenerateDataKey" in s["Action"]]
    assert sorted(publishers["Principal"]["Service"]) == [
        "cloudwatch.amazonaws.com",
        "codestar-notifications.amazonaws.com",
    ]


def test_rules_for_failed_and_succeeded_executions(synth: Synth) -> None:
    rules = _rules(synth)
    assert {name: rule["EventTypeIds"] for name, rule in rules.items()} == {
        "iot-pipeline-PipelineFailed": ["codepipeline-pipeline-pipeline-execution-failed"],
        "iot-pipeline-PipelineSucceeded": ["codepipeline-pipeline-pipeline-execution-succeeded"],
        # Beside the pipeline: a drift detection that could not run (pipeline/drift_detection.py).
        "iot-pipeline-drift-detection-failed": ["codebuild-project-build-state-failed"],
    }
    (topic_id,) = synth.resources("pipeline", "AWS::SNS::Topic")
    for rule in rules.values():
        assert rule["Targets"] == [{"TargetAddress": {"Ref": topic_id}, "TargetType": "SNS"}]
        assert rule["DetailType"] == "FULL"


def test_email_subscriptions_from_config(synth: Synth) -> None:
    emails = cdk_context()["platform"]["pipeline"]["notifications"]["emails"]
    subscriptions = synth.resources("pipeline", "AWS::SNS::Subscription").values()
    assert sorted(
        s["Properties"]["Endpoint"] for s in subscriptions if s["Properties"]["Protocol"] == "email"
    ) == sorted(emails)
    assert not synth.resources("pipeline", "AWS::Chatbot::SlackChannelConfiguration")  # no Slack ids configured


def test_the_approval_notifies_the_topic_with_what_changes(synth: Synth) -> None:
    """CodeStar's approval-needed event carries neither the review's summary nor its link: the approval action
    publishes itself, with both (the review's variables)."""
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    (approval,) = [
        a for s in pipeline["Properties"]["Stages"] for a in s["Actions"] if a["ActionTypeId"]["Category"] == "Approval"
    ]
    (topic_id,) = synth.resources("pipeline", "AWS::SNS::Topic")
    configuration = approval["Configuration"]
    assert configuration["NotificationArn"] == {"Ref": topic_id}
    assert configuration["CustomData"] == (
        "Promote to prod? #{Dev@ReviewProd.REVIEW_SUMMARY}. Report: #{Dev@ReviewProd.REVIEW_URL}"
    )
    assert configuration["ExternalEntityLink"] == "#{Dev@ReviewProd.REVIEW_URL}"
