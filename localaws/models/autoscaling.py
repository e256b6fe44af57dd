"""Application Auto Scaling: `AWS::ApplicationAutoScaling::ScalableTarget` and `::ScalingPolicy`, which moto's
CloudFormation skips. Registered through the backend (which checks that the ECS service exists); nothing scales by
itself, the rehearsal's day-2 scale-out sets the desired count as the policy would."""

from __future__ import annotations

from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends

from localaws.models.base import Model, camel


class ScalableTarget(Model):
    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ScalableTarget:
        props = cloudformation_json["Properties"]
        applicationautoscaling_backends[account_id][region_name].register_scalable_target(
            namespace=props["ServiceNamespace"],
            r_id=props["ResourceId"],
            dimension=props["ScalableDimension"],
            min_capacity=int(props["MinCapacity"]),
            max_capacity=int(props["MaxCapacity"]),
            role_arn=props.get("RoleARN", ""),
            suspended_state=props.get("SuspendedState"),
        )
        physical = f"{props['ResourceId']}|{props['ScalableDimension']}|{props['ServiceNamespace']}"
        return cls(physical)


class ScalingPolicy(Model):
    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ScalingPolicy:
        props = cloudformation_json["Properties"]
        if "ScalingTargetId" in props:
            resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
        else:
            resource_id, dimension, namespace = (
                props["ResourceId"],
                props["ScalableDimension"],
                props["ServiceNamespace"],
            )
        body_key = next(
            key
            for key in ("TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration")
            if key in props
        )
        policy = applicationautoscaling_backends[account_id][region_name].put_scaling_policy(
            policy_name=props["PolicyName"],
            service_namespace=namespace,
            resource_id=resource_id,
            scalable_dimension=dimension,
            policy_body=camel(props[body_key]),
            policy_type=props["PolicyType"],
        )
        return cls(policy.policy_arn)


MODELS = (ScalableTarget, ScalingPolicy)
