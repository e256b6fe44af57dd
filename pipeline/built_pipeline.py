"""Reading the CodePipeline that CDK Pipelines built (after `build_pipeline()`), through public API only: where an
action sits, and the CloudFormation resource whose stages the conditions override by index."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_codepipeline as codepipeline


def stage_of(pipeline: codepipeline.Pipeline, action_name: str) -> tuple[codepipeline.IStage, codepipeline.IAction]:
    """The stage holding the action ``action_name``, and the action."""
    for stage in pipeline.stages:
        for action in stage.actions:
            if action.action_properties.action_name == action_name:
                return stage, action
    raise LookupError(f"no {action_name} action in pipeline {Stack.of(pipeline).stack_name}")


def stage_overrides(pipeline: codepipeline.Pipeline) -> tuple[codepipeline.CfnPipeline, list[str]]:
    """The pipeline's CloudFormation resource and its stage names in order (`Stages.<index>` overrides)."""
    cfn_pipeline = pipeline.node.default_child
    assert isinstance(cfn_pipeline, codepipeline.CfnPipeline)
    return cfn_pipeline, [stage.stage_name for stage in pipeline.stages]
