"""ElastiCache: `AWS::ElastiCache::SubnetGroup` and `::ReplicationGroup`, which moto's CloudFormation skips.

Created through moto's ElastiCache backend with every property the template sets (encryption at rest with its KMS key,
in transit, Multi-AZ, failover, node type, clusters); the AUTH token's dynamic reference is resolved against Secrets
Manager, so a missing secret fails the deployment. Not reproduced: nodes, failover, parameter groups.
"""

from __future__ import annotations

from typing import Any

from moto.elasticache.models import elasticache_backends

from localaws.models.base import Model, flag, resolve_dynamic_references, tags


class ElastiCacheSubnetGroup(Model):
    TYPE = "AWS::ElastiCache::SubnetGroup"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "CacheSubnetGroupName"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ElastiCacheSubnetGroup:
        props = cloudformation_json["Properties"]
        name = props.get("CacheSubnetGroupName", resource_name).lower()
        elasticache_backends[account_id][region_name].create_cache_subnet_group(
            cache_subnet_group_name=name,
            cache_subnet_group_description=props["Description"],
            subnet_ids=props["SubnetIds"],
            tags=tags(props),
        )
        return cls(name)


class ElastiCacheReplicationGroup(Model):
    TYPE = "AWS::ElastiCache::ReplicationGroup"
    ATTRIBUTES = (
        "PrimaryEndPoint.Address",
        "PrimaryEndPoint.Port",
        "ReaderEndPoint.Address",
        "ReaderEndPoint.Port",
    )

    @staticmethod
    def cloudformation_name_type() -> str:
        return "ReplicationGroupId"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ElastiCacheReplicationGroup:
        props = cloudformation_json["Properties"]
        group_id = props.get("ReplicationGroupId", resource_name).lower()[:40].rstrip("-")
        auth_token = props.get("AuthToken")
        if auth_token is not None:
            auth_token = resolve_dynamic_references(auth_token, account_id, region_name)
        group = elasticache_backends[account_id][region_name].create_replication_group(
            replication_group_id=group_id,
            replication_group_description=props["ReplicationGroupDescription"],
            global_replication_group_id=props.get("GlobalReplicationGroupId"),
            primary_cluster_id=props.get("PrimaryClusterId"),
            automatic_failover_enabled=flag(props.get("AutomaticFailoverEnabled", False)),
            multi_az_enabled=flag(props.get("MultiAZEnabled", False)),
            num_cache_clusters=int(props.get("NumCacheClusters", 1)),
            preferred_cache_cluster_azs=props.get("PreferredCacheClusterAZs", []),
            num_node_groups=int(props.get("NumNodeGroups", 1)),
            replicas_per_node_group=int(props.get("ReplicasPerNodeGroup", 0)),
            node_group_configuration=props.get("NodeGroupConfiguration", []),
            cache_node_type=props.get("CacheNodeType"),
            engine=props.get("Engine", "redis"),
            engine_version=props.get("EngineVersion"),
            cache_parameter_group_name=props.get("CacheParameterGroupName"),
            cache_subnet_group_name=props.get("CacheSubnetGroupName"),
            cache_security_group_names=props.get("CacheSecurityGroupNames", []),
            security_group_ids=props.get("SecurityGroupIds", []),
            tags=tags(props),
            snapshot_arns=props.get("SnapshotArns", []),
            snapshot_name=props.get("SnapshotName"),
            preferred_maintenance_window=props.get("PreferredMaintenanceWindow"),
            port=int(props.get("Port", 6379)),
            notification_topic_arn=props.get("NotificationTopicArn"),
            auto_minor_version_upgrade=flag(props.get("AutoMinorVersionUpgrade", True)),
            snapshot_retention_limit=int(props.get("SnapshotRetentionLimit", 0)),
            snapshot_window=props.get("SnapshotWindow"),
            auth_token=auth_token,
            transit_encryption_enabled=flag(props.get("TransitEncryptionEnabled", False)),
            at_rest_encryption_enabled=flag(props.get("AtRestEncryptionEnabled", False)),
            kms_key_id=props.get("KmsKeyId"),
            user_group_ids=props.get("UserGroupIds", []),
            log_delivery_configurations=props.get("LogDeliveryConfigurations", []),
            data_tiering_enabled=flag(props.get("DataTieringEnabled", False)),
            network_type=props.get("NetworkType"),
            ip_discovery=props.get("IpDiscovery"),
            transit_encryption_mode=props.get("TransitEncryptionMode"),
            cluster_mode=props.get("ClusterMode"),
            serverless_cache_snapshot_name=None,
        )
        node_group = group.node_groups[0]
        return cls(
            group_id,
            {
                "PrimaryEndPoint.Address": node_group["primary_endpoint_address"],
                "PrimaryEndPoint.Port": str(group.port),
                "ReaderEndPoint.Address": node_group["reader_endpoint_address"],
                "ReaderEndPoint.Port": str(group.port),
            },
        )


MODELS = (ElastiCacheSubnetGroup, ElastiCacheReplicationGroup)
