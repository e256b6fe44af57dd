"""Elastic Load Balancing: moto's `AWS::ElasticLoadBalancingV2::LoadBalancer` model ignores `Type` and makes the
internal NLB an application load balancer, which then rejects the TCP listener; created with its type, scheme and
tags. No traffic flows through it: the rehearsal's API data plane calls `serve` directly."""

from __future__ import annotations

from typing import Any

from moto.elbv2 import models as elbv2_models

from localaws.models.base import tags


def _create_load_balancer(
    cls: type[elbv2_models.FakeLoadBalancer],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> elbv2_models.FakeLoadBalancer:
    """A load balancer of the template's `Type` (moto's model makes every one an application load balancer)."""
    props = cloudformation_json["Properties"]
    return elbv2_models.elbv2_backends[account_id][region_name].create_load_balancer(
        name=props.get("Name", resource_name),
        security_groups=props.get("SecurityGroups", []),
        subnet_ids=props.get("Subnets", []),
        subnet_mappings=props.get("SubnetMappings"),
        scheme=props.get("Scheme", "internet-facing"),
        loadbalancer_type=props.get("Type", "application"),
        ip_address_type=props.get("IpAddressType", "ipv4"),
        tags=tags(props),
    )


def patch() -> None:
    elbv2_models.FakeLoadBalancer.create_from_cloudformation_json = classmethod(  # type: ignore[assignment]
        _create_load_balancer
    )
