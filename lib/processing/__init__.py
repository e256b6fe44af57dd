"""The processing service: the ECS cluster and the two Fargate services of the processor image (service.py), their
task definitions per the container contract (tasks.py), and their autoscaling (scaling.py)."""

from lib.processing.service import ProcessingService

__all__ = ["ProcessingService"]
