"""The processing core for one Kinesis batch: decode -> dead letters -> PostgreSQL + checkpoint -> Redis.

`consume` runs it per batch, and `make bench-processor` measures it, so the benchmark times this exact code.
"""

from __future__ import annotations

import contextlib
import logging
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
from processor.store import ReadingStore, Row, merge_newest, to_row

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


class CacheUpdater:
    """Pushes committed batches' latest readings to Redis on a background thread, coalescing them.

    The consumer never waits for Redis. Readings waiting for the thread are merged per sensor (the newest
    wins) and written at most every `interval` seconds, so a busy sensor is written once per round instead of
    once per batch, and memory is bounded by the number of sensors. Order does not matter: Redis keeps the
    newer reading. When Redis fails, `stale` is set and updates stop until the consumer resynchronises Redis
    from PostgreSQL.
    """

    def __init__(self, cache: LatestCache, interval: float = 0.05) -> None:
        self.cache = cache
        self.interval = interval
        self._flushing = 0
        self.stale = threading.Event()
        self._pending: dict[str, Reading] = {}
        self._busy = False
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="redis-updater", daemon=True)
        self._thread.start()

    def submit(self, readings: Collection[Reading]) -> None:
        """Queue the newest reading of each sensor in a committed batch."""
        if not readings or self.stale.is_set():
            return
        with self._changed:
            merge_newest(self._pending, readings)
            self._changed.notify_all()

    def flush(self, timeout: float = 30.0) -> bool:
        """Write what is pending now, and wait until it is written (or Redis failed); False on timeout."""
        with self._changed:
            self._flushing += 1
            self._changed.notify_all()
            done = self._changed.wait_for(lambda: not self._pending and not self._busy, timeout=timeout)
            self._flushing -= 1
        return done

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()

    def _wait_for_round(self, due: float) -> None:
        self._changed.wait_for(
            lambda: self._closed or self._flushing or time.monotonic() >= due, timeout=max(0.0, due - time.monotonic())
        )

    def _run(self) -> None:
        next_round = 0.0
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closed)
                # Let readings accumulate until the next round is due (unless someone waits for them).
                self._wait_for_round(next_round)
                if self._closed and not self._pending:
                    return
                readings, self._pending, self._busy = self._pending, {}, True
            next_round = time.monotonic() + self.interval
            try:
                if not self.stale.is_set():
                    self.cache.put_readings(readings.values())
            except redis.RedisError as exc:
                log.warning("Redis unavailable; readings are stored, Redis will catch up", extra={"error": str(exc)})
                self.stale.set()
            except Exception:  # never let the thread die: the resync from PostgreSQL repairs whatever this missed
                log.exception("Redis update failed; Redis will be resynchronised from PostgreSQL")
                self.stale.set()
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()


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
    """Split Kinesis records into rows to store and dead letters (every record ends up in exactly one), and note
    each sensor's newest reading for Redis."""
    last_sequence = records[-1]["SequenceNumber"] if records else previous_sequence
    batch = DecodedBatch(shard_id, previous_sequence, last_sequence, finished, len(records), behind_ms)
    valid: list[Reading] = []
    for record in records:
        data: bytes = record["Data"]
        try:
            valid.append(parse_reading(data))
        except InvalidReading as exc:
            partition_key = record.get("PartitionKey", "")
            batch.dead.append(DeadLetter(shard_id, record["SequenceNumber"], partition_key, data, str(exc)))
    batch.rows = [to_row(reading) for reading in valid]
    merge_newest(batch.latest, valid)
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
