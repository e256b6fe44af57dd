"""Security groups open exactly the data path (lib/security_groups.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.assembly import ENVIRONMENTS, Synth


def _group_name(synth: Synth, env: str, ref: Any) -> str:
    logical_id = ref["Fn::GetAtt"][0]
    return synth.path_of(env, logical_id).split("/")[-2]


def _rules(synth: Synth, env: str, rule_type: str, peer_key: str) -> set[tuple[str, str, Any]]:
    rules = set()
    for rule in synth.resources(env, rule_type).values():
        props = rule["Properties"]
        port = props["FromPort"]
        if isinstance(port, dict):  # Fn::GetAtt of the database's port
            port = "db-port"
        else:
            assert port == props["ToPort"]
        rules.add((_group_name(synth, env, props["GroupId"]), _group_name(synth, env, props[peer_key]), port))
    return rules


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_security_group_ingress_is_exactly_the_data_path(synth: Synth, env: str) -> None:
    assert _rules(synth, env, "AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId") == {
        ("Database", "Service", 5432),
        ("Cache", "Service", 6379),
        ("FileSystem", "Service", 2049),
        ("Service", "LoadBalancer", 8080),
        ("Database", "Rotation", "db-port"),  # single-user rotation Lambda, on the instance's port (5432)
        ("EndpointSecurityGroup", "Service", 443),
        ("EndpointSecurityGroup", "Rotation", 443),
    }
    for group in synth.resources(env, "AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group["Properties"]  # no CIDR ingress anywhere


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_security_group_egress_is_restricted(synth: Synth, env: str) -> None:
    assert _rules(synth, env, "AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId") == {
        ("Service", "Database", 5432),
        ("Service", "Cache", 6379),
        ("Service", "FileSystem", 2049),
        ("LoadBalancer", "Service", 8080),
        ("Rotation", "Database", "db-port"),
    }
    cidr_egress = {}
    for logical_id, group in synth.resources(env, "AWS::EC2::SecurityGroup").items():
        name = synth.path_of(env, logical_id).split("/")[-2]
        cidr_egress[name] = [
            (r["CidrIp"], r["IpProtocol"], r["FromPort"]) for r in group["Properties"].get("SecurityGroupEgress", [])
        ]
    assert cidr_egress == {
        "EndpointSecurityGroup": [("255.255.255.255/32", "icmp", 252)],  # CDK's "no outbound" marker
        "Service": [("0.0.0.0/0", "tcp", 443)],
        "LoadBalancer": [],
        "Database": [("255.255.255.255/32", "icmp", 252)],
        "Cache": [("255.255.255.255/32", "icmp", 252)],
        "FileSystem": [("255.255.255.255/32", "icmp", 252)],
        "Rotation": [("0.0.0.0/0", "tcp", 443)],
    }
