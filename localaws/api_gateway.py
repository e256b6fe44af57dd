"""A local data plane for a REST API deployed into moto: moto stores API Gateway's definition but serves no requests.

The rehearsal points the integration suite at it with the standard variable `AWS_ENDPOINT_URL_EXECUTE_API`; requests
arrive as `/<apiId>/<stage>/<path>`. Every request is answered from the API *as deployed* (read back from moto), so
a change to the template changes what happens here:
- the method must exist, else 403 like API Gateway; a method with `AWS_IAM` authorization needs a SigV4 signature
  for `execute-api` in the API's region (the signature itself is recomputed and compared with the credentials the
  rehearsal runs with), else 403;
- a request validator that validates bodies checks the JSON body against the method's request model (400);
- an `AWS` integration with Kinesis `PutRecord` renders the request template (the subset of VTL the template uses:
  `$util.base64Encode($input.body)`, `$input.path('$.x')`) and calls PutRecord on moto; the response template's
  `$input.path('$.X')` fields are filled from its answer;
- an `HTTP_PROXY` integration through a VPC link goes to the integration URI, with the load balancer's DNS name
  replaced by the local address of one of its targets (the `serve` tasks, in turn, as the NLB spreads connections;
  the list is read at each request, so tasks started later are targets too) and path parameters substituted.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3
import jsonschema
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from localaws.servers import LOOPBACK, free_port

_SIGNATURE = re.compile(r"Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")


class ApiGatewayDataPlane:
    """Serves the deployed REST APIs of one moto account/region on 127.0.0.1 (a free port)."""

    def __init__(self, aws_env: dict[str, str], targets: dict[str, Sequence[str]]) -> None:
        self.region = aws_env["AWS_REGION"]
        session = boto3.session.Session(
            aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=aws_env.get("AWS_SESSION_TOKEN"),
            region_name=self.region,
        )
        # Clients made once: they are thread-safe, a session is not (requests are served from many threads).
        self.apigateway = session.client("apigateway", endpoint_url=aws_env["AWS_ENDPOINT_URL"])
        self.kinesis = session.client("kinesis", endpoint_url=aws_env["AWS_ENDPOINT_URL"])
        self.credentials = session.get_credentials().get_frozen_credentials()  # what a signed request must use
        # load balancer DNS name (DNS is case-insensitive) -> the "127.0.0.1:port" of each of its targets
        self.targets = {name.lower(): addresses for name, addresses in targets.items()}
        self._turn = itertools.count()
        self.port = free_port()
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self._server = ThreadingHTTPServer((LOOPBACK, self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    close = stop

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        plane = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                self._serve(self.rfile.read(int(self.headers.get("Content-Length", 0) or 0)))

            def _serve(self, body: bytes) -> None:
                try:
                    self._answer(*plane.handle(self, body))
                except Exception as error:  # an internal error of this emulator: answer 500 with the cause
                    self._answer(*_error(500, f"{type(error).__name__}: {error}"))

            def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def handle(self, request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes] | tuple[int, bytes, str]:
        """Route one request through the deployed API definition."""
        parts = urlsplit(request.path)
        segments = parts.path.strip("/").split("/")
        if len(segments) < 3:
            return _error(403, "Missing Authentication Token")
        api_id, stage, path = segments[0], segments[1], "/" + "/".join(segments[2:])
        apigw = self.apigateway
        try:
            apigw.get_stage(restApiId=api_id, stageName=stage)
            resources = apigw.get_resources(restApiId=api_id, limit=500)["items"]
        except apigw.exceptions.ClientError:
            return _error(403, "Missing Authentication Token")
        resource, params = _match(resources, path)
        verb = request.command
        if resource is None or verb not in (resource.get("resourceMethods") or {}):
            return _error(403, "Missing Authentication Token")
        method = apigw.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=verb)
        if method["authorizationType"] == "AWS_IAM" and not self._signed(request, body):
            return _error(403, "Missing Authentication Token")
        validator_id = method.get("requestValidatorId")
        if validator_id and body is not None:
            validator = apigw.get_request_validator(restApiId=api_id, requestValidatorId=validator_id)
            model_name = (method.get("requestModels") or {}).get("application/json")
            if validator.get("validateRequestBody") and model_name:
                schema = json.loads(apigw.get_model(restApiId=api_id, modelName=model_name)["schema"])
                try:
                    jsonschema.validate(json.loads(body or b"null"), schema)
                except (ValueError, jsonschema.ValidationError):
                    return _error(400, "Invalid request body")
        integration = method["methodIntegration"]
        if integration["type"] == "AWS" and integration["uri"].endswith("kinesis:action/PutRecord"):
            return self._put_record(integration, body)
        if integration["type"] == "HTTP_PROXY":
            return self._proxy(integration, params, parts.query)
        return _error(500, f"integration {integration['type']} {integration.get('uri')} is not modelled")

    def _signed(self, request: BaseHTTPRequestHandler, body: bytes) -> bool:
        """A SigV4 signature for execute-api in this region, recomputed with the rehearsal's credentials."""
        authorization = request.headers.get("Authorization", "")
        match = _SIGNATURE.search(authorization)
        if not match or match["service"] != "execute-api" or match["region"] != self.region:
            return False
        if match["key"] != self.credentials.access_key:
            return False
        signed_headers = re.search(r"SignedHeaders=([^,]+)", authorization)
        if signed_headers is None:
            return False
        headers = {name: request.headers.get(name, "") for name in signed_headers[1].split(";")}
        host = request.headers.get("Host", "")
        expected = AWSRequest(method=request.command, url=f"http://{host}{request.path}", data=body, headers=headers)
        expected.context["timestamp"] = request.headers.get("X-Amz-Date", "")
        auth = SigV4Auth(self.credentials, "execute-api", self.region)
        signature = auth.signature(auth.string_to_sign(expected, auth.canonical_request(expected)), expected)
        return authorization.endswith(f"Signature={signature}")

    def _put_record(self, integration: dict[str, Any], body: bytes) -> tuple[int, bytes]:
        document = json.loads(body)
        template = integration["requestTemplates"]["application/json"]
        rendered = template.replace("$util.base64Encode($input.body)", base64.b64encode(body).decode())
        rendered = re.sub(r"\$input\.path\('\$\.(\w+)'\)", lambda m: str(document.get(m[1], "")), rendered)
        call = json.loads(rendered)
        try:
            answer = self.kinesis.put_record(
                StreamName=call["StreamName"], Data=base64.b64decode(call["Data"]), PartitionKey=call["PartitionKey"]
            )
        except self.kinesis.exceptions.ClientError as error:
            return _error(400, str(error))
        response = next(r for r in integration["integrationResponses"].values() if r["statusCode"] == "200")
        out = response["responseTemplates"]["application/json"]
        out = re.sub(r"\$input\.path\('\$\.(\w+)'\)", lambda m: str(answer.get(m[1], "")), out)
        return 200, out.encode()

    def _proxy(self, integration: dict[str, Any], params: dict[str, str], query: str) -> tuple[int, bytes, str]:
        url = urlsplit(integration["uri"])
        addresses = self.targets.get((url.hostname or "").lower())
        if not addresses:
            return (*_error(504, f"no target behind {url.hostname}"), "application/json")
        target = addresses[next(self._turn) % len(addresses)]
        path = url.path
        for name, value in params.items():
            path = path.replace(f"{{{name}}}", value)
        answer = requests.get(f"http://{target}{path}" + (f"?{query}" if query else ""), timeout=30)
        return answer.status_code, answer.content, answer.headers.get("Content-Type", "application/json")


def _error(status: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"message": message}).encode()


def _match(resources: list[dict[str, Any]], path: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The resource whose path template matches, and the path parameters."""
    for resource in resources:
        names = re.findall(r"\{(\w+)\}", resource["path"])
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(resource["path"])) + "$"
        match = re.match(pattern, path)
        if match:
            return resource, dict(zip(names, match.groups(), strict=True))
    return None, {}
