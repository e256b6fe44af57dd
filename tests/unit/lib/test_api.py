"""API: SigV4 REST API, POST /readings into Kinesis, GET routes through the VPC link (lib/api.py)."""

from __future__ import annotations

from tests.assembly import ENVIRONMENTS, Synth
from tests.unit.templates import is_subset, only, policies_of, text


def test_every_method_uses_iam_auth_and_validation(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        methods = synth.resources(env, "AWS::ApiGateway::Method")
        assert len(methods) == 3
        for method in methods.values():
            assert method["Properties"]["AuthorizationType"] == "AWS_IAM"
            assert "RequestValidatorId" in method["Properties"]


def test_post_readings_puts_record_into_kinesis(synth: Synth) -> None:
    methods = synth.resources("dev", "AWS::ApiGateway::Method").values()
    expected = {
        "HttpMethod": "POST",
        "Integration": {
            "Type": "AWS",
            "IntegrationHttpMethod": "POST",
            "Uri": "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord",
            "PassthroughBehavior": "NEVER",
        },
    }
    assert any(
        is_subset(expected, m["Properties"]) and "Credentials" in m["Properties"]["Integration"] for m in methods
    )
    post = next(
        m for m in synth.resources("dev", "AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] == "POST"
    )
    request_template = text(post["Properties"]["Integration"]["RequestTemplates"]["application/json"])
    assert "$util.base64Encode($input.body)" in request_template
    assert "$input.path('$.sensorId')" in request_template
    role = policies_of(synth, "dev", "/Api/PutRecordRole/")
    assert sorted(s["Action"] for s in role) == ["kinesis:PutRecord", "kms:GenerateDataKey"]


def test_get_routes_use_vpc_link_to_internal_nlb(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        gets = [
            m
            for m in synth.resources(env, "AWS::ApiGateway::Method").values()
            if m["Properties"]["HttpMethod"] == "GET"
        ]
        assert len(gets) == 2
        uris = set()
        for method in gets:
            integration = method["Properties"]["Integration"]
            assert integration["ConnectionType"] == "VPC_LINK"
            assert integration["Type"] == "HTTP_PROXY"
            uris.add(text(integration["Uri"]).rsplit("/", 1)[-1].strip('"]}'))
            assert method["Properties"]["RequestParameters"] == {"method.request.path.id": True}
        assert uris == {"latest", "readings"}
        nlb = only(synth.resources(env, "AWS::ElasticLoadBalancingV2::LoadBalancer"))["Properties"]
        assert nlb["Scheme"] == "internal"
        assert nlb["Type"] == "network"
        target_group = only(synth.resources(env, "AWS::ElasticLoadBalancingV2::TargetGroup"))["Properties"]
        assert (target_group["Port"], target_group["TargetType"], target_group["HealthCheckPath"]) == (
            8080,
            "ip",
            "/health/live",
        )
        assert len(synth.resources(env, "AWS::ApiGateway::VpcLink")) == 1


def test_stage_logs_traces_throttles_and_has_waf(synth: Synth) -> None:
    for env, (rate, burst) in (("dev", (50, 100)), ("prod", (1000, 2000))):
        stage = only(synth.resources(env, "AWS::ApiGateway::Stage"))["Properties"]
        assert stage["TracingEnabled"] is True
        assert "DestinationArn" in stage["AccessLogSetting"]
        (settings,) = stage["MethodSettings"]
        assert settings["LoggingLevel"] == "INFO"
        assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (rate, burst)
        assert len(synth.resources(env, "AWS::WAFv2::WebACLAssociation")) == 1
        assert len(synth.resources(env, "AWS::ApiGateway::RequestValidator")) == 2
