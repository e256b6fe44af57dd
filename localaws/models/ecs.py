"""ECS: task definitions, services and the running count of a service.

- `AWS::ECS::TaskDefinition`: moto's model keeps only containers, volumes and memory; registered with the task's cpu,
  memory, network mode, compatibilities, roles and runtime platform. Running a Fargate task then sizes it by those
  task-level values, as Fargate does (moto sums container-level memory the template does not set).
- `AWS::ECS::Service`: moto's model keeps only cluster, name, task definition and desired count; created with the
  launch type, awsvpc network configuration (subnets, security groups, public IP), load balancers and tags.
- A service's running count: moto reports a fixed `runningCount` (env `MOTO_ECS_SERVICE_RUNNING`, default 0), as no
  task ever runs. Here it is the number of the service's tasks (group `service:<name>`) that are RUNNING: the
  rehearsal, which runs the processor's commands locally, registers each process as a task (RunTask) and stops it
  (StopTask) with the process, so the count tells the truth about what runs.
"""

from __future__ import annotations

from typing import Any

from moto.ecs import models as ecs_models

from localaws.models.base import camel


def _create_task_definition(
    cls: type[ecs_models.TaskDefinition],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> ecs_models.TaskDefinition:
    """A task definition with everything the template sets (moto's model keeps only containers, volumes, memory)."""
    props = cloudformation_json["Properties"]
    return ecs_models.ecs_backends[account_id][region_name].register_task_definition(
        family=props.get("Family", resource_name),
        container_definitions=camel(props.get("ContainerDefinitions", [])),
        volumes=camel(props.get("Volumes", [])),
        network_mode=props.get("NetworkMode"),
        tags=[{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
        requires_compatibilities=props.get("RequiresCompatibilities"),
        cpu=props.get("Cpu"),
        memory=props.get("Memory"),
        task_role_arn=props.get("TaskRoleArn"),
        execution_role_arn=props.get("ExecutionRoleArn"),
        runtime_platform=camel(props["RuntimePlatform"]) if "RuntimePlatform" in props else None,
    )


def _create_service(
    cls: type[ecs_models.Service],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> ecs_models.Service:
    """A service with its launch type, network configuration, load balancers and tags (moto's model drops them)."""
    props = cloudformation_json["Properties"]
    cluster, definition = props["Cluster"], props["TaskDefinition"]
    network = props.get("NetworkConfiguration")
    return ecs_models.ecs_backends[account_id][region_name].create_service(
        cluster_str=getattr(cluster, "name", cluster),
        service_name=props.get("ServiceName", resource_name),
        desired_count=int(props.get("DesiredCount", 1)),
        task_definition_str=getattr(definition, "arn", definition),
        load_balancers=camel(props.get("LoadBalancers", [])),
        scheduling_strategy=props.get("SchedulingStrategy"),
        tags=[{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
        deployment_controller=camel(props["DeploymentController"]) if "DeploymentController" in props else None,
        launch_type=props.get("LaunchType"),
        platform_version=props.get("PlatformVersion"),
        propagate_tags=props.get("PropagateTags", "NONE"),
        network_configuration=camel(network) if network else None,
        role_arn=props.get("Role"),
    )


_original_requirements = ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements


def _task_requirements(task_definition: ecs_models.TaskDefinition) -> dict[str, Any]:
    """Fargate sizes a task by its task-level cpu/memory; its containers need not state any (moto requires them)."""
    if "FARGATE" in (task_definition.requires_compatibilities or []):
        return {"CPU": int(task_definition.cpu), "MEMORY": int(task_definition.memory), "PORTS": [], "PORTS_UDP": []}
    return _original_requirements(task_definition)


_original_describe_services = ecs_models.EC2ContainerServiceBackend.describe_services


def _describe_services(
    self: ecs_models.EC2ContainerServiceBackend, cluster_str: str, service_names_or_arns: list[str]
) -> tuple[list[Any], list[dict[str, str]]]:
    """Running and pending counts from the service's RUNNING tasks, instead of a fixed number."""
    services, failures = _original_describe_services(self, cluster_str, service_names_or_arns)
    for service in services:
        tasks = self.tasks.get(service.cluster_name, {}).values()
        running = sum(1 for t in tasks if t.group == f"service:{service.name}" and t.last_status == "RUNNING")
        service.running_count = running
        service.pending_count = max(service.desired_count - running, 0)
        for deployment in service.deployments:
            deployment["runningCount"] = running
            deployment["pendingCount"] = service.pending_count
            complete = running >= service.desired_count
            deployment["rolloutState"] = "COMPLETED" if complete else "IN_PROGRESS"
    return services, failures


def patch() -> None:
    ecs_models.TaskDefinition.create_from_cloudformation_json = classmethod(  # type: ignore[assignment]
        _create_task_definition
    )
    ecs_models.Service.create_from_cloudformation_json = classmethod(_create_service)  # type: ignore[assignment]
    ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(_task_requirements)
    ecs_models.EC2ContainerServiceBackend.describe_services = _describe_services
