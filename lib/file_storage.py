"""File storage: the EFS file system where the consumer writes dead-letter files.

Provisions EFS encrypted with a customer-managed KMS key, automatic backups, a lifecycle policy that moves cold
dead letters to Infrequent Access, and one access point (uid/gid 1000, root /iot) so the processor never sees or
writes outside its own directory. Mounts require TLS and IAM authorization (see processing_service).
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from constructs import Construct

from lib.cdk_enums import REMOVAL_POLICY
from lib.keys import customer_managed_key
from platform_config import EnvironmentSettings

PROCESSOR_UID = "1000"
ACCESS_POINT_PATH = "/iot"

_LIFECYCLE = {
    1: efs.LifecyclePolicy.AFTER_1_DAY,
    7: efs.LifecyclePolicy.AFTER_7_DAYS,
    14: efs.LifecyclePolicy.AFTER_14_DAYS,
    30: efs.LifecyclePolicy.AFTER_30_DAYS,
    60: efs.LifecyclePolicy.AFTER_60_DAYS,
    90: efs.LifecyclePolicy.AFTER_90_DAYS,
}


class FileStorage(Construct):
    """CMK-encrypted EFS with backups, lifecycle policy and the processor's access point."""

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
        fs = settings.file_storage
        self.key = customer_managed_key(self, "Key", purpose="EFS dead-letter files", settings=settings)
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_group=security_group,
            encrypted=True,
            kms_key=self.key,
            enable_automatic_backups=True,
            lifecycle_policy=_LIFECYCLE[fs.transition_to_ia_days],
            out_of_infrequent_access_policy=efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            allow_anonymous_access=False,
            removal_policy=REMOVAL_POLICY[fs.removal_policy],
        )
        self.access_point = self.file_system.add_access_point(
            "ProcessorAccessPoint",
            path=ACCESS_POINT_PATH,
            posix_user=efs.PosixUser(uid=PROCESSOR_UID, gid=PROCESSOR_UID),
            create_acl=efs.Acl(owner_uid=PROCESSOR_UID, owner_gid=PROCESSOR_UID, permissions="750"),
        )
