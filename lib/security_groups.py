"""Security groups: the platform's data path, opened exactly and nothing else.

Provisions one security group per role and opens only: service→PostgreSQL 5432, service→Redis 6379,
service→EFS 2049, NLB→serve 8080, plus what the data path itself requires: the secret-rotation Lambda→PostgreSQL 5432
and HTTPS from tasks and the rotation Lambda to the interface VPC endpoints. Outbound is restricted on every group;
the tasks and the rotation Lambda may reach HTTPS (443) for AWS APIs and the ECR image layers in S3.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

POSTGRES_PORT = 5432
REDIS_PORT = 6379
NFS_PORT = 2049
SERVE_PORT = 8080
HTTPS_PORT = 443


class SecurityGroups(Construct):
    """Security groups of the tasks, NLB, database, cache, file system and rotation Lambda."""

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, endpoints: ec2.ISecurityGroup) -> None:
        super().__init__(scope, construct_id)

        def group(name: str, description: str) -> ec2.SecurityGroup:
            return ec2.SecurityGroup(self, name, vpc=vpc, description=description, allow_all_outbound=False)

        self.service = group("Service", "processor consume and serve tasks")
        self.load_balancer = group("LoadBalancer", "internal NLB in front of processor serve (API Gateway VPC link)")
        self.database = group("Database", "RDS PostgreSQL: from the processor tasks and the rotation Lambda")
        self.cache = group("Cache", "ElastiCache Redis: from the processor tasks")
        self.file_system = group("FileSystem", "EFS: NFS from the processor tasks")
        self.rotation = group("Rotation", "Secrets Manager rotation Lambda for the database credentials")

        postgres = ec2.Port.tcp(POSTGRES_PORT)
        self.database.add_ingress_rule(self.service, postgres, "processor tasks to PostgreSQL")
        self.service.add_egress_rule(self.database, postgres, "processor tasks to PostgreSQL")
        # rotation Lambda -> PostgreSQL is opened by Database (add_rotation_single_user) on the instance's port.

        redis = ec2.Port.tcp(REDIS_PORT)
        self.cache.add_ingress_rule(self.service, redis, "processor tasks to Redis")
        self.service.add_egress_rule(self.cache, redis, "processor tasks to Redis")

        nfs = ec2.Port.tcp(NFS_PORT)
        self.file_system.add_ingress_rule(self.service, nfs, "processor tasks to EFS")
        self.service.add_egress_rule(self.file_system, nfs, "processor tasks to EFS")

        serve = ec2.Port.tcp(SERVE_PORT)
        self.service.add_ingress_rule(self.load_balancer, serve, "NLB to processor serve")
        self.load_balancer.add_egress_rule(self.service, serve, "NLB to processor serve")

        https = ec2.Port.tcp(HTTPS_PORT)
        for client, what in ((self.service, "processor tasks"), (self.rotation, "rotation Lambda")):
            endpoints.add_ingress_rule(client, https, f"{what} to interface VPC endpoints")
            client.add_egress_rule(ec2.Peer.any_ipv4(), https, f"{what} to AWS APIs and ECR layers over HTTPS")
