"""Database: the RDS PostgreSQL 15 instance that stores readings and the consumer's shard checkpoints.

Provisions PostgreSQL (minor version and instance class from config) in isolated subnets, storage encrypted with
a customer-managed KMS key, TLS enforced through the parameter group (`rds.force_ssl`), IAM authentication,
PostgreSQL and upgrade logs exported to CloudWatch Logs (log groups pre-created with retention), and Multi-AZ,
backups, deletion protection and removal policy per environment. The master credentials are generated into
Secrets Manager and rotated on a schedule by the single-user rotation Lambda running inside the VPC.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from lib.cdk_enums import REMOVAL_POLICY, retention
from lib.compliance import acknowledge
from lib.keys import customer_managed_key
from platform_config import EnvironmentSettings

LOG_EXPORTS = ("postgresql", "upgrade")


class Database(Construct):
    """RDS PostgreSQL with a CMK, forced TLS, IAM auth, exported logs and 30-day credential rotation."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        rotation_security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        db = settings.database
        self.key = customer_managed_key(
            self, "Key", purpose="RDS PostgreSQL storage of sensor readings", settings=settings
        )
        major = db.engine_version.split(".", 1)[0]
        engine = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.of(db.engine_version, major))
        parameter_group = rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            description="IoT platform PostgreSQL: TLS required for every connection",
            parameters={"rds.force_ssl": "1"},
        )
        self.identifier = f"iot-{settings.name}-postgres"
        for log_type in LOG_EXPORTS:
            logs.LogGroup(
                self,
                f"{log_type.capitalize()}Logs",
                log_group_name=f"/aws/rds/instance/{self.identifier}/{log_type}",
                retention=retention(settings.log_retention_days),
                removal_policy=REMOVAL_POLICY[settings.removal_policy],
            )
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            instance_identifier=self.identifier,
            engine=engine,
            instance_type=ec2.InstanceType(db.instance_type),
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[security_group],
            port=5432,
            database_name=db.database_name,
            credentials=rds.Credentials.from_generated_secret(db.username),
            storage_encrypted=True,
            storage_encryption_key=self.key,
            allocated_storage=db.allocated_storage_gib,
            max_allocated_storage=db.max_allocated_storage_gib,
            storage_type=rds.StorageType.GP3,
            multi_az=db.multi_az,
            backup_retention=Duration.days(db.backup_retention_days),
            deletion_protection=db.deletion_protection,
            removal_policy=REMOVAL_POLICY[db.removal_policy],
            parameter_group=parameter_group,
            cloudwatch_logs_exports=list(LOG_EXPORTS),
            iam_authentication=True,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            publicly_accessible=False,
        )
        self.instance.node.add_dependency(*[c for c in self.node.children if isinstance(c, logs.LogGroup)])
        secret = self.instance.secret
        assert secret is not None  # generated credentials always produce a secret
        self.secret: secretsmanager.ISecret = secret
        self.rotation = self.instance.add_rotation_single_user(
            automatically_after=Duration.days(db.rotation_days),
            security_group=rotation_security_group,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        )
        acknowledge(
            self.instance,
            "PostgreSQL listens on 5432 because the processor's container contract (DB_PORT) and the security-group "
            "data path are defined on it; the instance is in isolated subnets and reachable only from the processor "
            "and rotation security groups, so a non-default port would add no protection.",
            "AwsSolutions-RDS11",
        )
        if not db.multi_az:
            acknowledge(
                self.instance,
                f"The {settings.name} environment runs a single-AZ instance by configuration (database.multi_az=false) "
                "to keep non-production cost low; it holds only test readings that integration tests recreate.",
                "AwsSolutions-RDS3",
            )
        if not db.deletion_protection:
            acknowledge(
                self.instance,
                f"The {settings.name} environment is torn down and recreated by the pipeline, so deletion protection "
                "is off by configuration (database.deletion_protection=false); prod keeps it on.",
                "AwsSolutions-RDS10",
            )
