"""CloudWatch Logs: moto's `AWS::Logs::LogGroup` model drops `KmsKeyId` (it reads the API's `kmsKeyId` spelling) and
has no update. Created through the backend with the customer-managed key the template names, so `describe_log_groups`
shows `kmsKeyId` as in AWS; updated in place as CloudFormation does (`RetentionInDays` set or removed, `KmsKeyId`
associated or disassociated, tags); `LogGroupName` is create-only (localaws.models.updates replaces the group).
Not reproduced: encryption itself (events are stored in clear), and the key policy check AWS makes on association."""

from __future__ import annotations

from typing import Any

from moto.logs import models as logs_models
from moto.logs.models import logs_backends


def _create_log_group(
    cls: type[logs_models.LogGroup],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> logs_models.LogGroup:
    """A log group with its retention, tags and the KMS key the template names."""
    props = cloudformation_json["Properties"]
    tags = {tag["Key"]: tag["Value"] for tag in props.get("Tags", [])}
    options: dict[str, Any] = {"RetentionInDays": props.get("RetentionInDays"), "kmsKeyId": props.get("KmsKeyId")}
    return logs_backends[account_id][region_name].create_log_group(
        props.get("LogGroupName", resource_name), tags, **options
    )


def _update_log_group(
    cls: type[logs_models.LogGroup],
    original_resource: logs_models.LogGroup,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> logs_models.LogGroup:
    """In place: retention, key and tags, as PutRetentionPolicy, AssociateKmsKey and TagResource apply them."""
    props = cloudformation_json["Properties"]
    backend = logs_backends[account_id][region_name]
    group = backend.groups[original_resource.name]
    group.set_retention_policy(props.get("RetentionInDays"))
    group.kms_key_id = props.get("KmsKeyId")
    backend.tag_resource(group.arn, {tag["Key"]: tag["Value"] for tag in props.get("Tags", [])})
    return group


def patch() -> None:
    logs_models.LogGroup.create_from_cloudformation_json = classmethod(_create_log_group)  # type: ignore[assignment]
    logs_models.LogGroup.update_from_cloudformation_json = classmethod(_update_log_group)  # type: ignore[assignment]
