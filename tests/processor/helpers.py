"""Readings, producers and assertions shared by the processor's tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

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
