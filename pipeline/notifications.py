"""Pipeline notifications: an encrypted SNS topic, CodeStar notification rules, e-mail and optional Slack.

Two rules on the pipeline: an execution failed, an execution succeeded. A manual approval that waits publishes to the
topic itself, with what the change does (its review's summary and link); drift detection publishes what drifted.
Subscribers come from ``pipeline.notifications`` in cdk.json: e-mail addresses, and an AWS Chatbot Slack channel when
both Slack ids are set.
"""

from __future__ import annotations

from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from platform_config import NotificationSettings

EVENTS = codepipeline.PipelineNotificationEvents
RULES = {
    "PipelineFailed": EVENTS.PIPELINE_EXECUTION_FAILED,
    "PipelineSucceeded": EVENTS.PIPELINE_EXECUTION_SUCCEEDED,
}


class PipelineNotifications(Construct):
    """Encrypted topic + configured subscribers; `watch(pipeline)` adds the rules once the pipeline is built."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: NotificationSettings) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self, "TopicKey", description="IoT platform pipeline notifications", enable_key_rotation=True
        )
        # CodeStar Notifications (the rules) and CloudWatch (the drift alarm's action) publish to the encrypted topic;
        # without the key they fail silently. The key encrypts this topic only.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[
                    iam.ServicePrincipal("codestar-notifications.amazonaws.com"),
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                ],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="IoT platform pipeline",
            master_key=self.key,
            enforce_ssl=True,
        )
        for email in settings.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.slack: chatbot.SlackChannelConfiguration | None = None
        if settings.slack_workspace_id and settings.slack_channel_id:
            self.slack = chatbot.SlackChannelConfiguration(
                self,
                "Slack",
                slack_channel_configuration_name="iot-sensor-platform-pipeline",
                slack_workspace_id=settings.slack_workspace_id,
                slack_channel_id=settings.slack_channel_id,
                notification_topics=[self.topic],
                guardrail_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("ReadOnlyAccess")],
            )

    def watch(self, pipeline: codepipeline.IPipeline) -> None:
        """Rules for failed and succeeded executions of ``pipeline``."""
        self.rules = {
            name: pipeline.notify_on(
                name,
                self.topic,
                events=[event],
                notification_rule_name=f"iot-pipeline-{name}",
            )
            for name, event in RULES.items()
        }
