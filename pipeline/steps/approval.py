"""The manual approval before an environment: it says what the environment's review found (one line per region) and
links its report, and the approval itself notifies the pipeline's topic with both (CodeStar's approval-needed event
carries neither)."""

from __future__ import annotations

from aws_cdk import aws_sns as sns
from aws_cdk import pipelines

from pipeline.steps.review import ReviewStep
from platform_config.naming import stage_id


def approval(environment: str, review: ReviewStep, topic: sns.ITopic) -> pipelines.ManualApprovalStep:
    # CDK Pipelines wires a step's variables from the comment: the review URL must appear there too.
    return pipelines.ManualApprovalStep(
        f"PromoteTo{stage_id(environment)}",
        comment=f"Promote to {environment}? {review.summary}. Report: {review.url}",
        review_url=review.url,
        notification_topic=topic,
    )
