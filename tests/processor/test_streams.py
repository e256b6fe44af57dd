"""What real Kinesis streams do (issue #11): throttles, vanished shards, backlogs, KPL aggregation, recreated streams,
two streams on one database, deploys handing shards over; the proxy in front of moto plays AWS's side."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from localaws.processes import wait_until
from tests.processor.conftest import create_stream
from tests.processor.helpers import (
    assert_each_record_committed_once,
    dead_letters,
    metric_values,
    put_readings,
    reading,
    shard_locks,
    stored_count,
    stored_keys,
)
from tests.processor.kinesis_proxy import KinesisProxy


def keys_of(docs: list[dict]) -> list[tuple[str, str]]:
    return sorted({(d["sensorId"], d["timestamp"]) for d in docs})


def as_strings(keys) -> list[tuple[str, str]]:
    return [(s, ts.isoformat().replace("+00:00", "Z")) for s, ts in keys]


def put_to_shard(kinesis, stream: str, shard: dict, docs: list[dict]) -> None:
    """Put readings into one given shard (ExplicitHashKey inside its range)."""
    key = shard["HashKeyRange"]["StartingHashKey"]
    for start in range(0, len(docs), 500):
        entries = [
            {"Data": json.dumps(d).encode(), "PartitionKey": d["sensorId"], "ExplicitHashKey": key}
            for d in docs[start : start + 500]
        ]
        assert kinesis.put_records(StreamName=stream, Records=entries)["FailedRecordCount"] == 0


@pytest.fixture
def proxy(moto) -> Iterator[KinesisProxy]:
    with KinesisProxy(moto.endpoint) as running:
        yield running


def test_a_throttled_shard_backs_off_alone_while_the_others_are_read(
    kinesis, db, processor_env, proxy, start_processor
):
    stream = create_stream(kinesis, shards=2)
    first, second = kinesis.list_shards(StreamName=stream)["Shards"]
    throttled = first["ShardId"]
    budget = threading.Semaphore(12)  # the first 12 reads of the first shard are throttled

    def fault(target: str, request: dict) -> tuple[str, str] | None:
        ours = target == "GetRecords" and request_shard(request) == throttled
        if ours and budget.acquire(blocking=False):
            return "ProvisionedThroughputExceededException", "Rate exceeded for shard " + throttled
        return None

    proxy.fault = fault
    docs_a = [reading(f"a-{i:02d}", t) for i in range(10) for t in range(10)]
    docs_b = [reading(f"b-{i:02d}", t) for i in range(10) for t in range(10)]
    put_to_shard(kinesis, stream, first, docs_a)
    put_to_shard(kinesis, stream, second, docs_b)
    consumer = start_processor("consume", {**processor_env, "STREAM_NAME": stream, "AWS_ENDPOINT_URL": proxy.endpoint})

    wait_until(lambda: stored_count(db) >= len(docs_b), 60, message="the other shard stored")
    # The other shard was stored while the first was still being throttled (throttles still to come).
    assert budget._value > 0, "the throttled shard ran out of throttles before the other shard was stored"
    wait_until(lambda: stored_count(db) == len(docs_a) + len(docs_b), 90, message="the throttled shard caught up")
    assert consumer.terminate() == 0
    assert as_strings(stored_keys(db)) == keys_of(docs_a + docs_b)
    assert len(proxy.of("GetRecords", throttled, faults=True)) == 12  # the throttles really were returned
    assert len(metric_values(consumer.output(), "ReadThrottles")) == 12
    assert "Kinesis error; retrying" not in consumer.output()  # no stream-wide reset


def request_shard(request: dict) -> str | None:
    from tests.processor.kinesis_proxy import _shard_of

    return _shard_of(request)


def test_reads_are_paced_per_shard_and_a_backlog_is_read_in_big_batches(
    kinesis, db, processor_env, proxy, start_processor
):
    stream = create_stream(kinesis, shards=2)
    busy, idle = kinesis.list_shards(StreamName=stream)["Shards"]
    docs = [reading(f"s-{i:03d}", t) for t in range(30) for i in range(100)]
    put_to_shard(kinesis, stream, busy, docs[:1500])
    put_to_shard(kinesis, stream, busy, docs[1500:])  # a second call: the first records are now "behind"
    env = {
        **processor_env,
        "STREAM_NAME": stream,
        "AWS_ENDPOINT_URL": proxy.endpoint,
        "BATCH_SIZE": "100",
        "CATCHUP_BATCH_SIZE": "10000",
        "IDLE_SLEEP_SECONDS": "1.0",
    }
    consumer = start_processor("consume", env)
    wait_until(lambda: stored_count(db) == len(docs), 60, message="backlog stored")
    wait_until(lambda: len(proxy.of("GetRecords", idle["ShardId"])) >= 4, 30, message="idle shard polled")
    assert consumer.terminate() == 0

    for shard in (busy["ShardId"], idle["ShardId"]):
        gaps = [b.at - a.at for a, b in itertools.pairwise(proxy.of("GetRecords", shard))]
        assert min(gaps) >= 0.19, f"{shard} read faster than Kinesis's 5 GetRecords/s: {min(gaps):.3f}s apart"
        if shard == idle["ShardId"]:
            assert min(gaps) >= 0.9, "an idle shard was polled more often than IDLE_SLEEP_SECONDS"
    limits = [c.request["Limit"] for c in proxy.of("GetRecords", busy["ShardId"])]
    assert limits[0] == 100 and 10000 in limits, limits  # behind: catch-up batches


def test_a_vanished_shard_is_finished_and_the_others_go_on(kinesis, db, processor_env, proxy, start_processor):
    stream = create_stream(kinesis, shards=2)
    first, second = kinesis.list_shards(StreamName=stream)["Shards"]
    gone = threading.Event()

    def fault(target: str, request: dict) -> tuple[str, str] | None:
        if (
            gone.is_set()
            and target in ("GetRecords", "GetShardIterator")
            and request_shard(request) == first["ShardId"]
        ):
            return "ResourceNotFoundException", f"Shard {first['ShardId']} in stream {stream} does not exist"
        return None

    def rewrite(target: str, _request: dict, response: dict) -> dict:
        if gone.is_set() and target == "ListShards":
            response["Shards"] = [s for s in response["Shards"] if s["ShardId"] != first["ShardId"]]
        return response

    proxy.fault, proxy.rewrite = fault, rewrite
    env = {**processor_env, "STREAM_NAME": stream, "AWS_ENDPOINT_URL": proxy.endpoint}
    consumer = start_processor("consume", env)
    wait_until(lambda: consumer.output().count("shard acquired") == 2, 30, message="both shards owned")
    gone.set()  # the first shard ages out of the retention period
    later = [reading(f"late-{i}", t) for i in range(5) for t in range(20)]
    put_to_shard(kinesis, stream, second, later)
    wait_until(lambda: stored_count(db) == len(later), 60, message="the other shard still read")
    wait_until(
        lambda: (
            db.execute("SELECT finished FROM shard_checkpoints WHERE shard_id = %s", (first["ShardId"],)).fetchone()
            == (True,)
        ),
        30,
        message="vanished shard marked finished",
    )
    assert consumer.terminate() == 0
    assert proxy.of("GetRecords", first["ShardId"], faults=True) or proxy.of(
        "GetShardIterator", first["ShardId"], faults=True
    )
    assert "shard is gone from the stream" in consumer.output()


def test_kpl_aggregated_records_are_de_aggregated(kinesis, stream, db, data_dir, processor_env, start_processor):
    docs = [reading(f"kpl-{i}", t) for i in range(5) for t in range(40)]
    aggregator = RecordAggregator()
    sent = 0
    for doc in docs:
        full = aggregator.add_user_record(doc["sensorId"], json.dumps(doc).encode())
        if full is not None:
            pk, _, data = full.get_contents()
            kinesis.put_record(StreamName=stream, PartitionKey=pk, Data=data)
            sent += 1
    pk, _, data = aggregator.clear_and_get().get_contents()
    kinesis.put_record(StreamName=stream, PartitionKey=pk, Data=data)
    # One aggregated record with a bad digest: dead-lettered whole, with a reason.
    corrupt = bytearray(data)
    corrupt[-1] ^= 0xFF
    kinesis.put_record(StreamName=stream, PartitionKey="broken", Data=bytes(corrupt))
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: stored_count(db) == len(docs), 60, message="de-aggregated readings stored")
    wait_until(lambda: len(dead_letters(data_dir)) == 1, 30, message="corrupt aggregate dead-lettered")
    assert consumer.terminate() == 0
    assert as_strings(stored_keys(db)) == keys_of(docs)
    assert "KPL-aggregated" in dead_letters(data_dir)[0]["reason"]
    processed = sum(m["RecordsProcessed"] for m in metric_values(consumer.output(), "RecordsProcessed"))
    assert processed == len(docs)


def test_a_stream_recreated_under_the_same_name_starts_from_its_own_beginning(
    kinesis, stream, db, processor_env, start_processor
):
    first = [reading(f"old-{i}", t) for i in range(5) for t in range(40)]
    put_readings(kinesis, stream, first)
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: stored_count(db) == len(first), 60, message="first stream consumed")
    assert consumer.terminate() == 0

    kinesis.delete_stream(StreamName=stream)
    wait_until(lambda: stream not in kinesis.list_streams()["StreamNames"], 10, message="stream deleted")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    wait_until(
        lambda: (
            kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
        ),
        10,
    )
    second = [reading(f"new-{i}", t) for i in range(3) for t in range(5)]
    put_readings(kinesis, stream, second)
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: stored_count(db) == len(first) + len(second), 60, message="recreated stream consumed")
    assert consumer.terminate() == 0
    assert "discarded the checkpoints of an earlier stream with the same name" in consumer.output()


def test_two_streams_share_one_database_and_every_shard_of_both_is_read(kinesis, db, processor_env, start_processor):
    streams = [create_stream(kinesis, shards=2), create_stream(kinesis, shards=2)]
    docs = {s: [reading(f"{n}-{i:02d}", t) for i in range(20) for t in range(10)] for n, s in enumerate(streams)}
    consumers = []
    for s in streams:
        put_readings(kinesis, s, docs[s])
        consumers.append(start_processor("consume", {**processor_env, "STREAM_NAME": s}))
    total = sum(len(d) for d in docs.values())
    wait_until(lambda: stored_count(db) == total, 60, message="both streams fully stored")
    for s in streams:
        assert shard_locks(db, kinesis, s) == 2
    for consumer in consumers:
        assert consumer.terminate() == 0


def test_a_deploy_hands_shards_over_at_once(kinesis, db, processor_env, start_processor):
    stream = create_stream(kinesis, shards=4)
    env = {**processor_env, "STREAM_NAME": stream, "REBALANCE_SECONDS": "600"}  # only a hand-off can move shards
    old = start_processor("consume", env)
    wait_until(lambda: old.output().count("shard acquired") == 4, 30, message="old task owns all shards")
    new = start_processor("consume", env)
    # The newcomer announces itself: the old task gives up half its shards now, not in 10 minutes.
    wait_until(lambda: new.output().count("shard acquired") == 2, 30, message="newcomer got its share")
    assert old.terminate() == 0  # SIGTERM: its shards go to the survivor now
    wait_until(lambda: new.output().count("shard acquired") == 4, 30, message="survivor took every shard")
    docs = [reading(f"s-{i:02d}", t) for i in range(20) for t in range(5)]
    put_readings(kinesis, stream, docs)
    wait_until(lambda: stored_count(db) == len(docs), 60, message="all stored by the survivor")
    assert new.terminate() == 0


def test_lag_and_leases_are_reported_and_the_lag_grows_while_the_consumer_is_stuck(
    kinesis, stream, db, processor_env, start_processor
):
    env = {**processor_env, "METRICS_SECONDS": "0.3"}
    consumer = start_processor("consume", env)
    wait_until(lambda: metric_values(consumer.output(), "LeasesHeld"), 30, message="leases metric")
    put_readings(kinesis, stream, [reading("lag", 0)])
    wait_until(lambda: stored_count(db) == 1, 30, message="first reading stored")
    # Stick the consumer: hold its checkpoint row locked so its next commit waits (up to its lock_timeout).
    with db.transaction():
        db.execute("SELECT * FROM shard_checkpoints FOR UPDATE")
        put_readings(kinesis, stream, [reading("lag", t) for t in range(1, 20)])
        wait_until(lambda: len(metric_values(consumer.output(), "MillisBehindLatest")) >= 5, 30)
        before = len(metric_values(consumer.output(), "MillisBehindLatest"))
        wait_until(lambda: len(metric_values(consumer.output(), "MillisBehindLatest")) >= before + 8, 30)
        lags = [m["MillisBehindLatest"] for m in metric_values(consumer.output(), "MillisBehindLatest")][before:]
    assert lags == sorted(lags) and lags[-1] - lags[0] >= 1500, lags  # reported, and growing, while stuck
    wait_until(lambda: stored_count(db) == 20, 30, message="unstuck")
    assert consumer.terminate() == 0
    metric = metric_values(consumer.output(), "MillisBehindLatest")[0]
    assert metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["StreamName", "ShardId"]]
    leases = metric_values(consumer.output(), "LeasesHeld")[-1]
    assert leases["LeasesHeld"] == 1 and leases["StreamName"] == stream


def test_an_expired_iterator_is_renewed_for_its_shard_only(kinesis, db, processor_env, proxy, start_processor):
    stream = create_stream(kinesis, shards=2)
    first, second = kinesis.list_shards(StreamName=stream)["Shards"]
    expiries = threading.Semaphore(3)

    def fault(target: str, request: dict) -> tuple[str, str] | None:
        if target == "GetRecords" and request_shard(request) == first["ShardId"] and expiries.acquire(blocking=False):
            return "ExpiredIteratorException", "Iterator expired. The iterator was created at time ..."
        return None

    proxy.fault = fault
    docs_a = [reading(f"e-{i:02d}", t) for i in range(10) for t in range(10)]
    docs_b = [reading(f"f-{i:02d}", t) for i in range(10) for t in range(10)]
    put_to_shard(kinesis, stream, first, docs_a)
    put_to_shard(kinesis, stream, second, docs_b)
    env = {**processor_env, "STREAM_NAME": stream, "AWS_ENDPOINT_URL": proxy.endpoint}
    consumer = start_processor("consume", env)
    wait_until(lambda: stored_count(db) == len(docs_a) + len(docs_b), 60, message="both shards stored")
    assert consumer.terminate() == 0
    assert len(proxy.of("GetRecords", first["ShardId"], faults=True)) == 3  # the expiries really were returned
    # Each expiry renewed that shard's iterator (from its checkpoint), and never the other shard's.
    assert len(proxy.of("GetShardIterator", first["ShardId"])) >= 4
    assert len(proxy.of("GetShardIterator", second["ShardId"])) == 1
    assert as_strings(stored_keys(db)) == keys_of(docs_a + docs_b)
    assert_each_record_committed_once([consumer.output()])
