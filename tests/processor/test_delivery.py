"""Exactly-once storage under crashes, duplicates, reordering, several consumers, resharding and SIGTERM."""

from __future__ import annotations

import json
import time

import pytest

from localaws.processes import wait_until
from processor.leases import CONSUMER_NAMESPACE, SHARD_NAMESPACE
from tests.processor.conftest import create_stream
from tests.processor.helpers import checkpointed_shards, put_readings, reading, stored_count, stored_keys


def expected_keys(docs: list[dict]) -> list[tuple[str, str]]:
    return sorted({(d["sensorId"], d["timestamp"]) for d in docs})


def as_strings(keys) -> list[tuple[str, str]]:
    return [(s, ts.isoformat().replace("+00:00", "Z")) for s, ts in keys]


def advisory_locks(db, namespace: int) -> int:
    return db.execute(
        """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        (namespace,),
    ).fetchone()[0]


def test_consumer_killed_mid_batch_loses_nothing_and_stores_nothing_twice(
    kinesis, stream, db, processor_env, start_processor
):
    docs = [reading(f"sensor-{s:02d}", t) for t in range(400) for s in range(10)]
    put_readings(kinesis, stream, docs)
    env = {**processor_env, "BATCH_SIZE": "50"}

    stored_at_kill = []
    for _ in range(3):
        consumer = start_processor("consume", env)
        before = stored_count(db)
        wait_until(lambda before=before: stored_count(db) > before, 60, interval=0.01, message="progress")
        consumer.kill()  # SIGKILL: whatever batch is in flight is abandoned mid-way
        stored_at_kill.append(stored_count(db))
    assert stored_at_kill[-1] < len(docs), "the consumer finished before the last kill; use more records"

    consumer = start_processor("consume", env)
    wait_until(lambda: stored_count(db) == len(docs), 120, message="all readings stored after restart")
    assert consumer.terminate() == 0
    assert as_strings(stored_keys(db)) == expected_keys(docs)
    # Every batch moved the checkpoint in the transaction that stored it: replays found their rows present.
    assert db.execute("SELECT count(*) FROM shard_checkpoints WHERE sequence_number IS NULL").fetchone()[0] == 0


def test_producer_duplicates_are_dropped_not_errors(kinesis, stream, db, data_dir, processor_env, start_processor):
    docs = [reading("sensor-dup", t) for t in range(50)]
    put_readings(kinesis, stream, docs + docs[10:30])  # a producer retrying part of its batch
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: checkpointed_shards(db) == 1 and stored_count(db) == 50, 60, message="batch consumed")
    time.sleep(0.5)
    assert consumer.terminate() == 0
    assert as_strings(stored_keys(db)) == expected_keys(docs)
    assert not list(data_dir.rglob("*.jsonl")), "a duplicate is not a dead letter"
    assert "ERROR" not in consumer.output()


def test_older_reading_never_replaces_newer_in_redis(kinesis, stream, db, redis_client, processor_env, start_processor):
    late = [reading("sensor-ooo", 100, temperature=30.0)] + [reading("sensor-ooo", t, temperature=t) for t in range(10)]
    consumer = start_processor("consume", {**processor_env, "BATCH_SIZE": "1"})  # one batch per record
    wait_until(lambda: redis_client.ping(), 5)
    put_readings(kinesis, stream, late)
    wait_until(lambda: stored_count(db) == len(late), 60, message="all stored")
    time.sleep(0.5)  # let the last batch's Redis update land
    assert consumer.terminate() == 0
    latest = json.loads(redis_client.hget("sensor:sensor-ooo:latest", "reading"))
    assert latest["timestamp"] == reading("x", 100)["timestamp"] and latest["temperature"] == 30.0
    row = db.execute(
        "SELECT temperature FROM readings WHERE sensor_id = 'sensor-ooo' ORDER BY ts DESC LIMIT 1"
    ).fetchone()
    assert row == (30.0,)


def test_two_consumers_share_a_multi_shard_stream_and_take_over_from_a_dead_one(
    kinesis, db, processor_env, start_processor
):
    stream = create_stream(kinesis, shards=4)
    env = {**processor_env, "STREAM_NAME": stream}
    first = start_processor("consume", env)
    second = start_processor("consume", env)
    owned = lambda: advisory_locks(db, SHARD_NAMESPACE)  # noqa: E731
    wait_until(lambda: owned() == 4, 30, message="all four shards owned")
    wait_until(
        lambda: "shard acquired" in first.output() and "shard acquired" in second.output(),
        30,
        message="both consumers own shards",
    )

    docs = [reading(f"sensor-{s:03d}", t) for s in range(40) for t in range(50)]
    put_readings(kinesis, stream, docs[:1000])
    wait_until(lambda: stored_count(db) == 1000, 60, message="first half stored")

    first.kill()  # its shards' locks die with its session; the survivor takes them over
    put_readings(kinesis, stream, docs[1000:])
    wait_until(lambda: stored_count(db) == len(docs), 60, message="all stored by the survivor")
    assert as_strings(stored_keys(db)) == expected_keys(docs)
    assert advisory_locks(db, SHARD_NAMESPACE) == 4
    assert second.terminate() == 0


def test_resharding_reads_children_after_parent(kinesis, db, processor_env, start_processor):
    stream = create_stream(kinesis, shards=1)
    env = {**processor_env, "STREAM_NAME": stream}
    consumer = start_processor("consume", env)
    before = [reading(f"sensor-{s:02d}", t) for s in range(20) for t in range(10)]
    put_readings(kinesis, stream, before)
    wait_until(lambda: stored_count(db) == len(before), 60, message="parent shard consumed")

    parent = kinesis.list_shards(StreamName=stream)["Shards"][0]
    middle = str(int(parent["HashKeyRange"]["EndingHashKey"]) // 2)
    kinesis.split_shard(StreamName=stream, ShardToSplit=parent["ShardId"], NewStartingHashKey=middle)
    after = [reading(f"sensor-{s:02d}", t) for s in range(20) for t in range(10, 20)]
    put_readings(kinesis, stream, after)

    wait_until(lambda: stored_count(db) == len(before) + len(after), 60, message="children consumed")
    assert consumer.terminate() == 0
    assert as_strings(stored_keys(db)) == expected_keys(before + after)
    rows = dict(db.execute("SELECT shard_id, finished FROM shard_checkpoints").fetchall())
    assert rows[parent["ShardId"]] is True
    assert len(rows) == 3 and sum(not finished for finished in rows.values()) == 2


@pytest.mark.parametrize("backlog", [0, 2000])
def test_sigterm_finishes_the_batch_releases_shards_and_exits_zero(
    backlog, kinesis, stream, db, processor_env, start_processor
):
    docs = [reading(f"sensor-{s:02d}", t) for s in range(20) for t in range(backlog // 20)]
    put_readings(kinesis, stream, docs)
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: advisory_locks(db, SHARD_NAMESPACE) == 1, 30, message="shard owned")
    if backlog:
        wait_until(lambda: stored_count(db) > 0, 30, message="consuming")
    assert consumer.terminate(timeout=30) == 0
    assert "consumer stopped" in consumer.output()
    assert advisory_locks(db, SHARD_NAMESPACE) == 0
    assert advisory_locks(db, CONSUMER_NAMESPACE) == 0
    # What it stored matches its checkpoint exactly: a restart resumes with no gap and no replay.
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: advisory_locks(db, SHARD_NAMESPACE) == 1, 30, message="shard owned again")
    wait_until(lambda: stored_count(db) == len(docs), 60, message="rest stored after restart")
    assert consumer.terminate() == 0
    assert as_strings(stored_keys(db)) == expected_keys(docs)
