"""Readings, producers and assertions shared by the processor's tests."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from processor.leases import MAX_CONSUMERS, lock_key

BASE_TIME = datetime(2025, 12, 4, tzinfo=UTC)


def reading(sensor: str, second: int, temperature: float = 20.0, humidity: float = 50.0, **extra: float) -> dict:
    ts = (BASE_TIME + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")
    return {"sensorId": sensor, "timestamp": ts, "temperature": temperature, "humidity": humidity, **extra}


def put_readings(kinesis, stream: str, docs: list[dict | bytes]) -> None:
    """put_records in chunks of 500, partitioned by sensorId as devices do."""
    entries = []
    for doc in docs:
        if isinstance(doc, bytes):
            entries.append({"Data": doc, "PartitionKey": "malformed"})
        else:
            entries.append({"Data": json.dumps(doc).encode(), "PartitionKey": str(doc.get("sensorId", "x"))})
    for start in range(0, len(entries), 500):
        response = kinesis.put_records(StreamName=stream, Records=entries[start : start + 500])
        assert response["FailedRecordCount"] == 0


def stored_count(db: psycopg.Connection) -> int:
    try:
        return db.execute("SELECT count(*) FROM readings").fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return 0


def stored_keys(db: psycopg.Connection) -> list[tuple[str, datetime]]:
    return [tuple(r) for r in db.execute("SELECT sensor_id, ts FROM readings ORDER BY sensor_id, ts")]


def dead_letters(data_dir: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(data_dir.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def checkpointed_shards(db: psycopg.Connection) -> int:
    try:
        return db.execute("SELECT count(*) FROM shard_checkpoints WHERE sequence_number IS NOT NULL").fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return 0


def held_locks(db: psycopg.Connection, keys: list[int]) -> int:
    """How many of these advisory-lock keys some session holds in db's database."""
    return db.execute(
        """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((classid::bigint << 32) | objid::bigint) = ANY(%s)""",
        (keys,),
    ).fetchone()[0]


def shard_locks(db: psycopg.Connection, kinesis, stream: str) -> int:
    shards = [s["ShardId"] for s in kinesis.list_shards(StreamName=stream)["Shards"]]
    return held_locks(db, [lock_key("shard", stream, shard) for shard in shards])


def consumer_locks(db: psycopg.Connection, stream: str) -> int:
    return held_locks(db, [lock_key("consumer", stream, str(slot)) for slot in range(MAX_CONSUMERS)])


def log_lines(output: str) -> list[dict]:
    """The JSON lines a processor printed (logs and EMF metrics)."""
    lines = []
    for line in output.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def errors_logged(output: str) -> list[dict]:
    return [line for line in log_lines(output) if line.get("level") == "ERROR"]


def metric_values(output: str, name: str) -> list[dict]:
    """Every EMF record carrying metric `name`."""
    return [
        line
        for line in log_lines(output)
        if any(m["Name"] == name for d in line.get("_aws", {}).get("CloudWatchMetrics", []) for m in d["Metrics"])
    ]


def committed_ranges(output: str) -> list[tuple[str, str | None, str]]:
    """(shard, previous sequence number, last sequence number) of every batch a consumer committed."""
    return [
        (m["ShardId"], m["PreviousSequenceNumber"], m["LastSequenceNumber"])
        for m in metric_values(output, "RecordsStored")
    ]


def assert_each_record_committed_once(outputs: list[str], allow_gaps: bool = False) -> None:
    """Across every task's committed batches, each shard's ranges chain exactly: no record committed twice (by
    one task or two) and none skipped. `allow_gaps` when a task was SIGKILLed: its last commit may be unreported."""
    by_shard: dict[str, list[tuple[str | None, str]]] = {}
    for output in outputs:
        for shard, previous, last in committed_ranges(output):
            by_shard.setdefault(shard, []).append((previous, last))
    assert by_shard, "no committed batch reported"
    for shard, ranges in by_shard.items():
        ranges.sort(key=lambda r: -1 if r[0] is None else int(r[0]))
        assert allow_gaps or ranges[0][0] is None, f"{shard}: the first batch did not start at the shard's beginning"
        for (_, last), (previous, _) in itertools.pairwise(ranges):
            if allow_gaps:
                assert int(previous) >= int(last), f"{shard}: batches overlap: {ranges}"
            else:
                assert previous == last, f"{shard}: batches overlap or leave a gap: {ranges}"
