"""The query API against real PostgreSQL and Redis: answers, pagination, 400s and 404s, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from localaws.processes import wait_until
from localaws.servers import free_port, wait_for_port
from processor.api import create_app
from processor.config import ServerSettings
from processor.migrations import apply_migrations
from processor.readings import parse_reading
from processor.store import ReadingStore
from tests.processor.helpers import put_readings, reading


@pytest.fixture
def client(processor_env, postgres, database, redis_client) -> Iterator[TestClient]:
    with psycopg.connect(**postgres.conninfo(database), autocommit=True) as conn:
        apply_migrations(conn)
        store = ReadingStore(conn, "stream")
        store.ensure_checkpoint("shard-1")
        docs = [reading("sensor-a", t, temperature=float(t)) for t in range(250)]
        store.commit_batch("shard-1", None, "1", [parse_reading(json.dumps(d)).to_row() for d in docs])
    with TestClient(create_app(ServerSettings.from_env(processor_env))) as test_client:
        yield test_client


def test_latest_falls_back_to_postgres_when_redis_has_no_entry(client):
    response = client.get("/sensors/sensor-a/latest")
    assert response.status_code == 200
    assert response.json() == reading("sensor-a", 249, temperature=249.0)


def test_latest_prefers_redis(client, redis_client):
    cached = {**reading("sensor-a", 999, temperature=-1.0), "voltage": 3.3}
    redis_client.hset("sensor:sensor-a:latest", mapping={"ts": 1, "reading": json.dumps(cached)})
    assert client.get("/sensors/sensor-a/latest").json() == cached


def test_readings_are_paginated_in_time_order_with_a_cursor(client):
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 100}
    while True:
        page = client.get("/sensors/sensor-a/readings", params=params).json()
        seen += [r["timestamp"] for r in page["readings"]]
        if not page["nextCursor"]:
            break
        params["cursor"] = page["nextCursor"]
    assert seen == [reading("x", t)["timestamp"] for t in range(250)]


def test_readings_window_is_from_inclusive_to_exclusive(client):
    page = client.get(
        "/sensors/sensor-a/readings",
        params={"from": reading("x", 10)["timestamp"], "to": reading("x", 15)["timestamp"]},
    ).json()
    assert [r["temperature"] for r in page["readings"]] == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert page["nextCursor"] is None


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/sensors/sensor-a/readings", {"limit": 0}, "limit"),
        ("/sensors/sensor-a/readings", {"limit": 1001}, "limit"),
        ("/sensors/sensor-a/readings", {"limit": "ten"}, "limit"),
        ("/sensors/sensor-a/readings", {"from": "yesterday"}, "from must be an RFC 3339"),
        ("/sensors/sensor-a/readings", {"from": "2025-12-05T00:00:00Z", "to": "2025-12-04T00:00:00Z"}, "earlier"),
        ("/sensors/sensor-a/readings", {"cursor": "!!!"}, "cursor"),
        ("/sensors/bad%20id/latest", {}, "sensorId may contain only"),
    ],
)
def test_bad_parameters_get_400_with_a_message(client, path, params, message):
    response = client.get(path, params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.parametrize("path", ["/sensors/nobody/latest", "/sensors/nobody/readings"])
def test_unknown_sensor_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": "sensor nobody has no readings"}


def test_health_and_openapi(client):
    assert client.get("/health").json() == {"status": "ok", "postgres": "ok", "redis": "ok"}
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {
        "/health",
        "/health/live",
        "/sensors/{sensor_id}/latest",
        "/sensors/{sensor_id}/readings",
    }
    assert client.get("/health/live").json() == {"status": "ok", "postgres": "ok", "redis": "unchecked"}


def test_every_answer_gives_times_in_utc_whatever_the_device_and_database_zones(
    kinesis, stream, db, database, redis_client, processor_env, start_processor
):
    db.execute(f"ALTER DATABASE \"{database}\" SET timezone = 'America/New_York'")
    put_readings(kinesis, stream, [{**reading("sensor-tz", 0), "timestamp": "2025-12-04T10:00:00.5+02:00"}])
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: redis_client.exists("sensor:sensor-tz:latest"), 30, message="stored and cached")
    port = free_port()
    server = start_processor("serve", {**processor_env, "PORT": str(port)})
    wait_for_port(port, process=server.process)
    latest = httpx.get(f"http://127.0.0.1:{port}/sensors/sensor-tz/latest").json()
    page = httpx.get(f"http://127.0.0.1:{port}/sensors/sensor-tz/readings").json()
    assert consumer.terminate() == 0 and server.terminate() == 0
    assert latest["timestamp"] == page["readings"][0]["timestamp"] == "2025-12-04T08:00:00.500000Z"


def test_history_queries_keep_their_index_range_under_generic_plans(postgres, database, processor_env, redis_client):
    with psycopg.connect(**postgres.conninfo(database), autocommit=True) as conn:
        apply_migrations(conn)
        store = ReadingStore(conn, "stream")
        store.ensure_checkpoint("shard-1")
        docs = [reading("sensor-p", t) for t in range(50)]
        store.commit_batch("shard-1", None, "1", [parse_reading(json.dumps(d)).to_row() for d in docs])
        for name, value in (
            ("session_preload_libraries", "auto_explain"),
            ("auto_explain.log_min_duration", "0"),
            ("plan_cache_mode", "force_generic_plan"),  # what PostgreSQL picks after 5 runs of a prepared statement
        ):
            conn.execute(f"ALTER DATABASE \"{database}\" SET {name} = '{value}'")
    log_start = postgres.logfile.stat().st_size
    with TestClient(create_app(ServerSettings.from_env(processor_env))) as client:
        for _ in range(8):  # psycopg prepares a statement on its 6th run
            response = client.get(
                "/sensors/sensor-p/readings", params={"from": reading("x", 10)["timestamp"], "limit": 5}
            )
            assert response.status_code == 200 and len(response.json()["readings"]) == 5
    with postgres.logfile.open(errors="replace") as log:
        log.seek(log_start)
        plans = [p for p in log.read().split("LOG:  duration:") if "ORDER BY ts LIMIT" in p]
    assert len(plans) >= 8
    for plan in plans:
        cond = next(line for line in plan.splitlines() if "Index Cond:" in line)
        assert "ts >=" in cond, f"the time range is not an index condition:\n{plan}"


def test_no_database_connection_in_time_is_a_503_to_retry(processor_env, redis_client):
    env = {**processor_env, "DB_PORT": str(free_port()), "DB_POOL_TIMEOUT_SECONDS": "1"}  # nothing listens there
    with TestClient(create_app(ServerSettings.from_env(env))) as client:
        response = client.get("/sensors/nobody/readings")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {"error": "the database is busy or unavailable; retry shortly"}
