"""Database: the RDS PostgreSQL 15 instance that stores readings and the consumer's shard checkpoints.

Provisions PostgreSQL (version and instance class from config) in isolated subnets, storage encrypted with a
customer-managed KMS key, TLS enforced through the parameter group (`rds.force_ssl`), PostgreSQL and upgrade logs
exported to encrypted CloudWatch log groups, enhanced monitoring where configured, and Multi-AZ, backups, deletion
protection and removal policy per environment. Minor versions are upgraded by RDS itself.

Two secrets, both encrypted with the database's key and rotated every `rotation_days` inside the VPC:
- the master user's, by the single-user rotation function; only the processor's `db-setup` init container reads it,
  to create the application user once;
- the application user's (`app_username`), by the alternating-users rotation function: the previous credentials stay
  valid until the rotation after next, and the processor re-reads the secret when a login fails, so a rotation never
  needs a restart. Its first rotation waits one period (not at creation), after `db-setup` has created the user.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from lib.cdk_enums import REMOVAL_POLICY
from lib.compliance import acknowledge
from lib.keys import customer_managed_key
from lib.platform_logs import PlatformLogs
from platform_config import EnvironmentSettings
from platform_config.naming import database_identifier

LOG_EXPORTS = ("postgresql", "upgrade")


class Database(Construct):
    """RDS PostgreSQL with a CMK, forced TLS, exported logs, and the master and application secrets, both rotating."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        logs: PlatformLogs,
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
        self.identifier = database_identifier(settings.name)
        log_groups = [
            logs.group(self, f"{log_type.capitalize()}Logs", name=f"/aws/rds/instance/{self.identifier}/{log_type}")
            for log_type in LOG_EXPORTS
        ]
        monitoring = Duration.seconds(db.monitoring_interval_seconds) if db.monitoring_interval_seconds else None
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
            credentials=rds.Credentials.from_generated_secret(db.username, encryption_key=self.key),
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
            monitoring_interval=monitoring,
            iam_authentication=False,  # every login is a rotating password user; no second way in
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            publicly_accessible=False,
        )
        self.instance.node.add_dependency(*log_groups)
        secret = self.instance.secret
        assert secret is not None  # generated credentials always produce a secret
        self.secret: secretsmanager.ISecret = secret
        rotation_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.rotation = self.instance.add_rotation_single_user(
            automatically_after=Duration.days(db.rotation_days),
            security_group=rotation_security_group,
            vpc_subnets=rotation_subnets,
        )
        self.app_secret = rds.DatabaseSecret(
            self, "AppSecret", username=db.app_username, master_secret=self.secret, encryption_key=self.key
        ).attach(self.instance)
        self.app_rotation = self.instance.add_rotation_multi_user(
            "AppUserRotation",
            secret=self.app_secret,
            automatically_after=Duration.days(db.rotation_days),
            security_group=rotation_security_group,
            vpc_subnets=rotation_subnets,
            rotate_immediately_on_update=False,
        )
        self._acknowledge(settings)

    def _acknowledge(self, settings: EnvironmentSettings) -> None:
        db = settings.database
        acknowledge(
            self.instance,
            "PostgreSQL listens on 5432 because the processor's container contract (DB_PORT) and the security-group "
            "data path are defined on it; the instance is in isolated subnets and reachable only from the processor "
            "and rotation security groups, so a non-default port would add no protection.",
            "AwsSolutions-RDS11",
        )
        if (monitoring_role := self.instance.node.try_find_child("MonitoringRole")) is not None:
            acknowledge(
                monitoring_role,
                "Enhanced monitoring (database.monitoring_interval_seconds) needs RDS's own service role policy "
                "AmazonRDSEnhancedMonitoringRole, which only lets RDS publish OS metrics to CloudWatch Logs.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
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
