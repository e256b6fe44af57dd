"""Failover and faults (issue #11): zombie leases, lock waits, session settings, lock-key collisions, an ambiguous
COMMIT, SIGTERM during a dead-letter failure, a crash between the dead-letter fsync and the COMMIT."""

from __future__ import annotations

import json
import threading

import boto3
import psycopg
import pytest
import redis

from localaws.processes import wait_until
from processor import deadletter, store
from processor.config import ConsumerSettings
from processor.consumer import Consumer, ShardState
from processor.db import Credentials
from processor.leases import ShardLeases, lock_key
from tests.processor.conftest import create_stream
from tests.processor.helpers import (
    assert_each_record_committed_once,
    dead_letters,
    put_readings,
    reading,
    shard_locks,
    stored_count,
    stored_keys,
)


def lease_backend(db, stream: str, shard: str) -> int:
    """The pid of the session holding the shard's advisory lock."""
    key = lock_key("shard", stream, shard)
    return db.execute(
        """SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
            AND ((classid::bigint << 32) | objid::bigint) = %s""",
        (key,),
    ).fetchone()[0]


def test_a_zombie_lease_is_noticed_and_no_record_is_committed_twice(kinesis, db, processor_env, start_processor):
    stream = create_stream(kinesis, shards=2)
    env = {**processor_env, "STREAM_NAME": stream, "BATCH_SIZE": "20"}
    first = start_processor("consume", env)
    wait_until(lambda: shard_locks(db, kinesis, stream) == 2, 30, message="first task owns both shards")
    second = start_processor("consume", env)
    wait_until(lambda: "shard acquired" in second.output(), 30, message="second task owns a shard")
    docs = [reading(f"z-{i:02d}", t) for i in range(20) for t in range(30)]
    put_readings(kinesis, stream, docs[:300])
    wait_until(lambda: stored_count(db) > 50, 60, message="consuming")
    shard = next(s["ShardId"] for s in kinesis.list_shards(StreamName=stream)["Shards"])
    pid = lease_backend(db, stream, shard)
    assert db.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)  # the lease is gone
    put_readings(kinesis, stream, docs[300:])
    wait_until(lambda: stored_count(db) == len(docs), 90, message="all stored after the lease loss")
    wait_until(lambda: shard_locks(db, kinesis, stream) == 2, 30, message="both shards owned again")
    outputs = [first.output(), second.output()]
    assert any("PostgreSQL error; retrying from the checkpoints" in out for out in outputs)  # noticed, reconnected
    assert first.process.poll() is None and second.process.poll() is None
    assert first.terminate() == 0 and second.terminate() == 0
    assert_each_record_committed_once([first.output(), second.output()])
    assert len(stored_keys(db)) == len(docs)


def test_a_lock_wait_ends_at_the_lock_timeout_instead_of_hanging(kinesis, stream, db, processor_env, start_processor):
    consumer = start_processor("consume", processor_env)
    put_readings(kinesis, stream, [reading("lock", 0)])
    wait_until(lambda: stored_count(db) == 1, 30, message="first reading stored")
    with db.transaction():
        db.execute("SELECT * FROM shard_checkpoints FOR UPDATE")  # a stuck session holding the row
        put_readings(kinesis, stream, [reading("lock", 1)])
        wait_until(lambda: "lock timeout" in consumer.output(), 30, message="the commit gave up waiting")
    wait_until(lambda: stored_count(db) == 2, 30, message="stored once the lock is gone")
    assert consumer.terminate() == 0


def test_every_session_notices_a_dead_peer_within_seconds(postgres, database, processor_env):
    settings = ConsumerSettings.from_env({**processor_env, "DB_NAME": database})
    credentials = Credentials(settings.database, "consume", settings.stream_name)
    leases = ShardLeases(lambda: credentials.connect(statement_timeout_ms=10_000, autocommit=True), "s")
    try:
        shown = {
            name: leases.conn.execute(f"SHOW {name}").fetchone()[0]
            for name in (
                "tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count", "tcp_user_timeout",
                "statement_timeout", "lock_timeout", "TimeZone",
            )
        }  # fmt: skip
    finally:
        leases.close()
    assert shown == {
        "tcp_keepalives_idle": "10",
        "tcp_keepalives_interval": "5",
        "tcp_keepalives_count": "3",
        "tcp_user_timeout": "30000",
        "statement_timeout": "10s",
        "lock_timeout": "10s",
        "TimeZone": "UTC",
    }


def test_shards_whose_32_bit_lock_keys_collide_are_owned_by_different_tasks(postgres, database, db, processor_env):
    stream = "collisions"
    # Two shard ids whose old key, hashtext('<stream>/<shard>'), is the same 32-bit number.
    a, b = db.execute(
        """SELECT (array_agg(s))[1], (array_agg(s))[2] FROM (
               SELECT 'shardId-' || lpad(i::text, 12, '0') AS s FROM generate_series(0, 300000) AS i) shards
           GROUP BY hashtext('collisions/' || s) HAVING count(*) > 1 LIMIT 1"""
    ).fetchone()
    assert db.execute("SELECT hashtext(%s) = hashtext(%s)", (f"{stream}/{a}", f"{stream}/{b}")).fetchone() == (True,)
    settings = ConsumerSettings.from_env({**processor_env, "DB_NAME": database})
    credentials = Credentials(settings.database, "consume", settings.stream_name)
    connect = lambda: credentials.connect(autocommit=True)  # noqa: E731
    one, two = ShardLeases(connect, stream), ShardLeases(connect, stream)
    try:
        assert one.try_acquire(a)
        assert two.try_acquire(b), "a lock-key collision left a shard without an owner"
        assert not two.try_acquire(a)
        assert one.live_consumers() == two.live_consumers() == 2
    finally:
        one.close()
        two.close()


def in_process_consumer(env: dict[str, str], redis_server) -> tuple[Consumer, threading.Thread, list]:
    settings = ConsumerSettings.from_env(env)
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, password=redis_server.password)
    consumer = Consumer(settings, boto3.client("kinesis"), client, None)
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(consumer.run())
        except BaseException as exc:  # the test reports it
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return consumer, thread, outcome


def test_a_commit_that_lost_its_connection_after_committing_still_reaches_redis(
    kinesis, stream, db, redis_client, redis_server, processor_env, monkeypatch
):
    consumer, thread, outcome = in_process_consumer(processor_env, redis_server)
    wait_until(lambda: not consumer.cache_updater.stale.is_set(), 30, message="initial resync done")
    real_commit = store.ReadingStore.commit_batch
    ambiguous = []

    def commit_then_lose_the_connection(self, *args, **kwargs):
        committed = real_commit(self, *args, **kwargs)
        if not ambiguous:
            ambiguous.append(committed)
            raise psycopg.OperationalError("server closed the connection unexpectedly")  # after COMMIT
        return committed

    monkeypatch.setattr(store.ReadingStore, "commit_batch", commit_then_lose_the_connection)
    put_readings(kinesis, stream, [reading("sensor-amb", t, temperature=float(t)) for t in range(5)])
    wait_until(lambda: ambiguous, 30, message="the ambiguous commit happened")
    assert stored_count(db) == 5  # it did commit
    wait_until(lambda: redis_client.exists("sensor:sensor-amb:latest"), 30, message="Redis got the batch")
    assert json.loads(redis_client.hget("sensor:sensor-amb:latest", "reading"))["temperature"] == 4.0
    consumer.stopping.set()
    thread.join(30)
    assert outcome == [0]


def test_sigterm_while_the_dead_letter_file_system_fails_exits_zero(
    kinesis, stream, db, redis_server, processor_env, monkeypatch
):
    consumer, thread, outcome = in_process_consumer(processor_env, redis_server)
    failures = []

    def efs_error_then_sigterm(self, letters):
        failures.append(len(letters))
        consumer.stopping.set()  # SIGTERM arrives while this batch is in flight
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(deadletter.DeadLetterWriter, "write", efs_error_then_sigterm)
    put_readings(kinesis, stream, [reading("efs", 0), b"not json"])
    thread.join(60)
    assert failures and not thread.is_alive()
    assert outcome == [0]
    assert stored_count(db) == 0  # nothing of the failed batch was committed: its next owner replays it


def test_a_crash_between_the_dead_letter_fsync_and_the_commit_replays_the_batch(
    kinesis, stream, db, data_dir, redis_server, processor_env, monkeypatch
):
    real_write = deadletter.DeadLetterWriter.write
    crashed = []

    def write_then_crash(self, letters):
        real_write(self, letters)  # fsynced
        if not crashed:
            crashed.append(len(letters))
            raise KeyboardInterrupt  # the task dies before COMMIT

    monkeypatch.setattr(deadletter.DeadLetterWriter, "write", write_then_crash)
    put_readings(kinesis, stream, [reading("crash", t) for t in range(5)] + [b"not json"])
    consumer, thread, outcome = in_process_consumer(processor_env, redis_server)
    thread.join(60)
    assert crashed == [1] and isinstance(outcome[0], KeyboardInterrupt)
    assert stored_count(db) == 0 and len(dead_letters(data_dir)) == 1
    consumer.leases.close()  # what the OS does with a dead task's sockets: PostgreSQL releases its leases
    consumer.store.conn.close()
    consumer.cache_updater.close()

    consumer, thread, outcome = in_process_consumer(processor_env, redis_server)  # the replacement task
    wait_until(lambda: stored_count(db) == 5, 60, message="replayed batch stored")
    consumer.stopping.set()
    thread.join(30)
    letters = dead_letters(data_dir)
    assert len(letters) == 2  # dead-lettered again by the replay...
    assert {(x["shardId"], x["sequenceNumber"]) for x in letters} == {
        (letters[0]["shardId"], letters[0]["sequenceNumber"])
    }
    assert outcome == [0]


def test_a_task_that_lost_the_shard_never_appends_to_its_dead_letter_file(postgres, database, data_dir, redis_client):
    from processor.batch import BatchWriter, CacheUpdater
    from processor.cache import LatestCache
    from processor.migrations import apply_migrations
    from processor.store import LostOwnership, ReadingStore

    with psycopg.connect(**postgres.conninfo(database), autocommit=True) as conn:
        apply_migrations(conn)
        store_ = ReadingStore(conn, "stream")
        store_.ensure_checkpoint("shard-1")
        conn.execute("UPDATE shard_checkpoints SET sequence_number = '7'")  # another task moved it on
        updater = CacheUpdater(LatestCache(redis_client))
        writer = BatchWriter(store_, deadletter.DeadLetterWriter(data_dir, "stream"), updater)
        records = [{"Data": b"not json", "SequenceNumber": "3", "PartitionKey": "p"}]
        with pytest.raises(LostOwnership):
            writer.write("shard-1", "2", records, finished=False)  # a zombie's batch, from its stale checkpoint
        writer.close()
        updater.close()
    assert dead_letters(data_dir) == []  # only the shard's owner writes its file (EFS appends are not atomic)


class _WriterWhosePreviousBatchLostItsShard:
    """BatchWriter.submit first waits for the batch before it and raises what that one raised; here a LostOwnership
    of another shard, so the batch being submitted never starts."""

    def submit(self, *args, **kwargs):
        raise store.LostOwnership("shardId-999999999999", "49500")


def test_a_batch_an_earlier_lost_shard_kept_from_starting_is_not_in_flight(
    kinesis, stream, redis_server, processor_env
):
    """Otherwise the shard counts a batch in flight for ever and its reported lag grows while it sits at the tip."""
    put_readings(kinesis, stream, [reading(f"sensor-{i}", 0) for i in range(20)])
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, password=redis_server.password)
    consumer = Consumer(ConsumerSettings.from_env(processor_env), boto3.client("kinesis"), client, None)
    consumer.writer = _WriterWhosePreviousBatchLostItsShard()  # type: ignore[assignment]
    states = [ShardState(s["ShardId"], None) for s in kinesis.list_shards(StreamName=stream)["Shards"]]
    refused = []
    for state in states:
        try:
            consumer.process_batch(state)
        except store.LostOwnership:
            refused.append(state)
    assert refused, "no shard had records to submit"
    for state in refused:
        assert (state.in_flight, state.checkpoint) == (0, None)  # nothing submitted: re-read from the same place
