"""End to end: readings sent through the API (SigV4) appear through GET /sensors/{id}/latest within a deadline, and a
malformed record put on the stream lands in the dead-letter location instead: the consumer reports it in its log
(once it is on the file system and its batch committed), and where this runner sees the file system (`DATA_DIR`,
marker `efs_mount`), the dead-letter file holds it.

The API's address is the `ApiUrl` output; like every AWS endpoint it can be redirected with the standard
service-specific variable `AWS_ENDPOINT_URL_EXECUTE_API` (`<endpoint>/<ApiId>/<stage>/...`). The dead-letter location
is `DATA_DIR/dead-letter/<stream>/` with `DATA_DIR` where the runner sees the processor's file system.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

DEADLINE_SECONDS = float(os.environ.get("DATA_DEADLINE_SECONDS", "60"))


class SignedApi:
    """Calls the platform's REST API with SigV4 (service execute-api) and the standard credentials."""

    def __init__(self, api_url: str, api_id: str) -> None:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_EXECUTE_API")
        path = urlparse(api_url).path.rstrip("/")
        self.base = f"{endpoint.rstrip('/')}/{api_id}{path}" if endpoint else api_url.rstrip("/")
        session = boto3.session.Session()
        self.region = session.region_name
        self.credentials = session.get_credentials()

    def request(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        request = AWSRequest(method=method, url=f"{self.base}{path}", data=data, headers=headers)
        SigV4Auth(self.credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(request)
        prepared = request.prepare()
        return requests.request(method, prepared.url, data=data, headers=dict(prepared.headers), timeout=30)


@pytest.fixture(scope="module")
def api(output) -> SignedApi:
    return SignedApi(output("ApiUrl"), output("ApiId"))


def reading(sensor: str, temperature: float) -> dict:
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"sensorId": sensor, "timestamp": now, "temperature": temperature, "humidity": 55.0}


def wait_for(condition, what: str):
    deadline = time.monotonic() + DEADLINE_SECONDS
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.5)
    pytest.fail(f"{what} not seen within {DEADLINE_SECONDS:.0f}s (last: {last!r})")


def test_unsigned_requests_are_refused(api) -> None:
    response = requests.get(f"{api.base}/sensors/any/latest", timeout=30)
    assert response.status_code == 403


def test_readings_sent_through_the_api_are_served_as_latest(api) -> None:
    sensor = f"it-{uuid.uuid4().hex[:12]}"
    sent = reading(sensor, 21.5)
    response = api.request("POST", "/readings", sent)
    assert response.status_code == 200, response.text
    assert response.json().get("sequenceNumber")

    def latest():
        answer = api.request("GET", f"/sensors/{sensor}/latest")
        return answer.json() if answer.status_code == 200 else None

    got = wait_for(latest, f"reading of {sensor} at GET /sensors/{sensor}/latest")
    assert got["sensorId"] == sensor
    assert got["temperature"] == sent["temperature"]
    assert got["humidity"] == sent["humidity"]


def test_the_api_rejects_a_reading_that_breaks_the_schema(api) -> None:
    response = api.request("POST", "/readings", {"sensorId": "x", "temperature": "hot"})
    assert response.status_code == 400


def test_a_malformed_record_is_dead_lettered_by_the_consumer(aws, output) -> None:
    marker = f"it-{uuid.uuid4().hex[:12]}"
    started = int(time.time() * 1000) - 60_000
    put = aws("kinesis").put_record(
        StreamName=output("StreamName"), Data=b'{"sensorId": "' + marker.encode(), PartitionKey=marker
    )
    logs = aws("logs")

    def reported():
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=output("ConsumeLogGroupName"), startTime=started, filterPattern=f'"{put["SequenceNumber"]}"'
        )
        for event in (event for page in pages for event in page["events"]):
            with contextlib.suppress(ValueError):
                entry = json.loads(event["message"])
                if (
                    entry.get("message") == "record dead-lettered"
                    and entry.get("sequenceNumber") == put["SequenceNumber"]
                ):
                    return entry
        return None

    entry = wait_for(reported, f"the consumer's dead-letter report of {put['SequenceNumber']}")
    assert entry["shard"] == put["ShardId"]
    assert "not valid JSON" in entry["reason"]


@pytest.mark.efs_mount
def test_a_malformed_record_lands_in_the_dead_letter_location(aws, output) -> None:
    data_dir = os.environ.get("DATA_DIR")
    assert data_dir, "DATA_DIR must name where this runner sees the processor's file system (the EFS mount)"
    stream = output("StreamName")
    marker = f"it-{uuid.uuid4().hex[:12]}"
    put = aws("kinesis").put_record(StreamName=stream, Data=b'{"sensorId": "' + marker.encode(), PartitionKey=marker)
    path = Path(data_dir) / "dead-letter" / stream / f"{put['ShardId']}.jsonl"

    def dead_letter():
        if not path.exists():
            return None
        letters = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return next((d for d in letters if d["sequenceNumber"] == put["SequenceNumber"]), None)

    letter = wait_for(dead_letter, f"dead letter {put['SequenceNumber']} in {path}")
    assert letter["shardId"] == put["ShardId"]
    assert letter["partitionKey"] == marker
    assert letter["data"] == '{"sensorId": "' + marker
    assert letter["reason"]
