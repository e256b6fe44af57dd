"""Network: the VPC over pinned zones, NAT gateways, flow logs and VPC endpoints (lib/network.py)."""

from __future__ import annotations

import pytest

from tests.assembly import ENVIRONMENTS, Synth
from tests.unit.templates import only, text


@pytest.mark.parametrize(("env", "azs", "nats"), [("dev", 2, 1), ("staging", 2, 1), ("prod", 3, 3)])
def test_vpc_subnets_nat_and_pinned_azs(synth: Synth, env: str, azs: int, nats: int) -> None:
    subnets = synth.resources(env, "AWS::EC2::Subnet")
    assert len(subnets) == 3 * azs
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets.values()}
    assert zones == {f"us-east-1{z}" for z in "abc"[:azs]}
    kinds = sorted(
        t["Value"] for s in subnets.values() for t in s["Properties"]["Tags"] if t["Key"] == "aws-cdk:subnet-type"
    )
    assert kinds == sorted(["Public", "Private", "Isolated"] * azs)
    assert len(synth.resources(env, "AWS::EC2::NatGateway")) == nats


def test_flow_logs_and_endpoints(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        flow = only(synth.resources(env, "AWS::EC2::FlowLog"))
        assert flow["Properties"]["TrafficType"] == "ALL"
        assert flow["Properties"]["LogDestinationType"] == "cloud-watch-logs"
    services = {
        env: sorted(
            text(e["Properties"]["ServiceName"]).split(".")[-1].strip('"]}')
            for e in synth.resources(env, "AWS::EC2::VPCEndpoint").values()
        )
        for env in ENVIRONMENTS
    }
    assert services["dev"] == ["api", "dkr", "logs", "s3"]
    assert services["prod"] == ["api", "dkr", "kinesis-streams", "logs", "s3", "secretsmanager"]
    for env in ENVIRONMENTS:
        for endpoint in synth.resources(env, "AWS::EC2::VPCEndpoint").values():
            if endpoint["Properties"].get("VpcEndpointType") == "Interface":
                assert endpoint["Properties"]["PrivateDnsEnabled"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_default_security_group_is_stripped(synth: Synth, env: str) -> None:
    (restriction,) = synth.resources(env, "Custom::VpcRestrictDefaultSG").values()
    (vpc_id,) = synth.resources(env, "AWS::EC2::VPC")
    assert restriction["Properties"]["DefaultSecurityGroupId"] == {"Fn::GetAtt": [vpc_id, "DefaultSecurityGroup"]}
