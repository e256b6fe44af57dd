"""Processing service: the ECS cluster and the two Fargate services of one image (lib/processing/)."""

from __future__ import annotations

from typing import Any

from platform_config import contract
from tests.assembly import ENVIRONMENTS, Synth
from tests.unit.templates import only, policies_of, text


def _containers(synth: Synth, env: str) -> dict[str, dict[str, Any]]:
    """Each task's command container (by command), with its task and its db-setup init container."""
    result = {}
    for task in synth.resources(env, "AWS::ECS::TaskDefinition").values():
        by_name = {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}
        assert set(by_name) == {"processor", "db-setup"}
        container = by_name["processor"]
        result[container["Command"][0]] = {
            "task": task["Properties"],
            "container": container,
            "setup": by_name["db-setup"],
        }
    return result


def test_cluster_has_container_insights(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        cluster = only(synth.resources(env, "AWS::ECS::Cluster"))["Properties"]
        assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]


def test_one_image_two_commands_per_contract(synth: Synth) -> None:
    containers = _containers(synth, "dev")
    assert set(containers) == {"consume", "serve"}
    images = {text(c[name]["Image"]) for c in containers.values() for name in ("container", "setup")}
    assert len(images) == 1
    common = {"AWS_REGION", "STREAM_NAME", "DB_HOST", "DB_PORT", "DB_NAME", "DB_SECRET_ARN", "REDIS_HOST", "REDIS_PORT",
              "REDIS_TLS"}  # fmt: skip
    for command, extra in (("consume", {"DATA_DIR"}), ("serve", {"PORT"})):
        container = containers[command]["container"]
        env = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert set(env) == common | extra
        assert set(env) <= set(contract.ENVIRONMENT)  # every name is one the image reads
        assert env["AWS_REGION"] == "us-east-1"
        assert env["DB_PORT"] == "5432"
        assert env["REDIS_TLS"] == "true"
        assert env["DB_NAME"] == "iot"
        assert "AppSecret" in text(env["DB_SECRET_ARN"])  # the application user's secret, read by the command
        # No password in the task: the command reads the rotating secret itself; only Redis's token is injected.
        assert {s["Name"] for s in container["Secrets"]} == {"REDIS_AUTH_TOKEN"}
        assert container["LogConfiguration"]["LogDriver"] == "awslogs"
        assert container["HealthCheck"]["Command"] == ["CMD", "processor", "healthcheck"]
    assert _env(containers["consume"])["DATA_DIR"] == "/mnt/iot"
    assert _env(containers["serve"])["PORT"] == "8080"
    assert containers["serve"]["container"]["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]


def test_db_setup_runs_first_with_the_two_secrets_it_alone_reads(synth: Synth) -> None:
    for entry in _containers(synth, "prod").values():
        setup, container = entry["setup"], entry["container"]
        assert setup["Command"] == ["db-setup"]
        assert setup["Essential"] is False
        assert container["DependsOn"] == [{"Condition": "SUCCESS", "ContainerName": "db-setup"}]
        secrets = {s["Name"]: text(s["ValueFrom"]) for s in setup["Secrets"]}
        assert set(secrets) == {"DB_ADMIN_SECRET", "DB_APP_SECRET"}
        assert "DatabaseInstanceSecret" in secrets["DB_ADMIN_SECRET"] and "AppSecret" in secrets["DB_APP_SECRET"]
        assert {e["Name"] for e in setup["Environment"]} == {"AWS_REGION", "DB_HOST", "DB_PORT", "DB_NAME"}


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


def _actions(statements: list[dict[str, Any]]) -> list[str]:
    return sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))


def test_task_roles_least_privilege(synth: Synth) -> None:
    app_secret_reads = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    consume = policies_of(synth, "dev", "/ConsumeTask/TaskRole/")
    assert _actions(consume) == sorted(
        [
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
            "kms:Decrypt",  # the stream's key
            "elasticfilesystem:ClientMount",
            "elasticfilesystem:ClientWrite",
            *app_secret_reads,
        ]
    )
    assert all(s["Resource"] != "*" for s in consume)
    serve = policies_of(synth, "dev", "/ServeTask/TaskRole/")
    assert _actions(serve) == app_secret_reads
    for statements in (consume, serve):
        reads = [s for s in statements if "secretsmanager:GetSecretValue" in _actions([s])]
        assert len(reads) == 1 and "AppSecret" in text(reads[0]["Resource"])  # never the master secret


def test_task_roles_decrypt_the_application_secret_only_through_secrets_manager(synth: Synth) -> None:
    (key,) = [
        k for i, k in synth.resources("dev", "AWS::KMS::Key").items() if "/Database/Key/" in synth.path_of("dev", i)
    ]
    grants = [
        s for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s["Action"] == "kms:Decrypt" and "TaskRole" in text(s["Principal"])
    ]  # fmt: skip
    assert len(grants) == 1
    assert grants[0]["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    principals = [p["Fn::GetAtt"][0] for p in grants[0]["Principal"]["AWS"]]
    for role in ("ProcessingConsumeTaskTaskRole", "ProcessingServeTaskTaskRole"):
        assert any(p.startswith(role) for p in principals), role


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
