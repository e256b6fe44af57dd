"""A loopback HTTP proxy in front of moto that can make Kinesis misbehave as AWS does, and records every call.

The processor under test talks to it through AWS_ENDPOINT_URL. `fault(target, request)` may return an AWS error
(HTTP 400 with the error type, what botocore parses into a ClientError) instead of forwarding the call, and
`rewrite(target, request, response)` may change a forwarded answer (e.g. a shard gone from ListShards). Each call
is recorded with the shard it concerned, so a test can prove the fault really was returned and how the processor
paced its reads.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

from moto.kinesis.utils import decompose_shard_iterator

from localaws.servers import LOOPBACK, free_port

Fault = Callable[[str, dict[str, Any]], tuple[str, str] | None]
Rewrite = Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]]


@dataclass
class Call:
    at: float  # monotonic
    target: str  # e.g. "GetRecords"
    shard: str | None
    request: dict[str, Any]
    fault: str | None = None  # the error returned instead of forwarding


@dataclass
class KinesisProxy:
    upstream: str
    fault: Fault | None = None
    rewrite: Rewrite | None = None
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((LOOPBACK, self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> KinesisProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def of(self, target: str, shard: str | None = None, faults: bool | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.target == target
                and (shard is None or c.shard == shard)
                and (faults is None or (c.fault is not None) == faults)
            ]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        upstream = urlparse(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                request = _json(body) if target else {}
                shard = _shard_of(request)
                error = proxy.fault(target, request) if proxy.fault and target else None
                with proxy._lock:
                    proxy.calls.append(Call(time.monotonic(), target, shard, request, error[0] if error else None))
                if error is not None:
                    payload = json.dumps({"__type": error[0], "message": error[1]}).encode()
                    self.send_response(400)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                if proxy.rewrite is not None and target and response.status == 200:
                    payload = json.dumps(proxy.rewrite(target, request, _json(payload))).encode()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                conn.close()

        return Handler


def _json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _shard_of(request: dict[str, Any]) -> str | None:
    if "ShardId" in request:
        return request["ShardId"]
    if "ShardIterator" in request:
        try:
            return decompose_shard_iterator(request["ShardIterator"])[1]
        except Exception:
            return None
    return None
