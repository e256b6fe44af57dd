"""RDS: moto's `AWS::RDS::DBInstance` model drops `DeletionProtection`, `EnableIAMDatabaseAuthentication`, log exports,
`MaxAllocatedStorage` and the given `DBInstanceIdentifier`, takes the parameter group object for its name, and leaves
the password's `{{resolve:secretsmanager:...}}` unresolved. Created through the RDS backend with all of them (and
enhanced monitoring's interval and role), the dynamic references resolved as CloudFormation does.

moto has no update for it (an update was silently lost): here the properties CloudFormation updates in place
(`IN_PLACE`, applied with ModifyDBInstance and ApplyImmediately, so RDS's own rules hold, e.g. an engine version must
be a valid upgrade target: localaws.models.offerings) are applied; localaws.models.updates replaces the instance for a
create-only property and refuses a change of any other property. No database engine runs: the rehearsal plays the
instance with a local PostgreSQL (localaws.rehearsal.database)."""

from __future__ import annotations

from typing import Any

from moto.rds import models as rds_models
from moto.rds.models import rds_backends

from localaws.models.base import flag, resolve_dynamic_references, tags

# CloudFormation property -> (ModifyDBInstance argument, conversion): what an update changes in place.
IN_PLACE: dict[str, tuple[str, Any]] = {
    "AllocatedStorage": ("allocated_storage", int),
    "MaxAllocatedStorage": ("max_allocated_storage", int),
    "BackupRetentionPeriod": ("backup_retention_period", int),
    "DBInstanceClass": ("db_instance_class", str),
    "EngineVersion": ("engine_version", str),
    "MultiAZ": ("multi_az", flag),
    "DeletionProtection": ("deletion_protection", flag),
    "AutoMinorVersionUpgrade": ("auto_minor_version_upgrade", flag),
    "CopyTagsToSnapshot": ("copy_tags_to_snapshot", flag),
    "EnableIAMDatabaseAuthentication": ("enable_iam_database_authentication", flag),
    "PreferredBackupWindow": ("preferred_backup_window", str),
    "PreferredMaintenanceWindow": ("preferred_maintenance_window", lambda v: str(v).lower()),
    "MonitoringInterval": ("monitoring_interval", int),
    "MonitoringRoleArn": ("monitoring_role_arn", str),
    "StorageType": ("storage_type", str),
    "VPCSecurityGroups": ("vpc_security_group_ids", list),
    "Tags": ("tags", lambda value: tags({"Tags": value})),
}


def _create_db_instance(
    cls: type[rds_models.DBInstance],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> rds_models.DBInstance:
    """An RDS instance with every property the template sets (moto's model drops several, see the docstring)."""
    props = cloudformation_json["Properties"]

    def name_of(value: Any) -> str | None:
        return getattr(value, "name", value)

    password = props.get("MasterUserPassword")
    if password is not None:
        password = resolve_dynamic_references(password, account_id, region_name)
    username = props.get("MasterUsername")
    if username is not None:
        username = resolve_dynamic_references(username, account_id, region_name)
    db_kwargs = {
        "db_instance_identifier": props.get("DBInstanceIdentifier", resource_name).replace("_", "-").lower(),
        "db_instance_class": props.get("DBInstanceClass"),
        "engine": props.get("Engine"),
        "engine_version": props.get("EngineVersion"),
        "port": int(props.get("Port", 5432 if props.get("Engine") == "postgres" else 3306)),
        "allocated_storage": int(props.get("AllocatedStorage", 20)),
        "max_allocated_storage": int(props["MaxAllocatedStorage"]) if "MaxAllocatedStorage" in props else None,
        "backup_retention_period": int(props.get("BackupRetentionPeriod", 1)),
        "auto_minor_version_upgrade": flag(props.get("AutoMinorVersionUpgrade", True)),
        "db_name": props.get("DBName"),
        "db_subnet_group_name": name_of(props.get("DBSubnetGroupName")),
        "db_parameter_group_name": name_of(props.get("DBParameterGroupName")),
        "copy_tags_to_snapshot": flag(props.get("CopyTagsToSnapshot", False)),
        "master_username": username,
        "master_user_password": password,
        "multi_az": flag(props.get("MultiAZ", False)),
        "preferred_backup_window": props.get("PreferredBackupWindow", "13:14-13:44"),
        "preferred_maintenance_window": props.get("PreferredMaintenanceWindow", "wed:06:38-wed:07:08").lower(),
        "publicly_accessible": flag(props.get("PubliclyAccessible", False)),
        "storage_type": props.get("StorageType"),
        "storage_encrypted": flag(props.get("StorageEncrypted", False)),
        "kms_key_id": props.get("KmsKeyId"),
        "tags": tags(props),
        "vpc_security_group_ids": props.get("VPCSecurityGroups", props.get("VpcSecurityGroupIds", [])),
        "deletion_protection": flag(props.get("DeletionProtection", False)),
        "enable_cloudwatch_logs_exports": props.get("EnableCloudwatchLogsExports", []),
        "enable_iam_database_authentication": flag(props.get("EnableIAMDatabaseAuthentication", False)),
        "availability_zone": props.get("AvailabilityZone"),
        "monitoring_interval": int(props.get("MonitoringInterval", 0)),
        "monitoring_role_arn": props.get("MonitoringRoleArn"),
    }
    return rds_backends[account_id][region_name].create_db_instance(db_kwargs)


def _update_db_instance(
    cls: type[rds_models.DBInstance],
    original_resource: rds_models.DBInstance,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> rds_models.DBInstance:
    """The in-place properties (IN_PLACE) applied with ModifyDBInstance, immediately."""
    props = cloudformation_json["Properties"]
    changes: dict[str, Any] = {"apply_immediately": True}
    for prop, (argument, convert) in IN_PLACE.items():
        if prop in props:
            changes[argument] = convert(props[prop])
    backend = rds_backends[account_id][region_name]
    return backend.modify_db_instance(original_resource.db_instance_identifier, changes)


def patch() -> None:
    rds_models.DBInstance.create_from_cloudformation_json = classmethod(_create_db_instance)  # type: ignore[assignment]
    rds_models.DBInstance.update_from_cloudformation_json = classmethod(_update_db_instance)  # type: ignore[assignment]
