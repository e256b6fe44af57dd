"""The happy path, as the platform runs it: records in Kinesis -> `consume` -> PostgreSQL + Redis -> `serve`."""

from __future__ import annotations

import json

import httpx

from localaws.processes import wait_until
from localaws.servers import free_port, wait_for_port
from tests.processor.helpers import put_readings, reading, stored_count, stored_keys


def test_readings_flow_from_stream_to_api(kinesis, stream, db, redis_client, processor_env, start_processor):
    docs = [reading(f"sensor-{s:03d}", t, temperature=20 + t, humidity=40 + s) for s in range(5) for t in range(30)]
    put_readings(kinesis, stream, docs)

    consumer = start_processor("consume", processor_env)
    wait_until(lambda: stored_count(db) == len(docs), 60, message="all readings stored")

    port = free_port()
    server = start_processor("serve", {**processor_env, "PORT": str(port)})
    wait_for_port(port, process=server.process)
    base = f"http://127.0.0.1:{port}"

    assert httpx.get(f"{base}/health").json() == {"status": "ok", "postgres": "ok", "redis": "ok"}
    latest = wait_until(lambda: redis_client.hget("sensor:sensor-002:latest", "reading"), 10, message="Redis")
    assert json.loads(latest) == reading("sensor-002", 29, temperature=49, humidity=42)
    body = httpx.get(f"{base}/sensors/sensor-002/latest").json()
    assert body == reading("sensor-002", 29, temperature=49, humidity=42)
    page = httpx.get(f"{base}/sensors/sensor-002/readings", params={"limit": 10}).json()
    assert [r["timestamp"] for r in page["readings"]] == [reading("s", t)["timestamp"] for t in range(10)]
    assert page["nextCursor"]

    assert consumer.terminate() == 0
    assert server.terminate() == 0
    assert len(stored_keys(db)) == len(docs)
    # The checkpoint sits on the last record of the shard: nothing left to read, nothing read twice.
    checkpoint = db.execute("SELECT sequence_number FROM shard_checkpoints").fetchone()[0]
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=checkpoint
    )["ShardIterator"]
    assert kinesis.get_records(ShardIterator=iterator)["Records"] == []
