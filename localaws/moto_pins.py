"""The moto internals localaws depends on, pinned: a moto upgrade that changes one of them fails
tests/localaws/test_moto_pins.py loudly, naming it, before it can make the emulator quietly wrong.

- REPLACED and WRAPPED: moto code whose behaviour localaws replaces or builds on; pinned by a hash of its source.
- CALLED: moto backend methods the models call with keyword arguments; pinned by their parameter names.
After an upgrade, re-read each named function against the localaws module that uses it, then update the pin.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from typing import Any

MOTO_VERSION = "5.2.5"

# moto attribute -> sha256 of its source (first 16 hex digits), and the localaws module that depends on it.
SOURCES: dict[str, tuple[str, str]] = {}
# backend method -> its parameter names, and the localaws module that calls it.
SIGNATURES: dict[str, tuple[tuple[str, ...], str]] = {}

SOURCES.update(
    {
        "moto.kinesis.models:Stream.get_shard_for_key": ("4ef3be70391e2a8c", "localaws.kinesis_patches"),
        "moto.kinesis.models:Stream.split_shard": ("be63bfceacc55968", "localaws.kinesis_patches"),
        "moto.kinesis.models:KinesisBackend.get_records": ("15d3ac1f7c0c1229", "localaws.kinesis_patches"),
        "moto.kinesis.utils:decompose_shard_iterator": ("0f2cc30dcf400c92", "localaws.kinesis_patches"),
        "moto.kinesis.models:Shard.__init__": ("ed0cc26823a9cd92", "localaws.kinesis_patches"),
        "moto.cloudformation.parsing:get_model_list": ("f951e0f10931343f", "localaws.models"),
        "moto.cloudformation.parsing:get_model_map": ("fb06726090724d5f", "localaws.models"),
        "moto.cloudformation.parsing:get_name_type_map": ("989cac962ee065eb", "localaws.models"),
        "moto.cloudformation.parsing:clean_json": ("9fbe5dedab810616", "localaws.models.cloudformation"),
        "moto.cloudformation.models:Stack.create_resources": ("a5f30450448a1d58", "localaws.models.cloudformation"),
        "moto.kinesis.models:Stream.create_from_cloudformation_json": ("a6a9c8a611e29a14", "localaws.models.kinesis"),
        "moto.kms.models:Key.create_from_cloudformation_json": ("e3409ffb6d920c81", "localaws.models.kms"),
        "moto.ec2.models.vpcs:VPC.create_from_cloudformation_json": ("4eb227149cba145c", "localaws.models.ec2"),
        "moto.rds.models:DBInstance.create_from_cloudformation_json": ("a85dca840ac370ed", "localaws.models.rds"),
        "moto.secretsmanager.models:FakeSecret.to_dict": ("d5667701baa08e00", "localaws.models.secretsmanager"),
        "moto.ecs.models:EC2ContainerServiceBackend._calculate_task_resource_requirements": (
            "4c4587f8d68da43a",
            "localaws.models.ecs",
        ),
        "moto.ecs.models:EC2ContainerServiceBackend.describe_services": ("8602726251fec059", "localaws.models.ecs"),
        "moto.ecs.models:TaskDefinition.create_from_cloudformation_json": ("c7d16c368dc583db", "localaws.models.ecs"),
        "moto.ecs.models:Service.create_from_cloudformation_json": ("f6c77f48b9aa358c", "localaws.models.ecs"),
        "moto.elbv2.models:FakeLoadBalancer.create_from_cloudformation_json": (
            "397dadc0d46c1ae4",
            "localaws.models.elbv2",
        ),
        "moto.efs.models:FileSystem.__init__": ("d52b765e4f188edc", "localaws.models.efs"),
        "moto.efs.models:AccessPoint.__init__": ("99ba38b465fb30a8", "localaws.models.efs"),
    }
)
SIGNATURES.update(
    {
        "moto.elasticache.models:ElastiCacheBackend.create_cache_subnet_group": (
            ("cache_subnet_group_name", "cache_subnet_group_description", "subnet_ids", "tags"),
            "localaws.models.elasticache",
        ),
        "moto.elasticache.models:ElastiCacheBackend.create_replication_group": (
            (
                "replication_group_id",
                "replication_group_description",
                "global_replication_group_id",
                "primary_cluster_id",
                "automatic_failover_enabled",
                "multi_az_enabled",
                "num_cache_clusters",
                "preferred_cache_cluster_azs",
                "num_node_groups",
                "replicas_per_node_group",
                "node_group_configuration",
                "cache_node_type",
                "engine",
                "engine_version",
                "cache_parameter_group_name",
                "cache_subnet_group_name",
                "cache_security_group_names",
                "security_group_ids",
                "tags",
                "snapshot_arns",
                "snapshot_name",
                "preferred_maintenance_window",
                "port",
                "notification_topic_arn",
                "auto_minor_version_upgrade",
                "snapshot_retention_limit",
                "snapshot_window",
                "auth_token",
                "transit_encryption_enabled",
                "at_rest_encryption_enabled",
                "kms_key_id",
                "user_group_ids",
                "log_delivery_configurations",
                "data_tiering_enabled",
                "network_type",
                "ip_discovery",
                "transit_encryption_mode",
                "cluster_mode",
                "serverless_cache_snapshot_name",
            ),
            "localaws.models.elasticache",
        ),
        "moto.secretsmanager.models:SecretsManagerBackend.get_random_password": (
            (
                "password_length",
                "exclude_characters",
                "exclude_numbers",
                "exclude_punctuation",
                "exclude_uppercase",
                "exclude_lowercase",
                "include_space",
                "require_each_included_type",
            ),
            "localaws.models.secretsmanager",
        ),
        "moto.secretsmanager.models:SecretsManagerBackend.create_secret": (
            (
                "name",
                "secret_string",
                "secret_binary",
                "description",
                "tags",
                "kms_key_id",
                "client_request_token",
                "replica_regions",
                "force_overwrite",
            ),
            "localaws.models.secretsmanager",
        ),
        "moto.secretsmanager.models:SecretsManagerBackend.put_secret_value": (
            ("secret_id", "secret_string", "secret_binary", "client_request_token", "version_stages"),
            "localaws.models.secretsmanager",
        ),
        "moto.secretsmanager.models:SecretsManagerBackend.get_secret_value": (
            ("secret_id", "version_id", "version_stage"),
            "localaws.models.base",
        ),
        "moto.secretsmanager.models:SecretsManagerBackend.put_resource_policy": (
            ("secret_id", "policy"),
            "localaws.models.secretsmanager",
        ),
        "moto.rds.models:RDSBackend.create_db_instance": (("db_kwargs",), "localaws.models.rds"),
        "moto.ec2.models:EC2Backend.associate_route_table": (
            ("route_table_id", "gateway_id", "subnet_id"),
            "localaws.models.ec2",
        ),
        "moto.applicationautoscaling.models:ApplicationAutoscalingBackend.register_scalable_target": (
            ("namespace", "r_id", "dimension", "min_capacity", "max_capacity", "role_arn", "suspended_state"),
            "localaws.models.autoscaling",
        ),
        "moto.applicationautoscaling.models:ApplicationAutoscalingBackend.put_scaling_policy": (
            ("policy_name", "service_namespace", "resource_id", "scalable_dimension", "policy_body", "policy_type"),
            "localaws.models.autoscaling",
        ),
        "moto.apigateway.models:APIGatewayBackend.create_stage": (
            (
                "function_id",
                "stage_name",
                "deploymentId",
                "variables",
                "description",
                "cacheClusterEnabled",
                "cacheClusterSize",
                "tags",
                "tracing_enabled",
            ),
            "localaws.models.apigateway",
        ),
        "moto.apigateway.models:APIGatewayBackend.create_model": (
            ("rest_api_id", "name", "content_type", "description", "schema"),
            "localaws.models.apigateway",
        ),
        "moto.apigateway.models:APIGatewayBackend.create_request_validator": (
            ("restapi_id", "name", "body", "params"),
            "localaws.models.apigateway",
        ),
        "moto.apigateway.models:APIGatewayBackend.put_method": (
            (
                "function_id",
                "resource_id",
                "method_type",
                "authorization_type",
                "api_key_required",
                "request_parameters",
                "request_models",
                "operation_name",
                "authorizer_id",
                "authorization_scopes",
                "request_validator_id",
            ),
            "localaws.models.apigateway",
        ),
        "moto.apigateway.models:APIGatewayBackend.put_method_response": (
            ("function_id", "resource_id", "method_type", "response_code", "response_models", "response_parameters"),
            "localaws.models.apigateway",
        ),
        "moto.apigateway.models:APIGatewayBackend.put_integration": (
            (
                "function_id",
                "resource_id",
                "method_type",
                "integration_type",
                "uri",
                "integration_method",
                "credentials",
                "request_templates",
                "passthrough_behavior",
                "tls_config",
                "cache_namespace",
                "timeout_in_millis",
                "request_parameters",
                "content_handling",
                "connection_type",
            ),
            "localaws.models.apigateway",
        ),
        "moto.apigateway.models:APIGatewayBackend.put_integration_response": (
            (
                "function_id",
                "resource_id",
                "method_type",
                "status_code",
                "selection_pattern",
                "response_templates",
                "response_parameters",
                "content_handling",
            ),
            "localaws.models.apigateway",
        ),
        "moto.apigateway.models:APIGatewayBackend.update_account": (
            ("patch_operations",),
            "localaws.models.apigateway",
        ),
        "moto.kinesis.models:KinesisBackend.update_stream_mode": (
            ("stream_arn", "stream_mode"),
            "localaws.models.kinesis",
        ),
        "moto.kinesis.models:KinesisBackend.start_stream_encryption": (
            ("stream_arn", "stream_name", "encryption_type", "key_id"),
            "localaws.models.kinesis",
        ),
        "moto.elbv2.models:ELBv2Backend.create_load_balancer": (
            (
                "name",
                "security_groups",
                "subnet_ids",
                "subnet_mappings",
                "scheme",
                "loadbalancer_type",
                "ip_address_type",
                "tags",
            ),
            "localaws.models.elbv2",
        ),
        "moto.ecs.models:EC2ContainerServiceBackend.register_task_definition": (
            (
                "family",
                "container_definitions",
                "volumes",
                "network_mode",
                "tags",
                "placement_constraints",
                "requires_compatibilities",
                "cpu",
                "memory",
                "task_role_arn",
                "execution_role_arn",
                "proxy_configuration",
                "inference_accelerators",
                "runtime_platform",
                "ipc_mode",
                "pid_mode",
                "ephemeral_storage",
            ),
            "localaws.models.ecs",
        ),
        "moto.ecs.models:EC2ContainerServiceBackend.create_service": (
            (
                "cluster_str",
                "service_name",
                "desired_count",
                "task_definition_str",
                "load_balancers",
                "scheduling_strategy",
                "tags",
                "deployment_controller",
                "launch_type",
                "service_registries",
                "platform_version",
                "propagate_tags",
                "network_configuration",
                "role_arn",
            ),
            "localaws.models.ecs",
        ),
    }
)


# Issue #10 and #12: stack updates, custom resources, expiring credentials, alarms, log groups, drift, offerings.
SOURCES.update(
    {
        "moto.cloudformation.parsing:ResourceMap.update": ("e34b0c357f3c8e35", "localaws.models.updates"),
        "moto.cloudformation.parsing:parse_and_create_resource": ("ea3c10d68d2c03e6", "localaws.models.updates"),
        "moto.cloudformation.parsing:parse_and_update_resource": ("2ef032cfb9ed3c9b", "localaws.models.updates"),
        "moto.cloudformation.parsing:ResourceMap._delete_resource": ("b1551ce18f4eedc2", "localaws.models.updates"),
        "moto.cloudformation.models:Stack.update": ("fd488c7f43d4b5c8", "localaws.models.updates"),
        "moto.cloudformation.models:Stack.has_template": ("92ddfbc6eeb0d815", "localaws.models.updates"),
        "moto.cloudformation.models:CloudFormationBackend.update_stack": (
            "83a62d954ef05565",
            "localaws.models.updates",
        ),
        "moto.cloudformation.models:CloudFormationBackend._resolve_update_parameters": (
            "02438a8e37001724",
            "localaws.models.updates",
        ),
        "moto.cloudformation.parsing:resource_class_from_type": (
            "ca766bc34c1950ae",
            "localaws.models.custom_resources",
        ),
        "moto.cloudformation.custom_model:CustomModel.create_from_cloudformation_json": (
            "1cffb9a8f9420a76",
            "localaws.models.custom_resources",
        ),
        "moto.ec2.responses.security_groups:parse_sg_attributes_from_dict": (
            "c2c4e7691bebd7e4",
            "localaws.models.custom_resources",
        ),
        "moto.ec2.models.vpcs:VPC.get_cfn_attribute": ("4dace8136cce2c1f", "localaws.models.custom_resources"),
        "moto.core.responses:BaseResponse.call_action": ("26076963fd17fd1a", "localaws.models.sts"),
        "moto.core.responses:BaseResponse.serialized": ("af486a0ef1327162", "localaws.models.sts"),
        "moto.sts.models:STSBackend.get_assumed_role_from_access_key": ("349bd002b7f7768f", "localaws.models.sts"),
        "moto.sts.models:AssumedRole.__init__": ("7a9e804024b6075d", "localaws.models.sts"),
        "moto.cloudwatch.models:CloudWatchBackend.set_alarm_state": ("a25532144b2a458c", "localaws.models.cloudwatch"),
        "moto.cloudwatch.models:Alarm.update_state": ("9308fec8c5cd8039", "localaws.models.cloudwatch"),
        "moto.logs.models:LogGroup.__init__": ("fda907e3f5eb6ab6", "localaws.models.logs"),
        "moto.logs.models:LogGroup.create_from_cloudformation_json": ("982ddba0eb272674", "localaws.models.logs"),
        "moto.secretsmanager.models:SecretsManagerBackend.update_secret_version_stage": (
            "76b4706cf62c231c",
            "localaws.models.secretsmanager",
        ),
        "moto.secretsmanager.models:SecretsManagerBackend.get_secret_value": (
            "0e8d6dd1c2a3ff5c",
            "localaws.models.secretsmanager",
        ),
        "moto.rds.models:RDSBackend.modify_db_instance": ("0b803596e3167fd4", "localaws.models.offerings"),
        "moto.rds.models:DBInstance.update": ("4de749ef21d736a8", "localaws.models.rds"),
        "moto.awslambda.models:_validate_s3_bucket_and_key": ("dc37ce720183bf87", "localaws.models.awslambda"),
        "moto.awslambda.models:do_validate_s3": ("1bb9c09f20aef396", "localaws.models.awslambda"),
        "moto.rds.responses:RDSResponse.describe_orderable_db_instance_options": (
            "1a383ad763b7a28e",
            "localaws.models.offerings",
        ),
    }
)
SIGNATURES.update(
    {
        "moto.cloudwatch.models:CloudWatchBackend.put_metric_alarm": (
            (
                "name",
                "namespace",
                "metric_name",
                "comparison_operator",
                "evaluation_periods",
                "period",
                "threshold",
                "statistic",
                "description",
                "dimensions",
                "alarm_actions",
                "metric_data_queries",
                "datapoints_to_alarm",
                "extended_statistic",
                "ok_actions",
                "insufficient_data_actions",
                "unit",
                "actions_enabled",
                "treat_missing_data",
                "evaluate_low_sample_count_percentile",
                "threshold_metric_id",
                "rule",
                "tags",
            ),
            "localaws.models.cloudwatch",
        ),
        "moto.cloudwatch.models:MetricDataQuery.__init__": (
            ("query_id", "label", "period", "return_data", "expression", "metric_stat"),
            "localaws.models.cloudwatch",
        ),
        "moto.cloudwatch.models:MetricStat.__init__": (
            ("metric", "period", "stat", "unit"),
            "localaws.models.cloudwatch",
        ),
        "moto.cloudwatch.models:Metric.__init__": (
            ("metric_name", "namespace", "dimensions"),
            "localaws.models.cloudwatch",
        ),
        "moto.ec2.models:EC2Backend.authorize_security_group_ingress": (
            (
                "group_name_or_id",
                "ip_protocol",
                "from_port",
                "to_port",
                "ip_ranges",
                "sgrule_tags",
                "source_groups",
                "prefix_list_ids",
                "security_rule_ids",
                "vpc_id",
            ),
            "localaws.models.custom_resources",
        ),
        "moto.ec2.models:EC2Backend.authorize_security_group_egress": (
            (
                "group_name_or_id",
                "ip_protocol",
                "from_port",
                "to_port",
                "ip_ranges",
                "sgrule_tags",
                "source_groups",
                "prefix_list_ids",
                "security_rule_ids",
                "vpc_id",
            ),
            "localaws.models.custom_resources",
        ),
        "moto.ec2.models:EC2Backend.revoke_security_group_ingress": (
            (
                "group_name_or_id",
                "ip_protocol",
                "from_port",
                "to_port",
                "ip_ranges",
                "source_groups",
                "prefix_list_ids",
                "security_rule_ids",
                "vpc_id",
            ),
            "localaws.models.custom_resources",
        ),
        "moto.ec2.models:EC2Backend.revoke_security_group_egress": (
            (
                "group_name_or_id",
                "ip_protocol",
                "from_port",
                "to_port",
                "ip_ranges",
                "source_groups",
                "prefix_list_ids",
                "security_rule_ids",
                "vpc_id",
            ),
            "localaws.models.custom_resources",
        ),
        "moto.ec2.models:EC2Backend.get_security_group_from_name": (("name", "vpc_id"), "localaws.models.ec2"),
        "moto.logs.models:LogsBackend.create_log_group": (("log_group_name", "tags", "kwargs"), "localaws.models.logs"),
        "moto.logs.models:LogsBackend.tag_resource": (("arn", "tags"), "localaws.models.logs"),
        "moto.awslambda.models:LambdaBackend.get_function": (
            ("function_name_or_arn", "qualifier"),
            "localaws.models.custom_resources",
        ),
    }
)


def _resolve(dotted: str) -> Any:
    module, _, attribute_path = dotted.partition(":")
    target: Any = importlib.import_module(module)
    for part in attribute_path.split("."):
        target = getattr(target, part)
    return inspect.unwrap(getattr(target, "__func__", target))


def source_hash(dotted: str) -> str:
    return hashlib.sha256(inspect.getsource(_resolve(dotted)).encode()).hexdigest()[:16]


def parameters(dotted: str) -> tuple[str, ...]:
    return tuple(p for p in inspect.signature(_resolve(dotted)).parameters if p != "self")


def problems() -> list[str]:
    """Every pinned internal that differs from the installed moto, as one sentence each (empty: all as pinned)."""
    import moto

    found = []
    if moto.__version__ != MOTO_VERSION:
        found.append(f"moto is {moto.__version__}, localaws is pinned to {MOTO_VERSION}")
    for dotted, (expected, user) in SOURCES.items():
        actual = source_hash(dotted)
        if actual != expected:
            found.append(f"moto changed {dotted} (source {actual}, pinned {expected}): re-check {user}")
    for dotted, (expected_parameters, user) in SIGNATURES.items():
        actual_parameters = parameters(dotted)
        if actual_parameters != expected_parameters:
            found.append(f"moto changed the parameters of {dotted} to {actual_parameters}: re-check {user}")
    return found
