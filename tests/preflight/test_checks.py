"""Cache and quota pre-flight checks against realistic AWS answers: each failure is one sentence naming the setting to
change (the PostgreSQL checks are in test_postgres.py)."""

from __future__ import annotations

import boto3
from moto import mock_aws

from platform_config import EnvironmentSettings
from preflight import checks
from preflight.results import FAIL, PASS, guarded
from tests.preflight.conftest import (
    REGION,
    StubbedSession,
    cache_engine_version,
    quota,
    reserved_offering,
)


def test_redis_version_offered_and_not(session: StubbedSession, staging: EnvironmentSettings) -> None:
    stub = session.stub("elasticache")
    versions = {"CacheEngineVersions": [cache_engine_version(v) for v in ("6.0", "6.2", "7.0", "7.1")]}
    stub.add_response("describe_cache_engine_versions", versions, {"Engine": "redis"})
    stub.add_response("describe_cache_engine_versions", versions, {"Engine": "redis"})
    client = session.client("elasticache")
    assert checks.check_redis_version(client, staging).status == PASS
    env = staging.model_copy(update={"cache": staging.cache.model_copy(update={"engine_version": "7.2"})})
    result = checks.check_redis_version(client, env)
    assert result.status == FAIL
    assert result.message.startswith("environments.staging.cache.engine_version is 7.2, which ElastiCache does not")
    assert "such as 7.1, 7.0, 6.2, 6.0." in result.message


def test_cache_node_type(session: StubbedSession, staging: EnvironmentSettings) -> None:
    stub = session.stub("elasticache")
    stub.add_response(
        "describe_reserved_cache_nodes_offerings",
        {"ReservedCacheNodesOfferings": [reserved_offering("cache.t4g.small")]},
        {"CacheNodeType": "cache.t4g.small", "ProductDescription": "redis", "MaxRecords": 20},
    )
    stub.add_client_error(
        "describe_reserved_cache_nodes_offerings",
        service_error_code="InvalidParameterValue",
        service_message="Invalid cache node type: cache.t9.small",
        http_status_code=400,
    )
    client = session.client("elasticache")
    assert checks.check_cache_node_type(client, staging).status == PASS
    env = staging.model_copy(update={"cache": staging.cache.model_copy(update={"node_type": "cache.t9.small"})})
    result = checks.check_cache_node_type(client, env)
    assert result.status == FAIL
    assert result.message.startswith("environments.staging.cache.node_type is cache.t9.small, which ElastiCache")


@mock_aws
def test_vpc_quota_full(session: StubbedSession, staging: EnvironmentSettings) -> None:
    """moto's EC2 (a default VPC plus four more: five used) against the default quota of five."""
    ec2 = boto3.client("ec2", region_name=REGION)
    for n in range(4):
        ec2.create_vpc(CidrBlock=f"10.{100 + n}.0.0/16")
    session.stub("service-quotas").add_response(
        "get_service_quota",
        quota("vpc", "L-F678F1CE", "VPCs per Region", 5.0),
        {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"},
    )
    result = checks.check_vpc_quota(ec2, session.client("service-quotas"), staging, "Staging-Platform")
    assert result.status == FAIL
    assert result.message == (
        "environments.staging needs 1 new VPC but account 333333333333 already uses 5 of its 5 VPCs in us-east-1; "
        "delete an unused VPC or request a higher 'VPCs per Region' quota (L-F678F1CE)."
    )


@mock_aws
def test_vpc_quota_not_needed_when_the_stack_has_its_vpc(session: StubbedSession, staging: EnvironmentSettings) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    for n in range(4):
        vpc = ec2.create_vpc(CidrBlock=f"10.{100 + n}.0.0/16")["Vpc"]
    ec2.create_tags(
        Resources=[vpc["VpcId"]], Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "Staging-Platform"}]
    )
    stub = session.stub("service-quotas")
    stub.add_client_error(
        "get_service_quota",
        service_error_code="NoSuchResourceException",
        service_message="The request failed because the specified service quota does not exist.",
        http_status_code=400,
    )
    stub.add_response(
        "get_aws_default_service_quota",
        quota("vpc", "L-F678F1CE", "VPCs per Region", 5.0),
        {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"},
    )
    result = checks.check_vpc_quota(ec2, session.client("service-quotas"), staging, "Staging-Platform")
    assert result.status == PASS, result.message


@mock_aws
def test_elastic_ips_for_nat_gateways(session: StubbedSession, prod: EnvironmentSettings) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    for _ in range(3):
        ec2.allocate_address(Domain="vpc")
    stub = session.stub("service-quotas")
    answer = quota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5.0)
    stub.add_response("get_service_quota", answer, {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"})
    stub.add_response("get_service_quota", answer, {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"})
    quotas = session.client("service-quotas")
    result = checks.check_elastic_ip_quota(ec2, quotas, prod, "Prod-Platform")
    assert result.status == FAIL
    assert result.message == (
        "environments.prod.network.nat_gateways is 3, which needs 3 new Elastic IPs but account 444444444444 uses 3 "
        "of its 5 in us-east-1; lower network.nat_gateways, release unused addresses or request a higher "
        "'EC2-VPC Elastic IPs' quota (L-0263D0A3)."
    )
    ec2.release_address(AllocationId=ec2.describe_addresses()["Addresses"][0]["AllocationId"])
    assert checks.check_elastic_ip_quota(ec2, quotas, prod, "Prod-Platform").status == PASS


def test_refused_call_is_one_sentence(session: StubbedSession, staging: EnvironmentSettings) -> None:
    session.stub("elasticache").add_client_error(
        "describe_cache_engine_versions",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:sts::333333333333:assumed-role/x/y is not authorized to perform: "
        "elasticache:DescribeCacheEngineVersions",
        http_status_code=403,
    )
    result = guarded("redis-version", lambda: checks.check_redis_version(session.client("elasticache"), staging))
    assert result.status == FAIL
    assert result.message == (
        "DescribeCacheEngineVersions was refused (AccessDenied: User: arn:aws:sts::333333333333:assumed-role/x/y is "
        "not authorized to perform: elasticache:DescribeCacheEngineVersions); give the pre-flight role read access "
        "to it (the CDK bootstrap lookup role has it)."
    )
