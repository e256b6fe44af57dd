"""The processing core for one Kinesis batch: decode -> dead letters -> PostgreSQL + checkpoint -> Redis.

`consume` runs it per batch, and `make bench-processor` measures it, so the benchmark times this exact code.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import redis

from processor.cache import LatestCache
from processor.deadletter import DeadLetter, DeadLetterWriter
from processor.readings import InvalidReading, Reading, parse_reading
from processor.store import ReadingStore, Row, to_row

log = logging.getLogger("processor.consume")


@dataclass(frozen=True)
class BatchResult:
    shard_id: str
    records: int
    stored: int
    invalid: int
    finished: bool
    last_sequence: str | None
    latency_ms: float = 0.0  # from the start of decoding to the end of the commit
    behind_ms: int = 0  # how far behind the shard's tip the batch was read


def decode_records(shard_id: str, records: list[dict[str, Any]]) -> tuple[list[Reading], list[DeadLetter]]:
    """Split Kinesis records into valid readings and dead letters; every record ends up in exactly one."""
    valid: list[Reading] = []
    dead: list[DeadLetter] = []
    for record in records:
        data: bytes = record["Data"]
        try:
            valid.append(parse_reading(data))
        except InvalidReading as exc:
            dead.append(DeadLetter(shard_id, record["SequenceNumber"], record.get("PartitionKey", ""), data, str(exc)))
    return valid, dead


class CacheUpdater:
    """Pushes each committed batch's latest readings to Redis on a background thread.

    The consumer's loop never waits for Redis: while Redis works, the next batch is decoded and written to
    PostgreSQL. Order does not matter (Redis keeps the newer reading), and a bounded queue applies
    back-pressure. When Redis fails, `stale` is set and updates stop until the consumer resynchronises
    Redis from PostgreSQL.
    """

    def __init__(self, cache: LatestCache, depth: int = 4) -> None:
        self.cache = cache
        self.stale = threading.Event()
        self._queue: queue.Queue[Collection[Reading] | None] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="redis-updater", daemon=True)
        self._thread.start()

    def submit(self, readings: Collection[Reading]) -> None:
        """Queue the newest reading of each sensor in a committed batch."""
        if readings and not self.stale.is_set():
            self._queue.put(readings)

    def flush(self) -> None:
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (readings := self._queue.get()) is not None:
            try:
                if not self.stale.is_set():
                    self.cache.put_readings(readings)
            except redis.RedisError as exc:
                log.warning("Redis unavailable; readings are stored, Redis will catch up", extra={"error": str(exc)})
                self.stale.set()
            finally:
                self._queue.task_done()
        self._queue.task_done()


@dataclass
class DecodedBatch:
    shard_id: str
    previous_sequence: str | None
    last_sequence: str | None
    finished: bool
    records: int
    behind_ms: int = 0
    started: float = field(default_factory=time.perf_counter)
    rows: list[Row] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    latest: dict[str, Reading] = field(default_factory=dict)  # newest valid reading per sensor, for Redis


def decode_batch(
    shard_id: str, previous_sequence: str | None, records: list[dict[str, Any]], finished: bool, behind_ms: int = 0
) -> DecodedBatch:
    last_sequence = records[-1]["SequenceNumber"] if records else previous_sequence
    batch = DecodedBatch(shard_id, previous_sequence, last_sequence, finished, len(records), behind_ms)
    rows, dead, latest = batch.rows, batch.dead, batch.latest
    for record in records:
        data: bytes = record["Data"]
        try:
            reading = parse_reading(data)
        except InvalidReading as exc:
            dead.append(DeadLetter(shard_id, record["SequenceNumber"], record.get("PartitionKey", ""), data, str(exc)))
            continue
        current = latest.get(reading.sensor_id)
        if current is None or reading.timestamp > current.timestamp:
            latest[reading.sensor_id] = reading
        rows.append(to_row(reading))
    return batch


class BatchWriter:
    """Runs the core with one batch in flight: PostgreSQL commits batch N while the caller decodes batch N+1.

    `submit` decodes on the caller's thread, waits for the previous batch's commit (re-raising its error), then
    hands the new batch to a single writer thread that owns the PostgreSQL connection while it commits: dead
    letters fsynced, rows and checkpoint in one transaction, then Redis. Callers must `wait()` before using the
    store's connection themselves.
    """

    def __init__(self, store: ReadingStore, dead_letters: DeadLetterWriter, cache: CacheUpdater) -> None:
        self.store = store
        self.dead_letters = dead_letters
        self.cache = cache
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres-writer")
        self._in_flight: Future[BatchResult] | None = None

    def submit(
        self,
        shard_id: str,
        previous_sequence: str | None,
        records: list[dict[str, Any]],
        finished: bool,
        behind_ms: int = 0,
    ) -> BatchResult | None:
        """Start one batch; returns the result of the batch that was in flight before it (None if none).

        If that earlier batch failed, its error is raised here and the new batch is not started.
        """
        batch = decode_batch(shard_id, previous_sequence, records, finished, behind_ms)
        done = self.wait()
        self._in_flight = self._executor.submit(self._commit, batch)
        return done

    def wait(self) -> BatchResult | None:
        """Wait for the batch in flight; raises what it raised (nothing of it was stored then)."""
        in_flight, self._in_flight = self._in_flight, None
        return in_flight.result() if in_flight is not None else None

    def write(
        self, shard_id: str, previous_sequence: str | None, records: list[dict[str, Any]], finished: bool
    ) -> BatchResult:
        """Process one batch synchronously."""
        self.submit(shard_id, previous_sequence, records, finished)
        result = self.wait()
        assert result is not None
        return result

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the caller has already handled or abandoned the batch in flight
            self.wait()
        self._executor.shutdown(wait=True)

    def _commit(self, batch: DecodedBatch) -> BatchResult:
        # Dead letters reach the disk (fsynced) before the checkpoint passes them: never lost.
        stored = self.store.commit_batch(
            batch.shard_id,
            batch.previous_sequence,
            batch.last_sequence,
            batch.rows,
            batch.finished,
            lambda: self.dead_letters.write(batch.dead),
        )
        self.cache.submit(batch.latest.values())
        for letter in batch.dead:
            log.warning(
                "record dead-lettered",
                extra={"shard": letter.shard_id, "sequenceNumber": letter.sequence_number, "reason": letter.reason},
            )
        latency_ms = (time.perf_counter() - batch.started) * 1000
        return BatchResult(
            batch.shard_id,
            batch.records,
            stored,
            len(batch.dead),
            batch.finished,
            batch.last_sequence,
            latency_ms,
            batch.behind_ms,
        )
