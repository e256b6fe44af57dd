"""The network a security reviewer checks first: the VPC's default security group allows nothing (CDK's
restrict_default_security_group removes its rules: any resource that falls back to it is isolated)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.smoke


def test_the_vpcs_default_security_group_has_no_rules(aws, output) -> None:
    (group,) = aws("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [output("VpcId")]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    assert group["IpPermissions"] == [], f"default security group {group['GroupId']} allows inbound traffic"
    assert group["IpPermissionsEgress"] == [], f"default security group {group['GroupId']} allows outbound traffic"
