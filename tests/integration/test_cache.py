"""ElastiCache Redis: available, encrypted at rest and in transit, AUTH on (the token itself: test_secret_values.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def replication_group(aws, output) -> dict:
    # A TLS replication group's primary endpoint is master.<replication-group-id>.<hash>.<region>.cache.amazonaws.com
    group_id = output("RedisEndpoint").split(".")[1]
    (group,) = aws("elasticache").describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"]
    assert group["NodeGroups"][0]["PrimaryEndpoint"]["Address"] == output("RedisEndpoint")
    return group


def test_redis_is_available_with_configured_shape(replication_group, output, settings) -> None:
    assert replication_group["Status"] == "available"
    assert replication_group["CacheNodeType"] == settings.cache.node_type
    assert len(replication_group["MemberClusters"]) == settings.cache.num_cache_clusters
    assert replication_group["MultiAZ"] == ("enabled" if settings.cache.multi_az else "disabled")
    assert str(replication_group["NodeGroups"][0]["PrimaryEndpoint"]["Port"]) == output("RedisPort")


def test_redis_encrypts_at_rest_and_in_transit(replication_group, output) -> None:
    assert replication_group["AtRestEncryptionEnabled"] is True, "Redis encryption at rest is off"
    assert replication_group["TransitEncryptionEnabled"] is True, "Redis encryption in transit is off"
    assert output("CacheKeyArn").endswith(replication_group["KmsKeyId"].split("/")[-1])


def test_redis_requires_auth(replication_group) -> None:
    assert replication_group["AuthTokenEnabled"] is True, "Redis AUTH is off"
