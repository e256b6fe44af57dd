"""ECS: the cluster and both Fargate services, private and running at whatever count autoscaling chose within the
configured bounds, with the scalable targets registered at exactly those bounds."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_file_storage import private_subnets

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def services(aws, output) -> dict[str, dict]:
    names = {"consume": output("ConsumeServiceName"), "serve": output("ServeServiceName")}
    found = aws("ecs").describe_services(cluster=output("ClusterName"), services=list(names.values()))
    assert not found["failures"], f"services not found: {found['failures']}"
    by_name = {s["serviceName"]: s for s in found["services"]}
    return {command: by_name[name] for command, name in names.items()}


def test_cluster_is_active(aws, output) -> None:
    cluster = aws("ecs").describe_clusters(clusters=[output("ClusterName")])["clusters"][0]
    assert cluster["status"] == "ACTIVE"


@pytest.mark.parametrize("command", ["consume", "serve"])
def test_service_is_private_fargate(services, aws, output, command) -> None:
    service = services[command]
    assert service["status"] == "ACTIVE"
    assert service["launchType"] == "FARGATE"
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "DISABLED", f"{command} tasks get a public IP"
    assert set(network["subnets"]) <= private_subnets(aws, output("VpcId")), f"{command} runs outside private subnets"


@pytest.mark.parametrize("command", ["consume", "serve"])
def test_service_runs_steady_within_its_scaling_bounds(aws, output, settings, command) -> None:
    """Autoscaling moves the desired count between the configured bounds (prod scales out under load): whatever it
    is, it stays within them and every desired task runs once the service settles."""
    low = getattr(settings.service, f"{command}_min_tasks")
    high = getattr(settings.service, f"{command}_max_tasks")
    name = output("ConsumeServiceName" if command == "consume" else "ServeServiceName")
    deadline = time.monotonic() + 120
    while True:
        service = aws("ecs").describe_services(cluster=output("ClusterName"), services=[name])["services"][0]
        desired, running = service["desiredCount"], service["runningCount"]
        if (low <= desired <= high and running == desired) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert low <= desired <= high, f"{command}: desired count {desired} outside the configured {low}..{high}"
    assert running == desired, f"{command}: {running} of {desired} desired tasks running"


@pytest.mark.parametrize("command", ["consume", "serve"])
def test_autoscaling_target_registered(aws, output, settings, command) -> None:
    name = output("ConsumeServiceName" if command == "consume" else "ServeServiceName")
    resource_id = f"service/{output('ClusterName')}/{name}"
    targets = aws("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource_id]
    )["ScalableTargets"]
    assert len(targets) == 1, f"no scalable target for {resource_id}"
    assert targets[0]["ScalableDimension"] == "ecs:service:DesiredCount"
    assert targets[0]["MinCapacity"] == getattr(settings.service, f"{command}_min_tasks")
    assert targets[0]["MaxCapacity"] == getattr(settings.service, f"{command}_max_tasks")
    policies = aws("application-autoscaling").describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)[
        "ScalingPolicies"
    ]
    assert policies, f"no scaling policy on {resource_id}"
