"""Network: the VPC every other concern of the platform lives in.

Provisions a VPC over the availability zones pinned in config (never looked up, so synth needs no AWS account),
with public subnets (NAT gateways only), private subnets with egress (ECS tasks, Redis, NLB, rotation Lambdas) and
isolated subnets (PostgreSQL). The VPC's default security group is stripped of its rules (nothing uses it, so nothing
can be put in it by accident). VPC flow logs go to an encrypted log group for audit; an S3 gateway endpoint and the
configured interface endpoints keep ECR, Kinesis, Secrets Manager and CloudWatch Logs traffic off the NAT gateways.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from lib.compliance import acknowledge, acknowledge_rule
from lib.platform_logs import PlatformLogs
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

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings, logs: PlatformLogs
    ) -> None:
        super().__init__(scope, construct_id)
        net = settings.network
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(net.cidr),
            availability_zones=list(settings.availability_zones),
            nat_gateways=net.nat_gateways,
            restrict_default_security_group=True,
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
        _acknowledge_default_group_restriction(self)
        flow_log_group = logs.group(self, "FlowLogs", retention_days=net.flow_log_retention_days)
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


def _acknowledge_default_group_restriction(scope: Construct) -> None:
    """CDK strips the default security group through a custom resource; its provider function is CDK's own."""
    provider = Stack.of(scope).node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
    if provider is not None:
        acknowledge(
            provider,
            "CDK's provider for the default-security-group restriction runs on CDK's pinned Node.js runtime and needs "
            "only the basic Lambda execution policy to log; it revokes the default group's rules once per deploy.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "AwsSolutions-L1",
        )


def _endpoint_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Endpoint"
