"""PostgreSQL and Redis outages while consuming: nothing lost, nothing stored twice, Redis catches up."""

from __future__ import annotations

import json

import httpx

from localaws.processes import wait_until
from localaws.servers import free_port, wait_for_port
from tests.processor.helpers import put_readings, reading, stored_count, stored_keys


def test_postgres_restart_during_consumption(kinesis, stream, postgres, database, processor_env, start_processor):
    import psycopg

    docs = [reading(f"sensor-{s:02d}", t) for s in range(10) for t in range(300)]
    put_readings(kinesis, stream, docs)
    consumer = start_processor("consume", {**processor_env, "BATCH_SIZE": "50"})

    def count() -> int:
        try:
            with psycopg.connect(**postgres.conninfo(database)) as conn:
                return stored_count(conn)
        except psycopg.OperationalError:
            return -1

    wait_until(lambda: count() > 0, 60, interval=0.01, message="consumption started")
    postgres.restart()  # every connection of the consumer is cut, mid-batch or between batches
    assert count() < len(docs), "the consumer finished before the restart; use more records"
    wait_until(lambda: count() == len(docs), 120, message="all stored after the restart")
    assert consumer.terminate() == 0
    assert "PostgreSQL error; retrying from the checkpoints" in consumer.output()
    with psycopg.connect(**postgres.conninfo(database)) as conn:
        keys = stored_keys(conn)
    assert len(keys) == len(set(keys)) == len(docs)


def test_redis_down_readings_still_stored_and_redis_catches_up(
    kinesis, stream, db, redis_server, redis_client, processor_env, start_processor
):
    consumer = start_processor("consume", processor_env)
    put_readings(kinesis, stream, [reading("sensor-r", 1, temperature=1.0)])
    wait_until(lambda: redis_client.exists("sensor:sensor-r:latest"), 30, message="Redis populated")

    port = free_port()
    server = start_processor("serve", {**processor_env, "PORT": str(port)})
    wait_for_port(port, process=server.process)
    base = f"http://127.0.0.1:{port}"

    redis_server.stop()
    try:
        put_readings(kinesis, stream, [reading("sensor-r", t, temperature=float(t)) for t in range(2, 40)])
        wait_until(lambda: stored_count(db) == 39, 60, message="readings stored while Redis is down")
        # serve: not healthy without Redis, but answers from PostgreSQL.
        health = httpx.get(f"{base}/health")
        assert health.status_code == 503 and health.json()["redis"] == "unavailable"
        assert httpx.get(f"{base}/health/live").status_code == 200  # so the load balancer keeps serve in rotation
        assert httpx.get(f"{base}/sensors/sensor-r/latest").json()["temperature"] == 39.0
    finally:
        redis_server.start()

    def cached_temperature() -> float | None:
        try:
            document = redis_client.hget("sensor:sensor-r:latest", "reading")
        except Exception:
            return None
        return document and json.loads(document)["temperature"]

    wait_until(lambda: cached_temperature() == 39.0, 60, message="Redis caught up")
    assert "Redis resynchronised from PostgreSQL" in consumer.output()
    assert httpx.get(f"{base}/health").status_code == 200
    assert consumer.terminate() == 0
    assert server.terminate() == 0


def test_a_long_redis_resync_runs_beside_consumption_and_the_heartbeat(
    kinesis, stream, db, data_dir, processor_env, start_processor
):
    from processor.migrations import apply_migrations

    apply_migrations(db)
    sensors = 300_000  # a resync of this many sensors takes seconds: longer than the batches below
    with db.cursor() as cur, cur.copy("COPY readings (sensor_id, ts, temperature, humidity) FROM STDIN") as copy:
        for i in range(sensors):
            copy.write_row((f"bulk-{i:07d}", "2025-12-01T00:00:00Z", 1.0, 2.0))
    docs = [reading("sensor-live", t) for t in range(60)]
    put_readings(kinesis, stream, docs)
    heartbeat = data_dir.parent / "heartbeat"
    consumer = start_processor("consume", {**processor_env, "BATCH_SIZE": "10", "CATCHUP_BATCH_SIZE": "10"})
    wait_until(lambda: stored_count(db) == sensors + len(docs), 60, interval=0.02, message="live readings stored")
    touched = heartbeat.stat().st_mtime
    wait_until(lambda: heartbeat.stat().st_mtime > touched, 10, interval=0.02, message="heartbeat during the resync")
    # Both happened while the resync was still running.
    assert "Redis resynchronised from PostgreSQL" not in consumer.output(), "resync too quick: use more sensors"
    wait_until(lambda: "Redis resynchronised from PostgreSQL" in consumer.output(), 120, message="resync finished")
    assert consumer.terminate() == 0
