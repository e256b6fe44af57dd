"""EFS: moto's `AWS::EFS::FileSystem` and `::AccessPoint` models answer no `Fn::GetAtt` (and `Ref` of an access point
is the Python object); `Arn` and the ids are answered from the backend's objects. The rehearsal mounts a local
directory in place of the file system."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.efs import models as efs_models


def _efs_attribute(self: Any, attribute_name: str) -> Any:
    """`Fn::GetAtt` of EFS file systems and access points (moto's models have none)."""
    attributes = {
        "Arn": getattr(self, "file_system_arn", None) or getattr(self, "access_point_arn", None),
        "FileSystemId": getattr(self, "file_system_id", None),
        "AccessPointId": getattr(self, "access_point_id", None),
    }
    if attributes.get(attribute_name) is None:
        raise ValidationError(message=f"EFS resource has no attribute {attribute_name}")
    return attributes[attribute_name]


def patch() -> None:
    for model in (efs_models.FileSystem, efs_models.AccessPoint):
        model.get_cfn_attribute = _efs_attribute  # type: ignore[attr-defined]
        model.has_cfn_attr = classmethod(lambda cls, attr: attr in ("Arn", "FileSystemId", "AccessPointId"))
    efs_models.AccessPoint.physical_resource_id = property(lambda self: self.access_point_id)  # type: ignore[attr-defined]
