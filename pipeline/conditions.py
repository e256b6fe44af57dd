"""Health gates as CodePipeline V2 stage conditions, which CodePipeline evaluates itself (no build, no credentials
of ours to expire, nothing armed on a stack that could outlive the setting):

- `monitoring.bake_minutes` > 0: when the environment's stage has succeeded, its "users hurt" composite alarm must not
  go to ALARM for that long, or the stage fails (result FAIL) and nothing is promoted past it.
- `monitoring.rollback_on_alarm`: a failed stage rolls back to the last revision that succeeded there (OnFailure
  ROLLBACK), and so does a succeeded one whose alarm goes to ALARM within `rollback_monitoring_minutes`.

Each rule reads the alarm in the deployment's own account and region as that account's CDK bootstrap lookup role
(read-only, already trusted by the pipeline's account). CDK Pipelines has no API for conditions, so they are set on the
built pipeline's CloudFormation stage, found by its name (the wave's id).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack, pipelines
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam

from pipeline.built_pipeline import stage_of, stage_overrides
from platform_config import EnvironmentSettings, PlatformConfig
from platform_config.alarms import users_hurt_alarm_name
from platform_config.naming import bootstrap_role_arn, stage_id

ALARM_RULE = {"Category": "Rule", "Owner": "AWS", "Provider": "CloudWatchAlarm", "Version": "1"}


def alarm_rule(partition: str, deployment: EnvironmentSettings, wait_minutes: int) -> dict[str, Any]:
    """CodePipeline's CloudWatchAlarm rule on the deployment's users-hurt alarm, read as its lookup role."""
    return {
        "Name": f"UsersHurt-{deployment.name}",
        "RuleTypeId": ALARM_RULE,
        "Configuration": {
            "AlarmName": users_hurt_alarm_name(deployment.name),
            "AlarmStates": "ALARM",
            "WaitTime": str(wait_minutes),
        },
        "Region": deployment.region,
        "RoleArn": bootstrap_role_arn("lookup", deployment.account, deployment.region, partition),
    }


def stage_conditions(partition: str, config: PlatformConfig, env: EnvironmentSettings) -> dict[str, Any]:
    """The conditions of ``env``'s stage, as CloudFormation's StageDeclaration keys (empty: none)."""
    monitoring = env.monitoring
    wait = max(monitoring.bake_minutes, monitoring.rollback_monitoring_minutes if monitoring.rollback_on_alarm else 0)
    conditions: dict[str, Any] = {}
    if wait:
        rules = [alarm_rule(partition, deployment, wait) for deployment in config.deployments(env)]
        result = "ROLLBACK" if monitoring.rollback_on_alarm else "FAIL"
        conditions["OnSuccess"] = {"Conditions": [{"Result": result, "Rules": rules}]}
    if monitoring.rollback_on_alarm:
        conditions["OnFailure"] = {"Result": "ROLLBACK"}
    return conditions


def add_health_conditions(stack: Stack, pipeline: pipelines.CodePipeline, config: PlatformConfig) -> None:
    """Set every environment's conditions on the built pipeline, and let the pipeline role assume the rules' roles."""
    code_pipeline = pipeline.pipeline
    cfn_pipeline, names = stage_overrides(code_pipeline)
    roles: list[str] = []
    for env in config.environments:
        conditions = stage_conditions(stack.partition, config, env)
        if not conditions:
            continue
        index = names.index(stage_id(env.name))
        for key, value in conditions.items():
            cfn_pipeline.add_property_override(f"Stages.{index}.{key}", value)
        roles += [rule["RoleArn"] for c in conditions.get("OnSuccess", {}).get("Conditions", []) for rule in c["Rules"]]
    if roles:
        code_pipeline.role.add_to_principal_policy(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=roles))


def add_approval_conditions(
    pipeline: pipelines.CodePipeline, config: PlatformConfig, reviews: dict[str, pipelines.CodeBuildStep]
) -> None:
    """With `review.skip_approval_without_changes`, skip an environment's approval stage when its review found no
    change at all (a VariableCheck rule on the review's REVIEW_CHANGES; the review's report still says so)."""
    code_pipeline = pipeline.pipeline
    cfn_pipeline, names = stage_overrides(code_pipeline)
    for env in config.environments:
        if not (env.requires_approval and env.review.skip_approval_without_changes):
            continue
        namespace = _namespace(code_pipeline, reviews[env.name].id)
        rule = {
            "Name": "AnythingToApprove",
            "RuleTypeId": {"Category": "Rule", "Owner": "AWS", "Provider": "VariableCheck", "Version": "1"},
            "Configuration": {"Variable": f"#{{{namespace}.REVIEW_CHANGES}}", "Operator": "NE", "Value": "0"},
        }
        index = names.index(f"PromoteTo{stage_id(env.name)}")
        cfn_pipeline.add_property_override(
            f"Stages.{index}.BeforeEntry", {"Conditions": [{"Result": "SKIP", "Rules": [rule]}]}
        )


def _namespace(pipeline: codepipeline.Pipeline, action_name: str) -> str:
    """The variables namespace CDK Pipelines gave an action (it exports variables only under a namespace)."""
    _, action = stage_of(pipeline, action_name)
    namespace = action.action_properties.variables_namespace
    if not namespace:
        raise LookupError(f"{action_name} exports no variables")
    return namespace
