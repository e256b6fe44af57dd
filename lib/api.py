"""API: the REST API devices and clients call with SigV4, and the internal NLB behind its VPC link.

Provisions an API Gateway REST API with IAM authorization on every method, request validation (a JSON model for
readings, required path parameters), JSON access logs (encrypted log group), execution logs, X-Ray tracing, stage
throttling and an AWS WAF web ACL. `POST /readings` is an AWS service integration that calls Kinesis PutRecord through
a dedicated IAM role (no compute in the write path; the partition key is the reading's sensorId).
`GET /sensors/{id}/latest` and `GET /sensors/{id}/readings` go through a VPC link to an internal Network Load Balancer
in front of `serve`.

The account-level logging role API Gateway writes logs with is not here: it is one setting per account and region,
shared by every environment there (lib/api_gateway_account.py). No stage cache: `/sensors/{id}/latest` must show a
reading within seconds of its arrival and history pages are read once, so a cache would only serve stale answers;
Redis in front of PostgreSQL already makes reads cheap.
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from lib.compliance import acknowledge
from lib.platform_logs import PlatformLogs
from lib.security_groups import SERVE_PORT
from platform_config import EnvironmentSettings

STAGE_NAME = "v1"
LISTENER_PORT = 80
PUT_RECORD_TEMPLATE = (
    '{"StreamName": "%s", "Data": "$util.base64Encode($input.body)", "PartitionKey": "$input.path(\'$.sensorId\')"}'
)
READING_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="Reading",
    type=apigw.JsonSchemaType.OBJECT,
    required=["sensorId", "timestamp", "temperature", "humidity"],
    properties={
        "sensorId": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=128),
        "timestamp": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=64),
        "temperature": apigw.JsonSchema(type=apigw.JsonSchemaType.NUMBER),
        "humidity": apigw.JsonSchema(type=apigw.JsonSchemaType.NUMBER),
    },
)


class Api(Construct):
    """SigV4 REST API: POST /readings to Kinesis, GET /sensors/{id}/... to serve via VPC link and NLB."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        logs: PlatformLogs,
        vpc: ec2.IVpc,
        load_balancer_security_group: ec2.ISecurityGroup,
        stream: kinesis.IStream,
        stream_key: kms.IKey,
        serve: ecs.FargateService,
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.group(self, "AccessLogs")
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"iot-platform-{settings.name}",
            description="IoT sensor platform: ingest readings and query the latest per sensor (SigV4)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,  # an account-level setting: lib/api_gateway_account.py
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.INFO,
                data_trace_enabled=False,
                metrics_enabled=True,
                throttling_rate_limit=settings.api.throttle_rate_limit,
                throttling_burst_limit=settings.api.throttle_burst_limit,
            ),
        )
        # The API URL is published as the stable ApiUrl output (lib/outputs.py), not as RestApi's generated one.
        self.rest_api.node.try_remove_child("Endpoint")
        body_validator = self.rest_api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        params_validator = self.rest_api.add_request_validator(
            "ParamsValidator", validate_request_body=False, validate_request_parameters=True
        )

        # POST /readings -> Kinesis PutRecord (AWS service integration through a scoped role).
        put_role = iam.Role(
            self,
            "PutRecordRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway POST /readings: PutRecord on the readings stream only",
        )
        put_role.add_to_policy(iam.PolicyStatement(actions=["kinesis:PutRecord"], resources=[stream.stream_arn]))
        put_role.add_to_policy(iam.PolicyStatement(actions=["kms:GenerateDataKey"], resources=[stream_key.key_arn]))
        reading_model = self.rest_api.add_model(
            "ReadingModel", content_type="application/json", model_name="Reading", schema=READING_SCHEMA
        )
        self.rest_api.root.add_resource("readings").add_method(
            "POST",
            apigw.AwsIntegration(
                service="kinesis",
                action="PutRecord",
                options=apigw.IntegrationOptions(
                    credentials_role=put_role,
                    passthrough_behavior=apigw.PassthroughBehavior.NEVER,
                    request_parameters={"integration.request.header.Content-Type": "'application/x-amz-json-1.1'"},
                    request_templates={"application/json": PUT_RECORD_TEMPLATE % stream.stream_name},
                    integration_responses=[
                        apigw.IntegrationResponse(
                            status_code="200",
                            response_templates={
                                "application/json": '{"sequenceNumber": "$input.path(\'$.SequenceNumber\')", '
                                '"shardId": "$input.path(\'$.ShardId\')"}'
                            },
                        ),
                        apigw.IntegrationResponse(selection_pattern="4\\d{2}", status_code="400"),
                        apigw.IntegrationResponse(selection_pattern="5\\d{2}", status_code="500"),
                    ],
                ),
            ),
            request_models={"application/json": reading_model},
            request_validator=body_validator,
            method_responses=[apigw.MethodResponse(status_code=code) for code in ("200", "400", "500")],
        )

        # GET /sensors/{id}/latest|readings -> VPC link -> internal NLB -> serve:8080.
        self.load_balancer = elbv2.NetworkLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=False,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[load_balancer_security_group],
            # API Gateway reaches the NLB through PrivateLink only; the NLB's security group then needs no ingress.
            enforce_security_group_inbound_rules_on_private_link_traffic=False,
            cross_zone_enabled=True,
        )
        listener = self.load_balancer.add_listener("Http", port=LISTENER_PORT, protocol=elbv2.Protocol.TCP)
        listener.add_targets(
            "Serve",
            port=SERVE_PORT,
            protocol=elbv2.Protocol.TCP,
            targets=[serve.load_balancer_target(container_name="processor", container_port=SERVE_PORT)],
            # Liveness (PostgreSQL answers): a Redis outage must not drain serve, its reads fall back to PostgreSQL.
            health_check=elbv2.HealthCheck(protocol=elbv2.Protocol.HTTP, path="/health/live"),
        )
        acknowledge(
            self.load_balancer,
            "The NLB has only a TCP listener reached through the API Gateway VPC link; NLB access logs are only "
            "written for TLS listeners, and every request is already in the API Gateway access log.",
            "AwsSolutions-ELB2",
        )
        vpc_link = apigw.VpcLink(self, "VpcLink", targets=[self.load_balancer], description="API to serve NLB")
        sensor = self.rest_api.root.add_resource("sensors").add_resource("{id}")
        for route in ("latest", "readings"):
            sensor.add_resource(route).add_method(
                "GET",
                apigw.Integration(
                    type=apigw.IntegrationType.HTTP_PROXY,
                    integration_http_method="GET",
                    uri=f"http://{self.load_balancer.load_balancer_dns_name}/sensors/{{id}}/{route}",
                    options=apigw.IntegrationOptions(
                        connection_type=apigw.ConnectionType.VPC_LINK,
                        vpc_link=vpc_link,
                        request_parameters={"integration.request.path.id": "method.request.path.id"},
                    ),
                ),
                request_parameters={"method.request.path.id": True},
                request_validator=params_validator,
            )

        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"iot-platform-{settings.name}"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="AWSManagedRulesKnownBadInputsRuleSet",
                    priority=0,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesKnownBadInputsRuleSet"
                        )
                    ),
                    visibility_config=_visibility("known-bad-inputs"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=self.rest_api.deployment_stage.stage_arn, web_acl_arn=acl.attr_arn
        )
        acknowledge(
            self.rest_api,
            "Every method uses IAM (SigV4) authorization: devices and clients are IAM principals of the platform's "
            "accounts, so there is no Cognito user pool to authorize against.",
            "AwsSolutions-COG4",
        )


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )
