"""What real records contain (issue #11): poison and future timestamps, conflicting duplicates; the Redis script and
the dead-letter file's writes tested directly."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from localaws.processes import wait_until
from localaws.servers import free_port, wait_for_port
from processor.batch import decode_batch
from processor.cache import LatestCache
from processor.deadletter import DeadLetter, DeadLetterWriter
from processor.migrations import MIGRATIONS, apply_migrations
from tests.processor.helpers import (
    dead_letters,
    metric_values,
    put_readings,
    reading,
    stored_count,
)

NOW = datetime.now(UTC)


def doc_at(sensor: str, timestamp: str, temperature: float = 20.0) -> dict:
    return {"sensorId": sensor, "timestamp": timestamp, "temperature": temperature, "humidity": 50.0}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_poison_and_future_timestamps_are_dead_letters_and_redis_keeps_working(
    kinesis, stream, db, redis_client, data_dir, processor_env, start_processor
):
    good = [doc_at("sensor-t", iso(NOW - timedelta(minutes=10 - i)), float(i)) for i in range(5)]
    poison = [
        doc_at(
            "sensor-t", "9999-12-31T23:59:59-01:00"
        ),  # year 10000 in UTC: PostgreSQL stores it, psycopg can't load it
        doc_at("sensor-t", "2099-01-01T00:00:00Z"),  # would stay the sensor's latest for 74 years
        doc_at("sensor-t", iso(NOW + timedelta(hours=2))),  # beyond the allowed clock skew
        doc_at("sensor-t", "1999-12-31T23:59:59Z"),  # before the window
        doc_at("sensor-t", "0001-01-01T00:00:00+01:00"),  # year 0 in UTC
    ]
    put_readings(kinesis, stream, good[:2] + poison + good[2:])
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: stored_count(db) == len(good), 60, message="valid readings stored")
    wait_until(lambda: len(dead_letters(data_dir)) == len(poison), 30, message="poison dead-lettered")
    wait_until(lambda: "Redis resynchronised from PostgreSQL" in consumer.output(), 30, message="resync done")
    port = free_port()
    server = start_processor("serve", {**processor_env, "PORT": str(port)})
    wait_for_port(port, process=server.process)
    latest = httpx.get(f"http://127.0.0.1:{port}/sensors/sensor-t/latest").json()
    page = httpx.get(f"http://127.0.0.1:{port}/sensors/sensor-t/readings").json()
    assert consumer.terminate() == 0 and server.terminate() == 0
    assert latest["temperature"] == 4.0  # the newest valid reading, not 2099
    assert len(page["readings"]) == len(good)
    reasons = [letter["reason"] for letter in dead_letters(data_dir)]
    assert "outside the accepted window" in reasons[0]
    assert "in the future" in reasons[1] and "in the future" in reasons[2]
    assert "is before 2000-01-01T00:00:00Z" in reasons[3]
    assert "outside the accepted window" in reasons[4] or "is before" in reasons[4]
    assert "PostgreSQL error" not in consumer.output()


def test_future_is_judged_against_the_arrival_time_so_a_replay_decides_the_same():
    arrival = datetime(2025, 12, 4, 12, 0, tzinfo=UTC)
    records = [
        {"Data": json.dumps(doc_at("s", iso(arrival + timedelta(minutes=m)))).encode(), "SequenceNumber": str(m),
         "PartitionKey": "s", "ApproximateArrivalTimestamp": arrival}
        for m in (5, 14, 16)
    ]  # fmt: skip
    batch = decode_batch("shard", None, records, finished=False, max_future=timedelta(minutes=15))
    assert [row[1] for row in batch.rows] == [arrival + timedelta(minutes=5), arrival + timedelta(minutes=14)]
    assert [d.sequence_number for d in batch.dead] == ["16"]  # the same verdict today or after a replay next year


def test_migration_quarantines_poison_rows_stored_before_the_window_existed(postgres, database):
    with psycopg.connect(**postgres.conninfo(database), autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, description text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())")  # fmt: skip
        conn.execute(MIGRATIONS[0][2])
        conn.execute("INSERT INTO schema_migrations (version, description) VALUES (1, 'v1')")
        conn.execute(
            """INSERT INTO readings VALUES ('s', '9999-12-31T23:59:59-01:00', 1, 1, NULL),
                                            ('s', '2099-01-01T00:00:00Z', 2, 2, NULL),
                                            ('s', '2025-12-04T00:00:00Z', 3, 3, NULL)"""
        )
        with pytest.raises(psycopg.DataError):  # the defect: such a row cannot even be read back
            conn.execute("SELECT ts FROM readings ORDER BY ts DESC LIMIT 1").fetchone()
        assert apply_migrations(conn) == [v for v, _, _ in MIGRATIONS[1:]]
        assert conn.execute("SELECT sensor_id, temperature FROM readings").fetchall() == [("s", 3.0)]
        kept = conn.execute("SELECT temperature, reason FROM readings_rejected ORDER BY temperature").fetchall()
        assert kept == [(1.0, "timestamp outside the accepted window"), (2.0, "timestamp outside the accepted window")]


def test_conflicting_duplicates_are_dead_lettered_and_counted_apart_from_retries(
    kinesis, stream, db, data_dir, processor_env, start_processor
):
    first = [reading("sensor-c", t, temperature=float(t)) for t in range(30)]
    retries = first[5:10]  # a producer's retry: same key, same values
    in_batch_conflict = reading("sensor-c", 12, temperature=99.0)  # same batch as the original (BATCH_SIZE 100)
    put_readings(kinesis, stream, first + retries + [in_batch_conflict])
    consumer = start_processor("consume", processor_env)
    wait_until(lambda: stored_count(db) == len(first), 60, message="first batch stored")
    wait_until(lambda: len(metric_values(consumer.output(), "RecordsStored")) >= 1, 30)
    later_conflict = reading("sensor-c", 20, temperature=-1.0)  # a later batch, conflicting with a stored row
    put_readings(kinesis, stream, [later_conflict, first[0]])
    wait_until(lambda: len(dead_letters(data_dir)) == 2, 60, message="both conflicts dead-lettered")
    wait_until(
        lambda: sum(m["RecordsDuplicate"] for m in metric_values(consumer.output(), "RecordsDuplicate")) == 6, 30
    )
    assert consumer.terminate() == 0

    letters = dead_letters(data_dir)
    assert [json.loads(letter["data"])["temperature"] for letter in letters] == [99.0, -1.0]
    assert all(
        letter["reason"].startswith("conflicting duplicate: a different reading of sensor sensor-c")
        for letter in letters
    )
    stored = dict(db.execute("SELECT ts, temperature FROM readings").fetchall())
    assert stored[datetime(2025, 12, 4, 0, 0, 12, tzinfo=UTC)] == 12.0  # the first one stored wins
    assert stored[datetime(2025, 12, 4, 0, 0, 20, tzinfo=UTC)] == 20.0
    metrics = metric_values(consumer.output(), "RecordsConflicting")
    assert sum(m["RecordsConflicting"] for m in metrics) == 2
    assert sum(m["RecordsDuplicate"] for m in metrics) == 6  # 5 retries + 1 re-sent reading
    assert sum(m["RecordsInvalid"] for m in metrics) == 0

    # A new task knows no recent batch: PostgreSQL finds the conflict and the duplicate (staging path).
    consumer = start_processor("consume", processor_env)
    put_readings(kinesis, stream, [reading("sensor-c", 25, temperature=-25.0), first[1], reading("sensor-c", 99)])
    wait_until(lambda: stored_count(db) == len(first) + 1, 60, message="the new reading stored")
    wait_until(lambda: len(dead_letters(data_dir)) == 3, 60, message="the stored row's conflict dead-lettered")
    assert consumer.terminate() == 0
    assert json.loads(dead_letters(data_dir)[2]["data"])["temperature"] == -25.0
    metrics = metric_values(consumer.output(), "RecordsConflicting")
    assert sum(m["RecordsConflicting"] for m in metrics) == 1 and sum(m["RecordsDuplicate"] for m in metrics) == 1
    assert db.execute(
        "SELECT temperature FROM readings WHERE ts = %s", (datetime(2025, 12, 4, 0, 0, 25, tzinfo=UTC),)
    ).fetchone() == (25.0,)


def test_redis_script_keeps_the_newest_reading_per_sensor(redis_client):
    cache = LatestCache(redis_client)
    t0 = datetime(2025, 12, 4, tzinfo=UTC)
    doc = lambda n: json.dumps({"n": n}).encode()  # noqa: E731
    assert cache.put_latest([("a", t0, doc(1)), ("b", t0, doc(1))]) == 2
    assert cache.put_latest([("a", t0 - timedelta(microseconds=1), doc(2))]) == 0  # older: refused
    assert cache.put_latest([("a", t0, doc(3))]) == 0  # same time: the first one stays
    assert cache.put_latest([("a", t0 + timedelta(microseconds=1), doc(4))]) == 1  # newer, by one microsecond
    assert cache.get_latest("a") == {"n": 4} and cache.get_latest("b") == {"n": 1}
    many = [(f"s{i}", t0 + timedelta(seconds=i), doc(i)) for i in range(1203)]  # several script calls
    assert cache.put_latest(many) == 1203
    assert cache.put_latest(many[::-1]) == 0
    assert cache.get_latest("s1202") == {"n": 1202}
    assert int(redis_client.hget("sensor:s1202:latest", "ts")) == int((t0 + timedelta(seconds=1202)).timestamp() * 1e6)


def test_a_short_dead_letter_write_is_completed(tmp_path, monkeypatch):
    real_write = os.write
    short_writes = []

    def short_write(fd: int, data) -> int:  # what EFS or a signal may do: write part, return how much
        chunk = bytes(data[:7])
        short_writes.append(len(chunk))
        return real_write(fd, chunk)

    monkeypatch.setattr(os, "write", short_write)
    writer = DeadLetterWriter(tmp_path, "stream")
    letters = [DeadLetter("shard-1", str(i), "p", b"x" * 50, "bad") for i in range(3)]
    writer.write(letters)
    monkeypatch.undo()
    assert len(short_writes) > 3 and max(short_writes) == 7  # the fault really happened
    assert [line["sequenceNumber"] for line in dead_letters(tmp_path)] == ["0", "1", "2"]
