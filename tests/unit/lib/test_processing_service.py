"""Processing service: the ECS cluster and the two Fargate services of one image (lib/processing_service.py)."""

from __future__ import annotations

from typing import Any

from tests.assembly import ENVIRONMENTS, Synth
from tests.unit.templates import only, policies_of, text


def _containers(synth: Synth, env: str) -> dict[str, dict[str, Any]]:
    result = {}
    for task in synth.resources(env, "AWS::ECS::TaskDefinition").values():
        (container,) = task["Properties"]["ContainerDefinitions"]
        result[container["Command"][0]] = {"task": task["Properties"], "container": container}
    return result


def test_cluster_has_container_insights(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        cluster = only(synth.resources(env, "AWS::ECS::Cluster"))["Properties"]
        assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]


def test_one_image_two_commands_per_contract(synth: Synth) -> None:
    containers = _containers(synth, "dev")
    assert set(containers) == {"consume", "serve"}
    images = {text(c["container"]["Image"]) for c in containers.values()}
    assert len(images) == 1
    common = {
        "AWS_REGION",
        "STREAM_NAME",
        "DB_HOST",
        "DB_PORT",
        "DB_NAME",
        "DB_USER",
        "REDIS_HOST",
        "REDIS_PORT",
        "REDIS_TLS",
    }
    for command, extra in (("consume", {"DATA_DIR"}), ("serve", {"PORT"})):
        container = containers[command]["container"]
        env = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert set(env) == common | extra
        assert env["AWS_REGION"] == "us-east-1"
        assert env["DB_PORT"] == "5432"
        assert env["REDIS_TLS"] == "true"
        assert env["DB_NAME"] == "iot"
        assert {s["Name"] for s in container["Secrets"]} == {"DB_PASSWORD", "REDIS_AUTH_TOKEN"}
        password = next(s for s in container["Secrets"] if s["Name"] == "DB_PASSWORD")
        assert text(password["ValueFrom"]).endswith(':password::"]]}')
        assert container["LogConfiguration"]["LogDriver"] == "awslogs"
        assert container["HealthCheck"]["Command"] == ["CMD", "processor", "healthcheck"]
    assert _env(containers["consume"])["DATA_DIR"] == "/mnt/iot"
    assert _env(containers["serve"])["PORT"] == "8080"
    assert containers["serve"]["container"]["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]


def _env(entry: dict[str, Any]) -> dict[str, str]:
    return {e["Name"]: e["Value"] for e in entry["container"]["Environment"]}


def test_consume_mounts_efs_through_access_point_with_tls_and_iam(synth: Synth) -> None:
    consume = _containers(synth, "prod")["consume"]
    (volume,) = consume["task"]["Volumes"]
    config = volume["EFSVolumeConfiguration"]
    assert config["TransitEncryption"] == "ENABLED"
    assert config["AuthorizationConfig"]["IAM"] == "ENABLED"
    assert "AccessPointId" in config["AuthorizationConfig"]
    assert consume["container"]["MountPoints"] == [
        {"ContainerPath": "/mnt/iot", "ReadOnly": False, "SourceVolume": volume["Name"]}
    ]
    assert "Volumes" not in _containers(synth, "prod")["serve"]["task"]


def test_services_private_with_circuit_breaker(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        services = synth.resources(env, "AWS::ECS::Service")
        assert len(services) == 2
        for service in services.values():
            props = service["Properties"]
            assert props["LaunchType"] == "FARGATE"
            network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
            assert network["AssignPublicIp"] == "DISABLED"
            assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_log_groups_have_retention(synth: Synth) -> None:
    for env, days in (("dev", 14), ("staging", 30), ("prod", 365)):
        for group in synth.resources(env, "AWS::Logs::LogGroup").values():
            assert group["Properties"]["RetentionInDays"] == days


def test_autoscaling_cpu_and_iterator_age(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        policies = synth.resources(env, "AWS::ApplicationAutoScaling::ScalingPolicy")
        kinds = sorted(p["Properties"]["PolicyType"] for p in policies.values())
        assert kinds == ["StepScaling", "StepScaling", "TargetTrackingScaling", "TargetTrackingScaling"]
        alarms = synth.resources(env, "AWS::CloudWatch::Alarm")
        scaling = [a for a in alarms.values() if "AlarmName" not in a["Properties"]]  # monitoring's alarms are named
        assert {a["Properties"]["MetricName"] for a in scaling} == {"GetRecords.IteratorAgeMilliseconds"}
    targets = synth.resources("prod", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert sorted((t["Properties"]["MinCapacity"], t["Properties"]["MaxCapacity"]) for t in targets.values()) == [
        (2, 10),
        (2, 10),
    ]


def test_task_roles_least_privilege(synth: Synth) -> None:
    consume = policies_of(synth, "dev", "/ConsumeTask/TaskRole/")
    actions = sorted(a for s in consume for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == sorted(
        [
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
            "kms:Decrypt",
            "elasticfilesystem:ClientMount",
            "elasticfilesystem:ClientWrite",
        ]
    )
    assert all(s["Resource"] != "*" for s in consume)
    assert policies_of(synth, "dev", "/ServeTask/TaskRole/") == []


def test_no_wildcard_iam_actions_on_data(synth: Synth) -> None:
    data_services = (
        "kinesis:",
        "kms:",
        "rds:",
        "rds-db:",
        "elasticache:",
        "elasticfilesystem:",
        "secretsmanager:",
        "s3:",
    )
    for env in ENVIRONMENTS:
        for logical_id, policy in synth.resources(env, "AWS::IAM::Policy").items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    if action.startswith(data_services):
                        assert "*" not in action, (env, synth.path_of(env, logical_id), action)
                if any(a.startswith(data_services) for a in actions):
                    assert statement["Resource"] != "*", (env, synth.path_of(env, logical_id), actions)
