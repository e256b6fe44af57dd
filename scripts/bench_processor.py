"""Benchmark of the processor's core against the PostgreSQL floor and a naive loop (`make bench-processor`).

The input is what real streams send: producer retries (DUPLICATE_RATE of the records repeat an earlier one, in the
same or the next batch), invalid records (INVALID_RATE: malformed JSON and readings dated in the future, dead letters
fsynced to disk), extra numeric fields (1 reading in 5) and timestamps with offsets and fractions (1 in 3).

All three run in one process against the same local PostgreSQL server (durable settings) and table:
  core   decode -> validate -> de-duplicate -> dead letters (fsync) -> COPY + checkpoint (one transaction per
         batch) -> Redis, exactly what `consume` does per Kinesis batch;
  copy   the same stored rows, already parsed, COPYed (binary, as the core does) straight into the readings table,
         one transaction per batch: the floor the core cannot beat;
  naive  one INSERT and one commit per reading.
Rates count the records of the mix per second (copy and naive: the rows they store, for the same batches).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import redis
from psycopg.types.json import Jsonb

from localaws.servers import PostgresServer, RedisServer
from processor.batch import BatchResult, BatchWriter, CacheUpdater, decode_batch, tune_gc
from processor.cache import LatestCache
from processor.deadletter import DeadLetterWriter
from processor.migrations import apply_migrations
from processor.store import ReadingStore, Row, copy_rows

BASE = datetime(2025, 12, 4, tzinfo=UTC)


DUPLICATE_RATE = 0.002
INVALID_RATE = 0.01
ARRIVAL = datetime(2025, 12, 5, tzinfo=UTC)  # every reading is before it: none is "in the future" unless meant


def make_records(count: int, sensors: int, batch: int) -> list[dict]:
    """`count` Kinesis records of the realistic mix (deterministic)."""
    rng = random.Random(11)
    records: list[dict] = []
    plus_two = timezone(timedelta(hours=2))
    for i in range(count):
        seq = str(i)
        roll = rng.random()
        if roll < INVALID_RATE:
            if roll < INVALID_RATE / 2:
                data = b'{"sensorId": "sensor-0001", "timestamp": '  # truncated JSON
            else:
                future = (ARRIVAL + timedelta(days=400)).isoformat()
                data = json.dumps({"sensorId": "sensor-0002", "timestamp": future, "temperature": 1, "humidity": 2})
                data = data.encode()
        elif roll < INVALID_RATE + DUPLICATE_RATE and records:
            back = rng.randrange(1, min(len(records), batch) + 1)  # a retry lands in this batch or the next
            data = records[-back]["Data"]
        else:
            moment = BASE + timedelta(seconds=i // sensors, microseconds=(i % 7) * 1000)
            doc: dict = {"sensorId": f"sensor-{i % sensors:04d}", "temperature": 20.0 + (i % 100) / 10}
            if i % 3 == 0:
                doc["timestamp"] = moment.astimezone(plus_two).isoformat()  # an offset and a fraction
            else:
                doc["timestamp"] = moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
            doc["humidity"] = 40.0 + (i % 50) / 10
            if i % 5 == 0:
                doc["pressure"] = 1013.25 + i % 10
                doc["battery"] = 3.3
            data = json.dumps(doc).encode()
        records.append(
            {"Data": data, "SequenceNumber": seq, "PartitionKey": "p", "ApproximateArrivalTimestamp": ARRIVAL}
        )
    return records


def fresh(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE readings, shard_checkpoints")
    conn.execute("INSERT INTO shard_checkpoints (stream_name, shard_id) VALUES ('bench', 'shard')")
    conn.execute("VACUUM ANALYZE readings")


def run_core(
    conn: psycopg.Connection, cache: LatestCache, records: list[dict], batch: int, data_dir: Path
) -> tuple[float, list[BatchResult]]:
    """The consumer's BatchWriter, batch after batch, until Redis has every batch's latest readings."""
    shutil.rmtree(data_dir / "dead-letter", ignore_errors=True)
    updater = CacheUpdater(cache)
    writer = BatchWriter(ReadingStore(conn, "bench"), DeadLetterWriter(data_dir, "bench"), updater)
    previous = None
    results: list[BatchResult | None] = []
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
    return elapsed, [r for r in results if r is not None]


def stored_batches(records: list[dict], batch: int) -> list[list[Row]]:
    """The rows the core stores, batch by batch (decoded once, outside any timing)."""
    seen: set[tuple[str, datetime]] = set()
    batches = []
    for start in range(0, len(records), batch):
        rows = []
        for row in decode_batch("shard", None, records[start : start + batch], finished=False).rows:
            if (row[0], row[1]) not in seen:
                seen.add((row[0], row[1]))
                rows.append(row)
        batches.append(rows)
    return batches


def run_copy(conn: psycopg.Connection, batches: list[list[Row]]) -> float:
    """The floor: the store's own binary COPY of the already-parsed rows, one transaction per batch."""
    started = time.perf_counter()
    for rows in batches:
        with conn.transaction(), conn.cursor() as cur:
            copy_rows(cur, "readings", rows)
    return time.perf_counter() - started


def run_naive(conn: psycopg.Connection, rows: list[tuple]) -> float:
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
        records = make_records(args.readings, args.sensors, args.batch)
        batches = stored_batches(records, args.batch)
        rows = [row for rows in batches for row in rows]
        naive_rows = [(*r[:4], Jsonb(r[4]) if r[4] else None) for r in rows[: args.naive_readings]]
        naive_share = len(naive_rows) / len(rows)  # the naive loop stores this share of the mix

        core, copy, naive = [], [], []
        results: list[BatchResult] = []
        tune_gc()  # as `consume` does; it also freezes the records above out of the collector's scans
        for _ in range(args.rounds):
            fresh(conn)
            client.flushall()
            elapsed, results = run_core(conn, cache, records, args.batch, postgres.base)
            core.append(len(records) / elapsed)
            fresh(conn)
            copy.append(len(records) / run_copy(conn, batches))
            fresh(conn)
            naive.append(len(records) * naive_share / run_naive(conn, naive_rows))
        conn.close()
    finally:
        redis_server.close()
        postgres.close()

    stored = sum(r.stored for r in results)
    duplicates = sum(r.duplicates for r in results)
    invalid = sum(r.invalid for r in results)
    conflicts = sum(r.conflicts for r in results)
    assert stored == len(rows) and stored + duplicates + invalid + conflicts == len(records), (
        f"stored {stored} of {len(rows)}; {duplicates} duplicates, {invalid} invalid, {conflicts} conflicts"
    )
    core_rate, copy_rate, naive_rate = (statistics.median(x) for x in (core, copy, naive))
    print(f"records={len(records)} batch={args.batch} sensors={args.sensors} rounds={args.rounds} (median)")
    print(f"mix    stored={stored} duplicates={duplicates} invalid={invalid} conflicts={conflicts}")
    print(f"core   {core_rate:>10,.0f} records/s  (decode, validate, dedupe, dead letters, PostgreSQL, Redis)")
    print(f"copy   {copy_rate:>10,.0f} records/s  (raw binary COPY of the stored rows, same batches: the floor)")
    print(f"naive  {naive_rate:>10,.0f} records/s  (one INSERT + commit per reading, {len(naive_rows)} readings)")
    print(
        f"ratio_vs_copy={core_rate / copy_rate:.2f} ratio_vs_naive={core_rate / naive_rate:.1f} "
        f"duplicate_rate={duplicates / len(records):.4f} invalid_rate={invalid / len(records):.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
