"""The processing core for one Kinesis batch: decode -> dead letters -> PostgreSQL + checkpoint -> Redis.

`consume` runs it per batch, and `make bench-processor` measures it, so the benchmark times this exact code.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis

from processor.cache import LatestCache
from processor.deadletter import DeadLetter, DeadLetterWriter
from processor.readings import InvalidReading, Reading, parse_reading
from processor.store import ReadingStore, Row, latest_per_sensor, to_row

log = logging.getLogger("processor.consume")


@dataclass(frozen=True)
class BatchResult:
    shard_id: str
    records: int
    stored: int
    invalid: int
    finished: bool
    last_sequence: str | None


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
        self._queue: queue.Queue[list[Reading] | None] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="redis-updater", daemon=True)
        self._thread.start()

    def submit(self, readings: list[Reading]) -> None:
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
                    self.cache.put_readings(latest_per_sensor(readings).values())
            except redis.RedisError as exc:
                log.warning("Redis unavailable; readings are stored, Redis will catch up", extra={"error": str(exc)})
                self.stale.set()
            finally:
                self._queue.task_done()
        self._queue.task_done()


class BatchWriter:
    def __init__(self, store: ReadingStore, dead_letters: DeadLetterWriter, cache: CacheUpdater) -> None:
        self.store = store
        self.dead_letters = dead_letters
        self.cache = cache

    def write(
        self, shard_id: str, previous_sequence: str | None, records: list[dict[str, Any]], finished: bool
    ) -> BatchResult:
        """Process one batch. Raises (storing nothing) on PostgreSQL errors or a lost shard."""
        valid: list[Reading] = []
        dead: list[DeadLetter] = []

        def rows() -> Iterator[Row]:  # decoded while PostgreSQL is already inserting the first rows
            for record in records:
                data: bytes = record["Data"]
                try:
                    reading = parse_reading(data)
                except InvalidReading as exc:
                    partition_key = record.get("PartitionKey", "")
                    dead.append(DeadLetter(shard_id, record["SequenceNumber"], partition_key, data, str(exc)))
                    continue
                valid.append(reading)
                yield to_row(reading)

        last_sequence = records[-1]["SequenceNumber"] if records else previous_sequence
        # Dead letters reach the disk (fsynced) before the checkpoint passes them: never lost.
        stored = self.store.commit_batch(
            shard_id, previous_sequence, last_sequence, rows(), finished, lambda: self.dead_letters.write(dead)
        )
        self.cache.submit(valid)
        for letter in dead:
            log.warning(
                "record dead-lettered",
                extra={"shard": letter.shard_id, "sequenceNumber": letter.sequence_number, "reason": letter.reason},
            )
        return BatchResult(shard_id, len(records), stored, len(dead), finished, last_sequence)
