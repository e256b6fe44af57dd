"""API Gateway: the stage logs access and traces, and every method requires IAM (SigV4)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.smoke


def stage_name(api_url: str) -> str:
    return urlparse(api_url).path.strip("/").split("/")[0]


@pytest.fixture(scope="module")
def stage(aws, output) -> dict:
    return aws("apigateway").get_stage(restApiId=output("ApiId"), stageName=stage_name(output("ApiUrl")))


def test_stage_writes_access_logs(stage) -> None:
    settings = stage.get("accessLogSettings") or {}
    assert settings.get("destinationArn", "").startswith("arn:"), "API stage has no access log destination"
    assert "$context.requestId" in settings.get("format", "")


def test_stage_traces_with_xray(stage) -> None:
    assert stage.get("tracingEnabled") is True, "API stage tracing is off"


def test_stage_throttles_as_configured(stage, settings) -> None:
    method_settings = stage.get("methodSettings", {}).get("*/*", {})
    assert method_settings.get("throttlingRateLimit") == settings.api.throttle_rate_limit
    assert method_settings.get("throttlingBurstLimit") == settings.api.throttle_burst_limit


def test_every_method_requires_iam(aws, output) -> None:
    resources = aws("apigateway").get_resources(restApiId=output("ApiId"), limit=500, embed=["methods"])["items"]
    methods = {f"{verb} {r['path']}": m for r in resources for verb, m in (r.get("resourceMethods") or {}).items()}
    assert {"POST /readings", "GET /sensors/{id}/latest", "GET /sensors/{id}/readings"} <= set(methods)
    for name in methods:
        verb, path = name.split(" ", 1)
        resource_id = next(r["id"] for r in resources if r["path"] == path)
        method = aws("apigateway").get_method(restApiId=output("ApiId"), resourceId=resource_id, httpMethod=verb)
        assert method["authorizationType"] == "AWS_IAM", f"{name} is not IAM-authorized"
