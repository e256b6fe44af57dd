"""EFS: available, encrypted, reachable from every private subnet."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.smoke


def private_subnets(aws, vpc_id: str) -> set[str]:
    """Subnets of the VPC whose route table sends 0.0.0.0/0 to a NAT gateway (private with egress)."""
    ec2 = aws("ec2")
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    subnets: set[str] = set()
    for table in tables:
        if any(r.get("NatGatewayId") and r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in table["Routes"]):
            subnets |= {a["SubnetId"] for a in table.get("Associations", []) if a.get("SubnetId")}
    return subnets


def test_file_system_is_available_and_encrypted(aws, output) -> None:
    fs = aws("efs").describe_file_systems(FileSystemId=output("FileSystemId"))["FileSystems"][0]
    assert fs["LifeCycleState"] == "available"
    assert fs["Encrypted"] is True, "EFS encryption is off"
    assert fs["KmsKeyId"] == output("FileSystemKeyArn")


def test_a_mount_target_in_every_private_subnet(aws, output, settings) -> None:
    expected = private_subnets(aws, output("VpcId"))
    assert len(expected) == len(settings.availability_zones)
    targets = aws("efs").describe_mount_targets(FileSystemId=output("FileSystemId"))["MountTargets"]
    assert {t["SubnetId"] for t in targets} == expected
    assert all(t["LifeCycleState"] == "available" for t in targets)


def test_processor_access_point(aws, output) -> None:
    points = aws("efs").describe_access_points(AccessPointId=output("FileSystemAccessPointId"))["AccessPoints"]
    assert points[0]["FileSystemId"] == output("FileSystemId")
    assert points[0]["RootDirectory"]["Path"] == "/iot"
