"""Cache: the ElastiCache Redis replication group holding the latest reading per sensor.

Provisions Redis in the private subnets with encryption at rest (customer-managed KMS key) and in transit (TLS),
an AUTH token generated into Secrets Manager (encrypted with the same key) and passed to ElastiCache as a dynamic
reference (never in the template), and Multi-AZ with automatic failover where the environment's config asks for it.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from lib.cdk_enums import REMOVAL_POLICY
from lib.compliance import acknowledge
from lib.keys import customer_managed_key
from lib.security_groups import REDIS_PORT
from platform_config import EnvironmentSettings


class Cache(Construct):
    """Encrypted Redis replication group with an AUTH token from Secrets Manager."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        cache = settings.cache
        removal = REMOVAL_POLICY[settings.removal_policy]
        self.key = customer_managed_key(self, "Key", purpose="ElastiCache Redis data at rest", settings=settings)
        self.auth_token = secretsmanager.Secret(
            self,
            "AuthToken",
            description=f"AUTH token of the IoT platform Redis ({settings.name})",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            encryption_key=self.key,
            removal_policy=removal,
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description="Private subnets of the IoT platform Redis",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
        )
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_description=f"IoT platform latest readings ({settings.name})",
            engine="redis",
            engine_version=cache.engine_version,
            cache_node_type=cache.node_type,
            num_cache_clusters=cache.num_cache_clusters,
            multi_az_enabled=cache.multi_az,
            automatic_failover_enabled=cache.multi_az,
            port=REDIS_PORT,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[security_group.security_group_id],
            at_rest_encryption_enabled=True,
            kms_key_id=self.key.key_id,
            transit_encryption_enabled=True,
            auth_token=self.auth_token.secret_value.unsafe_unwrap(),
            snapshot_retention_limit=cache.snapshot_retention_days,
            auto_minor_version_upgrade=True,
        )
        self.replication_group.apply_removal_policy(removal)
        self.endpoint_address = self.replication_group.attr_primary_end_point_address
        self.endpoint_port = self.replication_group.attr_primary_end_point_port
        acknowledge(
            self.replication_group,
            "Redis listens on 6379 as the processor's container contract (REDIS_PORT) expects; it is reachable only "
            "from the processor security group, requires TLS and an AUTH token, so a non-default port adds nothing.",
            "AwsSolutions-AEC5",
        )
        acknowledge(
            self.auth_token,
            "ElastiCache only accepts a new AUTH token through a coordinated ModifyReplicationGroup (ROTATE then SET), "
            "which Secrets Manager's rotation Lambdas do not perform; the token is long, random and never leaves "
            "Secrets Manager and ECS secrets.",
            "AwsSolutions-SMG4",
        )
        if not cache.multi_az:
            acknowledge(
                self.replication_group,
                f"The {settings.name} environment runs a single Redis node by configuration (cache.multi_az=false); "
                "Redis only caches the latest reading, which the consumer rewrites from the stream.",
                "AwsSolutions-AEC4",
            )
