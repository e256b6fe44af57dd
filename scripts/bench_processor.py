"""Benchmark of the processor's core against the PostgreSQL floor and a naive loop (`make bench-processor`).

All three run in one process against the same local PostgreSQL server (durable settings) and table:
  core   decode -> validate -> COPY + INSERT .. ON CONFLICT + latest upsert + checkpoint (one transaction
         per batch) -> Redis, exactly what `consume` does per Kinesis batch;
  copy   the same rows, already parsed, COPYed (binary, as the core does) straight into the readings table,
         one transaction per batch: the floor the core cannot beat;
  naive  one INSERT and one commit per reading.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import redis

from localaws.servers import PostgresServer, RedisServer
from processor.batch import BatchWriter, CacheUpdater, decode_batch
from processor.cache import LatestCache
from processor.deadletter import DeadLetterWriter
from processor.migrations import apply_migrations
from processor.store import ReadingStore, Row, copy_rows

ROOT = Path(__file__).resolve().parents[1]

BASE = datetime(2025, 12, 4, tzinfo=UTC)


def make_records(count: int, sensors: int, offset: int) -> list[dict]:
    records = []
    for i in range(count):
        doc = {
            "sensorId": f"sensor-{i % sensors:04d}",
            "timestamp": (BASE + timedelta(seconds=offset + i // sensors)).isoformat().replace("+00:00", "Z"),
            "temperature": 20.0 + (i % 100) / 10,
            "humidity": 40.0 + (i % 50) / 10,
        }
        records.append({"Data": json.dumps(doc).encode(), "SequenceNumber": str(offset + i), "PartitionKey": "p"})
    return records


def fresh(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE readings, shard_checkpoints")
    conn.execute("INSERT INTO shard_checkpoints (stream_name, shard_id) VALUES ('bench', 'shard')")
    conn.execute("VACUUM ANALYZE readings")


def run_core(conn: psycopg.Connection, cache: LatestCache, records: list[dict], batch: int, data_dir: Path) -> float:
    """The consumer's BatchWriter, batch after batch, until Redis has every batch's latest readings."""
    updater = CacheUpdater(cache)
    writer = BatchWriter(ReadingStore(conn, "bench"), DeadLetterWriter(data_dir, "bench"), updater)
    previous = None
    results = []
    started = time.perf_counter()
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        results.append(writer.submit("shard", previous, chunk, finished=False))
        previous = chunk[-1]["SequenceNumber"]
    results.append(writer.wait())
    updater.flush()
    elapsed = time.perf_counter() - started
    writer.close()
    updater.close()
    stored = sum(r.stored for r in results if r is not None)
    assert stored == len(records), f"stored {stored} of {len(records)}"
    return elapsed


def run_copy(conn: psycopg.Connection, rows: list[Row], batch: int) -> float:
    """The floor: the store's own binary COPY of the already-parsed rows, one transaction per batch."""
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        with conn.transaction(), conn.cursor() as cur:
            copy_rows(cur, "readings", rows[start : start + batch])
    return time.perf_counter() - started


def run_naive(conn: psycopg.Connection, rows: list[Row]) -> float:
    started = time.perf_counter()
    for row in rows:
        conn.execute(
            "INSERT INTO readings (sensor_id, ts, temperature, humidity, extra) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            row,
        )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", type=int, default=50_000)
    parser.add_argument("--naive-readings", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=1000, help="readings per Kinesis batch / transaction")
    parser.add_argument("--sensors", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="median of this many rounds per variant")
    args = parser.parse_args()

    postgres, redis_server = PostgresServer(durable=True), RedisServer()
    postgres.start()
    redis_server.start()
    try:
        postgres.create_database("bench")
        conn = psycopg.connect(**postgres.conninfo("bench"), autocommit=True)
        apply_migrations(conn)
        client = redis.Redis(host="127.0.0.1", port=redis_server.port, password=redis_server.password)
        cache = LatestCache(client)
        records = make_records(args.readings, args.sensors, 0)
        rows = decode_batch("shard", None, records, finished=False).rows

        core, copy, naive = [], [], []
        for _ in range(args.rounds):
            fresh(conn)
            client.flushall()
            core.append(args.readings / run_core(conn, cache, records, args.batch, postgres.base))
            fresh(conn)
            copy.append(args.readings / run_copy(conn, rows, args.batch))
            fresh(conn)
            naive.append(args.naive_readings / run_naive(conn, rows[: args.naive_readings]))
        conn.close()
    finally:
        redis_server.close()
        postgres.close()

    core_rate, copy_rate, naive_rate = (statistics.median(x) for x in (core, copy, naive))
    print(f"readings={args.readings} batch={args.batch} sensors={args.sensors} rounds={args.rounds} (median)")
    print(f"core   {core_rate:>10,.0f} readings/s  (decode, validate, PostgreSQL + checkpoint, Redis; 1 process)")
    print(f"copy   {copy_rate:>10,.0f} readings/s  (raw COPY of the same rows, same batches)")
    print(f"naive  {naive_rate:>10,.0f} readings/s  (one INSERT + commit per reading, {args.naive_readings} readings)")
    print(f"ratio_vs_copy={core_rate / copy_rate:.2f} ratio_vs_naive={core_rate / naive_rate:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
