"""EC2: route-table associations and VPC DNS attributes.

- `AWS::EC2::SubnetRouteTableAssociation`: moto's model records the association aside from the route table, so
  `describe_route_tables` shows no subnet in any table; associated through `AssociateRouteTable` as AWS does.
- `AWS::EC2::VPC`: moto's model ignores `EnableDnsSupport` / `EnableDnsHostnames` (task ENIs then get no private DNS
  name and RunTask fails); both are applied. Its default security group gets AWS's default inbound rule (all traffic
  from the group itself) beside the outbound rule moto gives it, so restricting the group
  (localaws.models.custom_resources) has both to remove, as in AWS.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models import vpcs as ec2_vpcs

from localaws.models.base import Model, flag


class SubnetRouteTableAssociation(Model):
    """Associates the subnet with its route table (moto's model records it aside; describe_route_tables misses it)."""

    TYPE = "AWS::EC2::SubnetRouteTableAssociation"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> SubnetRouteTableAssociation:
        props = cloudformation_json["Properties"]
        association_id = ec2_backends[account_id][region_name].associate_route_table(
            route_table_id=props["RouteTableId"], subnet_id=props["SubnetId"]
        )
        return cls(association_id)


_original_vpc_create = ec2_vpcs.VPC.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_vpc(
    cls: type[ec2_vpcs.VPC],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> ec2_vpcs.VPC:
    """moto's VPC with the `EnableDnsSupport` / `EnableDnsHostnames` the template sets."""
    vpc = _original_vpc_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    props = cloudformation_json["Properties"]
    for prop, attribute in (("EnableDnsSupport", "enable_dns_support"), ("EnableDnsHostnames", "enable_dns_hostnames")):
        if prop in props:
            vpc.ec2_backend.modify_vpc_attribute(vpc.id, attribute, flag(props[prop]))
    default_group = vpc.ec2_backend.get_security_group_from_name("default", vpc_id=vpc.id)
    vpc.ec2_backend.authorize_security_group_ingress(
        group_name_or_id=default_group.id,
        ip_protocol="-1",
        from_port=None,
        to_port=None,
        ip_ranges=[],
        source_groups=[{"GroupId": default_group.id, "UserId": account_id}],
    )
    return vpc


MODELS = (SubnetRouteTableAssociation,)


def patch() -> None:
    ec2_vpcs.VPC.create_from_cloudformation_json = classmethod(_create_vpc)  # type: ignore[assignment]
