"""Network: the VPC every other concern of the platform lives in.

Provisions a VPC over the availability zones pinned in config (never looked up, so synth needs no AWS account),
with public subnets (NAT gateways only), private subnets with egress (ECS tasks, Redis, NLB, rotation Lambda) and
isolated subnets (PostgreSQL). VPC flow logs go to CloudWatch Logs for audit; an S3 gateway endpoint and the
configured interface endpoints keep ECR, Kinesis, Secrets Manager and CloudWatch Logs traffic off the NAT gateways.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from lib.cdk_enums import REMOVAL_POLICY, retention
from lib.compliance import acknowledge_rule
from platform_config import EnvironmentSettings

_ENDPOINT_SERVICES = {
    "ecr": ec2.InterfaceVpcEndpointAwsService.ECR,
    "ecr_docker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "kinesis": ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS,
    "secrets_manager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
}


class Network(Construct):
    """VPC, subnets, NAT gateways, flow logs and VPC endpoints of one environment."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, construct_id)
        net = settings.network
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(net.cidr),
            availability_zones=list(settings.availability_zones),
            nat_gateways=net.nat_gateways,
            restrict_default_security_group=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )
        acknowledge_rule(
            self.vpc,
            "CloudFormation-Validate::W3010",
            "Availability zones are pinned in cdk.json on purpose: synth must never look them up (no AWS account "
            "at synth time) and subnets must not move between zones when an account gains a zone.",
        )
        flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=retention(net.flow_log_retention_days),
            removal_policy=REMOVAL_POLICY[settings.removal_policy],
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
            max_aggregation_interval=ec2.FlowLogMaxAggregationInterval.TEN_MINUTES,
        )
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)

        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface VPC endpoints: HTTPS from the processor tasks and the rotation Lambda only",
            allow_all_outbound=False,
        )
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        for name in net.interface_endpoints:
            self.interface_endpoints[name] = self.vpc.add_interface_endpoint(
                _endpoint_id(name),
                service=_ENDPOINT_SERVICES[name],
                private_dns_enabled=True,
                open=False,
                security_groups=[self.endpoint_security_group],
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            )


def _endpoint_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Endpoint"
