"""File storage: the encrypted, backed-up EFS and the processor's access point (lib/file_storage.py)."""

from __future__ import annotations

from tests.assembly import Synth
from tests.unit.templates import only


def test_efs_encrypted_backed_up_with_access_point(synth: Synth) -> None:
    for env, policy in (("dev", "Delete"), ("staging", "Delete"), ("prod", "Retain")):
        fs = only(synth.resources(env, "AWS::EFS::FileSystem"))
        assert fs["DeletionPolicy"] == policy
        props = fs["Properties"]
        assert props["Encrypted"] is True
        assert "KmsKeyId" in props
        assert props["BackupPolicy"] == {"Status": "ENABLED"}
        assert {"TransitionToIA": "AFTER_7_DAYS" if env == "dev" else "AFTER_30_DAYS"} in props["LifecyclePolicies"]
        ap = only(synth.resources(env, "AWS::EFS::AccessPoint"))["Properties"]
        assert ap["PosixUser"] == {"Uid": "1000", "Gid": "1000"}
        assert ap["RootDirectory"]["Path"] == "/iot"
        assert ap["RootDirectory"]["CreationInfo"] == {"OwnerUid": "1000", "OwnerGid": "1000", "Permissions": "750"}
