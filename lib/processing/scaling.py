"""Autoscaling of the two services: both on CPU, `consume` also on the stream's iterator age (steps in and out)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kinesis as kinesis

from platform_config.settings import ServiceSettings


def scale_consume(service: ecs.FargateService, settings: ServiceSettings, stream: kinesis.IStream) -> None:
    scaling = service.auto_scale_task_count(
        min_capacity=settings.consume_min_tasks, max_capacity=settings.consume_max_tasks
    )
    scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=settings.cpu_target_percent)
    scaling.scale_on_metric(
        "IteratorAge",
        metric=stream.metric_get_records_iterator_age_milliseconds(
            statistic=cloudwatch.Stats.MAXIMUM, period=Duration.minutes(1)
        ),
        adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        scaling_steps=[
            autoscaling.ScalingInterval(upper=settings.max_iterator_age_ms // 4, change=-1),
            autoscaling.ScalingInterval(lower=settings.max_iterator_age_ms, change=+1),
            autoscaling.ScalingInterval(lower=settings.max_iterator_age_ms * 5, change=+2),
        ],
        cooldown=Duration.minutes(3),
    )


def scale_serve(service: ecs.FargateService, settings: ServiceSettings) -> None:
    scaling = service.auto_scale_task_count(
        min_capacity=settings.serve_min_tasks, max_capacity=settings.serve_max_tasks
    )
    scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=settings.cpu_target_percent)
