"""API Gateway: stages, models, request validators, methods and the account setting.

- `AWS::ApiGateway::Stage`: skipped by moto (its Deployment makes no stage without `StageName`). Created with its
  deployment, access-log setting, X-Ray tracing, variables and per-method settings (logging, metrics, throttling).
- `::Model`, `::RequestValidator`: skipped; created through the backend.
- `::Method`: moto keeps only authorization and the integration's type/URI/verb; created with validator, models,
  parameters, method responses and the integration's credentials, request templates, connection and responses (the
  rehearsal's data plane, localaws.api_gateway, serves requests from exactly these).
- `::Account`: skipped. Sets the account's CloudWatch role ARN.
"""

from __future__ import annotations

import json
from typing import Any

from moto.apigateway.models import apigateway_backends

from localaws.models.base import Model, flag


class ApiGatewayStage(Model):
    TYPE = "AWS::ApiGateway::Stage"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "StageName"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayStage:
        props = cloudformation_json["Properties"]
        backend = apigateway_backends[account_id][region_name]
        stage = backend.create_stage(
            function_id=props["RestApiId"],
            stage_name=props["StageName"],
            deploymentId=getattr(props["DeploymentId"], "id", props["DeploymentId"]),
            variables=props.get("Variables", {}),
            description=props.get("Description", ""),
            cacheClusterEnabled=flag(props.get("CacheClusterEnabled", False)),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags={t["Key"]: t["Value"] for t in props.get("Tags", [])},
            tracing_enabled=flag(props.get("TracingEnabled", False)),
        )
        access_log = props.get("AccessLogSetting")
        if access_log:
            stage.access_log_settings = {
                "destinationArn": access_log["DestinationArn"],
                "format": access_log.get("Format", ""),
            }
        for setting in props.get("MethodSettings", []):
            path = setting.get("ResourcePath", "/*").lstrip("/").replace("/", "~1") or "*"
            key = f"{path}/{setting.get('HttpMethod', '*')}"
            stage.method_settings[key] = {
                "metricsEnabled": flag(setting.get("MetricsEnabled", False)),
                "loggingLevel": setting.get("LoggingLevel", "OFF"),
                "dataTraceEnabled": flag(setting.get("DataTraceEnabled", False)),
                "throttlingBurstLimit": int(setting.get("ThrottlingBurstLimit", 5000)),
                "throttlingRateLimit": float(setting.get("ThrottlingRateLimit", 10000)),
                "cachingEnabled": flag(setting.get("CachingEnabled", False)),
                "cacheTtlInSeconds": int(setting.get("CacheTtlInSeconds", 300)),
                "cacheDataEncrypted": flag(setting.get("CacheDataEncrypted", False)),
                "requireAuthorizationForCacheControl": True,
                "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
            }
        return cls(props["StageName"])


class ApiGatewayModel(Model):
    TYPE = "AWS::ApiGateway::Model"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayModel:
        props = cloudformation_json["Properties"]
        schema = props.get("Schema", {})
        model = apigateway_backends[account_id][region_name].create_model(
            rest_api_id=props["RestApiId"],
            name=props.get("Name", resource_name),
            content_type=props.get("ContentType", "application/json"),
            description=props.get("Description", ""),
            schema=schema if isinstance(schema, str) else json.dumps(schema),
        )
        return cls(model.name)


class ApiGatewayRequestValidator(Model):
    TYPE = "AWS::ApiGateway::RequestValidator"
    ATTRIBUTES = ("RequestValidatorId",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayRequestValidator:
        props = cloudformation_json["Properties"]
        validator = apigateway_backends[account_id][region_name].create_request_validator(
            restapi_id=props["RestApiId"],
            name=props.get("Name", resource_name),
            body=flag(props.get("ValidateRequestBody", False)),
            params=flag(props.get("ValidateRequestParameters", False)),
        )
        return cls(validator.id, {"RequestValidatorId": validator.id})


class ApiGatewayMethod(Model):
    """A method with its request validator, models, parameters, integration (templates, credentials, VPC link)
    and responses: moto's model keeps only the authorization and the integration's type, URI and verb."""

    TYPE = "AWS::ApiGateway::Method"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayMethod:
        props = cloudformation_json["Properties"]
        backend = apigateway_backends[account_id][region_name]
        api, resource, verb = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
        backend.put_method(
            function_id=api,
            resource_id=resource,
            method_type=verb,
            authorization_type=props.get("AuthorizationType", "NONE"),
            api_key_required=flag(props.get("ApiKeyRequired", False)),
            request_parameters=props.get("RequestParameters"),
            request_models=props.get("RequestModels"),
            request_validator_id=props.get("RequestValidatorId"),
        )
        for response in props.get("MethodResponses", []):
            backend.put_method_response(
                api, resource, verb, response["StatusCode"], response.get("ResponseModels"),
                response.get("ResponseParameters"),
            )  # fmt: skip
        integration = props.get("Integration")
        if integration:
            backend.put_integration(
                function_id=api,
                resource_id=resource,
                method_type=verb,
                integration_type=integration["Type"],
                uri=integration.get("Uri", ""),
                integration_method=integration.get("IntegrationHttpMethod", verb),
                credentials=integration.get("Credentials"),
                request_templates=integration.get("RequestTemplates"),
                passthrough_behavior=integration.get("PassthroughBehavior"),
                request_parameters=integration.get("RequestParameters"),
                connection_type=integration.get("ConnectionType"),
            )
            for response in integration.get("IntegrationResponses", []):
                backend.put_integration_response(
                    api, resource, verb, response["StatusCode"], response.get("SelectionPattern", ""),
                    response.get("ResponseTemplates", {}), response.get("ResponseParameters", {}),
                )  # fmt: skip
        return cls(f"{api}|{resource}|{verb}")


class ApiGatewayAccount(Model):
    TYPE = "AWS::ApiGateway::Account"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> ApiGatewayAccount:
        role = cloudformation_json["Properties"].get("CloudWatchRoleArn")
        if role:
            apigateway_backends[account_id][region_name].update_account(
                [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
            )
        return cls(f"{account_id}-{region_name}-apigateway-account")


MODELS = (ApiGatewayStage, ApiGatewayModel, ApiGatewayRequestValidator, ApiGatewayMethod, ApiGatewayAccount)
