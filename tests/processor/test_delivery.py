"""Exactly-once storage under crashes, duplicates, reordering, several consumers, resharding and SIGTERM."""

from __future__ import annotations

import json
import time

import pytest

from localaws.processes import wait_until
from tests.processor.conftest import create_stream
from tests.processor.helpers import (
    assert_each_record_committed_once,
    checkpointed_shards,
    committed_ranges,
    consumer_locks,
    put_readings,
    reading,
    shard_locks,
    stored_count,
    stored_keys,
)


def records_up_to(kinesis, stream: str, sequence: str | None) -> list[dict]:
    """The shard's records from its start up to and including `sequence`."""
    if sequence is None:
        return []
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict] = []
    while iterator:
        response = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        for record in response["Records"]:
            records.append(record)
            if record["SequenceNumber"] == sequence:
                return records
        if not response["Records"]:
            break
        iterator = response.get("NextShardIterator")
    raise AssertionError(f"checkpoint {sequence} is not a record of the shard")


def expected_keys(docs: list[dict]) -> list[tuple[str, str]]:
    return sorted({(d["sensorId"], d["timestamp"]) for d in docs})


def as_strings(keys) -> list[tuple[str, str]]:
    return [(s, ts.isoformat().replace("+00:00", "Z")) for s, ts in keys]


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
    owned = lambda: shard_locks(db, kinesis, stream)  # noqa: E731
    wait_until(lambda: owned() == 4, 30, message="all four shards owned")
    wait_until(
        lambda: "shard acquired" in first.output() and "shard acquired" in second.output(),
        30,
        message="both consumers own shards",
    )

    docs = [reading(f"sensor-{s:03d}", t) for s in range(40) for t in range(50)]
    put_readings(kinesis, stream, docs[:1000])
    wait_until(lambda: stored_count(db) == 1000, 60, message="first half stored")
    # Both tasks worked, on disjoint sets of shards, and each record was committed by exactly one of them.
    shards_of = [{shard for shard, _, _ in committed_ranges(p.output())} for p in (first, second)]
    assert shards_of[0] and shards_of[1] and not shards_of[0] & shards_of[1], shards_of
    assert_each_record_committed_once([first.output(), second.output()])

    first.kill()  # its shards' locks die with its session; the survivor takes them over
    put_readings(kinesis, stream, docs[1000:])
    wait_until(lambda: stored_count(db) == len(docs), 60, message="all stored by the survivor")
    assert as_strings(stored_keys(db)) == expected_keys(docs)
    assert shard_locks(db, kinesis, stream) == 4
    assert second.terminate() == 0
    assert_each_record_committed_once([first.output(), second.output()], allow_gaps=True)


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


def test_records_still_in_the_parent_when_it_splits_are_read_before_the_children_and_a_merge(
    kinesis, db, processor_env, start_processor
):
    stream = create_stream(kinesis, shards=1)
    env = {**processor_env, "STREAM_NAME": stream, "BATCH_SIZE": "50"}
    in_parent = [reading(f"sensor-{s:02d}", t) for s in range(20) for t in range(10)]
    put_readings(kinesis, stream, in_parent)  # nobody has read them yet when the shard splits
    parent = kinesis.list_shards(StreamName=stream)["Shards"][0]
    middle = str(int(parent["HashKeyRange"]["EndingHashKey"]) // 2)
    kinesis.split_shard(StreamName=stream, ShardToSplit=parent["ShardId"], NewStartingHashKey=middle)
    wait_until(lambda: len(kinesis.list_shards(StreamName=stream)["Shards"]) == 3, 10, message="split")
    in_children = [reading(f"sensor-{s:02d}", t) for s in range(20) for t in range(10, 20)]
    put_readings(kinesis, stream, in_children)
    consumer = start_processor("consume", env)
    wait_until(lambda: stored_count(db) == len(in_parent) + len(in_children), 60, message="children consumed")

    children = sorted(s["ShardId"] for s in kinesis.list_shards(StreamName=stream)["Shards"] if s.get("ParentShardId"))
    kinesis.merge_shards(StreamName=stream, ShardToMerge=children[0], AdjacentShardToMerge=children[1])
    wait_until(lambda: len(kinesis.list_shards(StreamName=stream)["Shards"]) == 4, 10, message="merge")
    after_merge = [reading(f"sensor-{s:02d}", t) for s in range(20) for t in range(20, 25)]
    put_readings(kinesis, stream, after_merge)
    total = len(in_parent) + len(in_children) + len(after_merge)
    wait_until(lambda: stored_count(db) == total, 60, message="merged shard consumed")
    assert consumer.terminate() == 0
    assert as_strings(stored_keys(db)) == expected_keys(in_parent + in_children + after_merge)

    order = [shard for shard, _, _ in committed_ranges(consumer.output())]
    merged = next(
        s["ShardId"] for s in kinesis.list_shards(StreamName=stream)["Shards"] if s.get("AdjacentParentShardId")
    )
    last_parent_batch = max(i for i, shard in enumerate(order) if shard == parent["ShardId"])
    first_child_batch = min(i for i, shard in enumerate(order) if shard in children)
    assert last_parent_batch < first_child_batch, order  # the parent was finished before any child was read
    last_child_batch = max(i for i, shard in enumerate(order) if shard in children)
    assert last_child_batch < min(i for i, shard in enumerate(order) if shard == merged), order
    finished = dict(db.execute("SELECT shard_id, finished FROM shard_checkpoints").fetchall())
    assert finished == {parent["ShardId"]: True, children[0]: True, children[1]: True, merged: False}
    assert_each_record_committed_once([consumer.output()])


@pytest.mark.parametrize("backlog", [0, 2000])
def test_sigterm_finishes_the_batch_releases_shards_and_exits_zero(
    backlog, kinesis, stream, db, processor_env, start_processor
):
    docs = [reading(f"sensor-{s:02d}", t) for s in range(20) for t in range(backlog // 20)]
    put_readings(kinesis, stream, docs)
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: shard_locks(db, kinesis, stream) == 1, 30, message="shard owned")
    if backlog:
        wait_until(lambda: stored_count(db) > 0, 30, message="consuming")
    assert consumer.terminate(timeout=30) == 0
    assert "consumer stopped" in consumer.output()
    assert shard_locks(db, kinesis, stream) == 0
    assert consumer_locks(db, stream) == 0
    # The batch in flight was finished, not abandoned: what is stored is exactly the records up to the checkpoint.
    checkpoint = db.execute("SELECT sequence_number FROM shard_checkpoints").fetchone()
    upto = records_up_to(kinesis, stream, checkpoint[0] if checkpoint else None)
    assert as_strings(stored_keys(db)) == expected_keys([json.loads(r["Data"]) for r in upto])
    if backlog:
        assert 0 < len(upto) < len(docs), "SIGTERM came after the backlog was consumed; use more records"
    # What it stored matches its checkpoint exactly: a restart resumes with no gap and no replay.
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: shard_locks(db, kinesis, stream) == 1, 30, message="shard owned again")
    wait_until(lambda: stored_count(db) == len(docs), 60, message="rest stored after restart")
    assert consumer.terminate() == 0
    assert as_strings(stored_keys(db)) == expected_keys(docs)
