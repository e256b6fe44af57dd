"""The platform stacks (dev, staging, prod) as CloudFormation will see them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from platform_config.outputs import OUTPUT_NAMES
from tests.unit.conftest import ENVIRONMENTS, Synth


def only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))


def text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# --- network -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "azs", "nats"), [("dev", 2, 1), ("staging", 2, 1), ("prod", 3, 3)])
def test_vpc_subnets_nat_and_pinned_azs(synth: Synth, env: str, azs: int, nats: int) -> None:
    subnets = synth.resources(env, "AWS::EC2::Subnet")
    assert len(subnets) == 3 * azs
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets.values()}
    assert zones == {f"us-east-1{z}" for z in "abc"[:azs]}
    kinds = sorted(
        t["Value"] for s in subnets.values() for t in s["Properties"]["Tags"] if t["Key"] == "aws-cdk:subnet-type"
    )
    assert kinds == sorted(["Public", "Private", "Isolated"] * azs)
    assert len(synth.resources(env, "AWS::EC2::NatGateway")) == nats


def test_flow_logs_and_endpoints(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        flow = only(synth.resources(env, "AWS::EC2::FlowLog"))
        assert flow["Properties"]["TrafficType"] == "ALL"
        assert flow["Properties"]["LogDestinationType"] == "cloud-watch-logs"
    services = {
        env: sorted(
            text(e["Properties"]["ServiceName"]).split(".")[-1].strip('"]}')
            for e in synth.resources(env, "AWS::EC2::VPCEndpoint").values()
        )
        for env in ENVIRONMENTS
    }
    assert services["dev"] == ["api", "dkr", "logs", "s3"]
    assert services["prod"] == ["api", "dkr", "kinesis-streams", "logs", "s3", "secretsmanager"]
    for env in ENVIRONMENTS:
        for endpoint in synth.resources(env, "AWS::EC2::VPCEndpoint").values():
            if endpoint["Properties"].get("VpcEndpointType") == "Interface":
                assert endpoint["Properties"]["PrivateDnsEnabled"] is True


# --- security groups -----------------------------------------------------------------------------------------------


def _group_name(synth: Synth, env: str, ref: Any) -> str:
    logical_id = ref["Fn::GetAtt"][0]
    return synth.path_of(env, logical_id).split("/")[-2]


def _rules(synth: Synth, env: str, rule_type: str, peer_key: str) -> set[tuple[str, str, Any]]:
    rules = set()
    for rule in synth.resources(env, rule_type).values():
        props = rule["Properties"]
        port = props["FromPort"]
        if isinstance(port, dict):  # Fn::GetAtt of the database's port
            port = "db-port"
        else:
            assert port == props["ToPort"]
        rules.add((_group_name(synth, env, props["GroupId"]), _group_name(synth, env, props[peer_key]), port))
    return rules


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_security_group_ingress_is_exactly_the_data_path(synth: Synth, env: str) -> None:
    assert _rules(synth, env, "AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId") == {
        ("Database", "Service", 5432),
        ("Cache", "Service", 6379),
        ("FileSystem", "Service", 2049),
        ("Service", "LoadBalancer", 8080),
        ("Database", "Rotation", "db-port"),  # single-user rotation Lambda, on the instance's port (5432)
        ("EndpointSecurityGroup", "Service", 443),
        ("EndpointSecurityGroup", "Rotation", 443),
    }
    for group in synth.resources(env, "AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group["Properties"]  # no CIDR ingress anywhere


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_security_group_egress_is_restricted(synth: Synth, env: str) -> None:
    assert _rules(synth, env, "AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId") == {
        ("Service", "Database", 5432),
        ("Service", "Cache", 6379),
        ("Service", "FileSystem", 2049),
        ("LoadBalancer", "Service", 8080),
        ("Rotation", "Database", "db-port"),
    }
    cidr_egress = {}
    for logical_id, group in synth.resources(env, "AWS::EC2::SecurityGroup").items():
        name = synth.path_of(env, logical_id).split("/")[-2]
        cidr_egress[name] = [
            (r["CidrIp"], r["IpProtocol"], r["FromPort"]) for r in group["Properties"].get("SecurityGroupEgress", [])
        ]
    assert cidr_egress == {
        "EndpointSecurityGroup": [("255.255.255.255/32", "icmp", 252)],  # CDK's "no outbound" marker
        "Service": [("0.0.0.0/0", "tcp", 443)],
        "LoadBalancer": [],
        "Database": [("255.255.255.255/32", "icmp", 252)],
        "Cache": [("255.255.255.255/32", "icmp", 252)],
        "FileSystem": [("255.255.255.255/32", "icmp", 252)],
        "Rotation": [("0.0.0.0/0", "tcp", 443)],
    }


# --- ingestion -----------------------------------------------------------------------------------------------------


def test_stream_encrypted_with_rotating_cmk_per_env(synth: Synth) -> None:
    expected = {"dev": ("PROVISIONED", 1, 24), "staging": ("PROVISIONED", 2, 48), "prod": ("ON_DEMAND", None, 168)}
    for env, (mode, shards, hours) in expected.items():
        stream = only(synth.resources(env, "AWS::Kinesis::Stream"))["Properties"]
        assert stream["StreamEncryption"]["EncryptionType"] == "KMS"
        key_id = stream["StreamEncryption"]["KeyId"]["Fn::GetAtt"][0]
        assert synth.templates[env]["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
        assert stream["StreamModeDetails"]["StreamMode"] == mode
        assert stream.get("ShardCount") == shards
        assert stream["RetentionPeriodHours"] == hours


def test_every_kms_key_rotates(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        keys = synth.resources(env, "AWS::KMS::Key")
        assert len(keys) == 5  # stream, database, cache, file system, alarm topic
        assert all(k["Properties"]["EnableKeyRotation"] for k in keys.values())


# --- database ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "multi_az", "protected", "policy", "instance_class", "backups"),
    [
        ("dev", False, False, "Delete", "db.t4g.micro", 1),
        ("staging", True, False, "Snapshot", "db.t4g.small", 7),
        ("prod", True, True, "Snapshot", "db.m6g.large", 30),
    ],
)
def test_database_per_environment(
    synth: Synth, env: str, multi_az: bool, protected: bool, policy: str, instance_class: str, backups: int
) -> None:
    db = only(synth.resources(env, "AWS::RDS::DBInstance"))
    props = db["Properties"]
    assert props["Engine"] == "postgres"
    assert props["EngineVersion"] == "15.17"
    assert props["DBInstanceClass"] == instance_class
    assert props["MultiAZ"] is multi_az
    assert props["DeletionProtection"] is protected
    assert props["BackupRetentionPeriod"] == backups
    assert db["DeletionPolicy"] == policy
    assert db["UpdateReplacePolicy"] == policy
    assert props["StorageEncrypted"] is True
    assert "KmsKeyId" in props
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["EnableCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert props["PubliclyAccessible"] is False
    assert props["DBInstanceIdentifier"] == f"iot-{env}-postgres"
    subnet_group = only(synth.resources(env, "AWS::RDS::DBSubnetGroup"))
    isolated = {k for k, v in synth.resources(env, "AWS::EC2::Subnet").items() if "isolated" in synth.path_of(env, k)}
    assert {ref["Ref"] for ref in subnet_group["Properties"]["SubnetIds"]} == isolated
    params = only(synth.resources(env, "AWS::RDS::DBParameterGroup"))["Properties"]
    assert params["Parameters"] == {"rds.force_ssl": "1"}
    assert params["Family"] == "postgres15"


def test_database_credentials_rotate_every_30_days_inside_the_vpc(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        schedule = only(synth.resources(env, "AWS::SecretsManager::RotationSchedule"))["Properties"]
        assert schedule["RotationRules"]["ScheduleExpression"] == "rate(30 days)"
        rotation_app = only(synth.resources(env, "AWS::Serverless::Application"))["Properties"]
        mappings = text(synth.templates[env]["Mappings"])
        assert "SecretsManagerRDSPostgreSQLRotationSingleUser" in mappings
        assert "vpcSubnetIds" in rotation_app["Parameters"]
        assert "vpcSecurityGroupIds" in rotation_app["Parameters"]
        db_secret = [
            s
            for k, s in synth.resources(env, "AWS::SecretsManager::Secret").items()
            if "/Database/" in synth.path_of(env, k)
        ]
        assert len(db_secret) == 1
        assert '"username":"iot_admin"' in text(db_secret[0]["Properties"]["GenerateSecretString"]).replace("\\", "")


def test_database_log_groups_have_retention(synth: Synth) -> None:
    retention = {"dev": 14, "staging": 30, "prod": 365}
    for env, days in retention.items():
        rds_logs = {
            g["Properties"]["LogGroupName"]: g["Properties"]["RetentionInDays"]
            for g in synth.resources(env, "AWS::Logs::LogGroup").values()
            if str(g["Properties"].get("LogGroupName", "")).startswith("/aws/rds/")
        }
        assert rds_logs == {f"/aws/rds/instance/iot-{env}-postgres/{t}": days for t in ("postgresql", "upgrade")}


# --- cache ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "nodes", "multi_az"), [("dev", 1, False), ("staging", 2, True), ("prod", 3, True)])
def test_redis_encrypted_with_auth_token_and_failover(synth: Synth, env: str, nodes: int, multi_az: bool) -> None:
    props = only(synth.resources(env, "AWS::ElastiCache::ReplicationGroup"))["Properties"]
    assert props["Engine"] == "redis"
    assert props["NumCacheClusters"] == nodes
    assert props["MultiAZEnabled"] is multi_az
    assert props["AutomaticFailoverEnabled"] is multi_az
    assert props["AtRestEncryptionEnabled"] is True
    assert props["TransitEncryptionEnabled"] is True
    assert "KmsKeyId" in props
    assert props["Port"] == 6379
    token = text(props["AuthToken"])
    assert "{{resolve:secretsmanager:" in token  # a dynamic reference, never the token itself
    private = {k for k, v in synth.resources(env, "AWS::EC2::Subnet").items() if "/private" in synth.path_of(env, k)}
    subnet_group = only(synth.resources(env, "AWS::ElastiCache::SubnetGroup"))["Properties"]
    assert {ref["Ref"] for ref in subnet_group["SubnetIds"]} == private


# --- file storage --------------------------------------------------------------------------------------------------


def test_efs_encrypted_backed_up_with_access_point(synth: Synth) -> None:
    for env, policy in (("dev", "Delete"), ("staging", "Delete"), ("prod", "Retain")):
        fs = only(synth.resources(env, "AWS::EFS::FileSystem"))
        assert fs["DeletionPolicy"] == policy
        props = fs["Properties"]
        assert props["Encrypted"] is True
        assert "KmsKeyId" in props
        assert props["BackupPolicy"] == {"Status": "ENABLED"}
        assert {"TransitionToIA": "AFTER_7_DAYS" if env == "dev" else "AFTER_30_DAYS"} in props["LifecyclePolicies"]
        ap = only(synth.resources(env, "AWS::EFS::AccessPoint"))["Properties"]
        assert ap["PosixUser"] == {"Uid": "1000", "Gid": "1000"}
        assert ap["RootDirectory"]["Path"] == "/iot"
        assert ap["RootDirectory"]["CreationInfo"] == {"OwnerUid": "1000", "OwnerGid": "1000", "Permissions": "750"}


# --- processing service --------------------------------------------------------------------------------------------


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


def _policies_of(synth: Synth, env: str, role_path_part: str) -> list[dict[str, Any]]:
    statements = []
    for logical_id, policy in synth.resources(env, "AWS::IAM::Policy").items():
        if role_path_part in synth.path_of(env, logical_id):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_task_roles_least_privilege(synth: Synth) -> None:
    consume = _policies_of(synth, "dev", "/ConsumeTask/TaskRole/")
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
    assert _policies_of(synth, "dev", "/ServeTask/TaskRole/") == []


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


# --- API -----------------------------------------------------------------------------------------------------------


def test_every_method_uses_iam_auth_and_validation(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        methods = synth.resources(env, "AWS::ApiGateway::Method")
        assert len(methods) == 3
        for method in methods.values():
            assert method["Properties"]["AuthorizationType"] == "AWS_IAM"
            assert "RequestValidatorId" in method["Properties"]


def test_post_readings_puts_record_into_kinesis(synth: Synth) -> None:
    template = synth.template("dev")
    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "POST",
            "Integration": {
                "Type": "AWS",
                "IntegrationHttpMethod": "POST",
                "Uri": "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord",
                "PassthroughBehavior": "NEVER",
                "Credentials": Match.any_value(),
            },
        },
    )
    post = next(
        m for m in synth.resources("dev", "AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] == "POST"
    )
    request_template = text(post["Properties"]["Integration"]["RequestTemplates"]["application/json"])
    assert "$util.base64Encode($input.body)" in request_template
    assert "$input.path('$.sensorId')" in request_template
    role = _policies_of(synth, "dev", "/Api/PutRecordRole/")
    assert sorted(s["Action"] for s in role) == ["kinesis:PutRecord", "kms:GenerateDataKey"]


def test_get_routes_use_vpc_link_to_internal_nlb(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        gets = [
            m
            for m in synth.resources(env, "AWS::ApiGateway::Method").values()
            if m["Properties"]["HttpMethod"] == "GET"
        ]
        assert len(gets) == 2
        uris = set()
        for method in gets:
            integration = method["Properties"]["Integration"]
            assert integration["ConnectionType"] == "VPC_LINK"
            assert integration["Type"] == "HTTP_PROXY"
            uris.add(text(integration["Uri"]).rsplit("/", 1)[-1].strip('"]}'))
            assert method["Properties"]["RequestParameters"] == {"method.request.path.id": True}
        assert uris == {"latest", "readings"}
        nlb = only(synth.resources(env, "AWS::ElasticLoadBalancingV2::LoadBalancer"))["Properties"]
        assert nlb["Scheme"] == "internal"
        assert nlb["Type"] == "network"
        target_group = only(synth.resources(env, "AWS::ElasticLoadBalancingV2::TargetGroup"))["Properties"]
        assert (target_group["Port"], target_group["TargetType"], target_group["HealthCheckPath"]) == (
            8080,
            "ip",
            "/health/live",
        )
        assert len(synth.resources(env, "AWS::ApiGateway::VpcLink")) == 1


def test_stage_logs_traces_throttles_and_has_waf(synth: Synth) -> None:
    for env, (rate, burst) in (("dev", (50, 100)), ("prod", (1000, 2000))):
        stage = only(synth.resources(env, "AWS::ApiGateway::Stage"))["Properties"]
        assert stage["TracingEnabled"] is True
        assert "DestinationArn" in stage["AccessLogSetting"]
        (settings,) = stage["MethodSettings"]
        assert settings["LoggingLevel"] == "INFO"
        assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (rate, burst)
        assert len(synth.resources(env, "AWS::WAFv2::WebACLAssociation")) == 1
        assert len(synth.resources(env, "AWS::ApiGateway::RequestValidator")) == 2


# --- outputs -------------------------------------------------------------------------------------------------------


def test_outputs_have_stable_names_and_no_exports(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        outputs = synth.templates[env]["Outputs"]
        assert set(outputs) == set(OUTPUT_NAMES)
        assert all("Export" not in o for o in outputs.values())
    required = {"StreamName", "StreamArn", "StreamKeyArn", "DatabaseEndpoint", "DatabasePort", "DatabaseIdentifier"}
    required |= {"DatabaseSecretArn", "RedisEndpoint", "RedisPort", "FileSystemId", "ClusterName", "ConsumeServiceName"}
    required |= {"ServeServiceName", "ApiUrl", "ApiId", "VpcId"}
    assert required <= set(OUTPUT_NAMES)


def test_outputs_reject_wrong_names() -> None:
    from aws_cdk import Stack

    from lib.outputs import Outputs

    with pytest.raises(ValueError, match="missing"):
        Outputs(Stack(), "Outputs", values={"VpcId": "x"})
