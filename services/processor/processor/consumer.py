"""`consume`: reads every shard of the stream and stores each valid reading exactly once.

Per batch: decode and validate, append invalid records to the dead-letter file (fsynced), then in one
PostgreSQL transaction insert the readings, update the latest reading per sensor and move the shard's
checkpoint from the sequence number the batch started at to its last one (a compare-and-set, so a task that
lost its shard cannot write). Only then is Redis updated. A crash anywhere replays the batch from the
checkpoint, and the (sensor, timestamp) key drops whatever was already stored.
"""

from __future__ import annotations

import contextlib
import logging
import math
import pathlib
import random
import signal
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

import botocore.exceptions
import orjson
import psycopg
import redis

from processor import cache as cache_module
from processor.batch import BatchResult, BatchWriter, CacheUpdater
from processor.cache import LatestCache
from processor.config import ConsumerSettings
from processor.deadletter import DeadLetterWriter
from processor.leases import ShardLeases
from processor.logs import emit_metrics
from processor.migrations import apply_migrations
from processor.readings import reading_document
from processor.store import LATEST_PER_SENSOR_SQL, LostOwnership, ReadingStore

log = logging.getLogger("processor.consume")

_RETRYABLE_KINESIS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


@dataclass
class ShardState:
    shard_id: str
    checkpoint: str | None
    iterator: str | None = None


def list_shards(kinesis: Any, stream_name: str) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StreamName": stream_name}
    while True:
        page = kinesis.list_shards(**kwargs)
        shards.extend(page["Shards"])
        token = page.get("NextToken")
        if not token:
            return shards
        kwargs = {"NextToken": token}


def eligible_shards(shards: list[dict[str, Any]], finished: set[str]) -> list[dict[str, Any]]:
    """Unfinished shards whose parents are finished (or already gone from the stream): Kinesis ordering."""
    known = {s["ShardId"] for s in shards}

    def parent_done(parent: str | None) -> bool:
        return parent is None or parent in finished or parent not in known

    return [
        s
        for s in shards
        if s["ShardId"] not in finished
        and parent_done(s.get("ParentShardId"))
        and parent_done(s.get("AdjacentParentShardId"))
    ]


class Consumer:
    def __init__(
        self,
        settings: ConsumerSettings,
        kinesis: Any,
        redis_client: redis.Redis,
        heartbeat: pathlib.Path | None = None,
    ) -> None:
        self.settings = settings
        self.heartbeat = heartbeat
        self.kinesis = kinesis
        self.cache = LatestCache(redis_client)
        self.cache_updater = CacheUpdater(self.cache)
        self.cache_updater.stale.set()  # resync Redis from PostgreSQL at start: covers a crash after a commit
        self.dead_letters = DeadLetterWriter(settings.data_dir, settings.stream_name)
        self.stopping = threading.Event()
        self.owned: dict[str, ShardState] = {}
        self.store: ReadingStore | None = None
        self.writer: BatchWriter | None = None
        self.leases: ShardLeases | None = None
        self._next_cache_try = 0.0
        self._next_rebalance = 0.0
        self._failures = 0

    # -- lifecycle -------------------------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("stop requested; finishing the current batch", extra={"signal": signal.Signals(signum).name})
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def run(self) -> int:
        log.info("consumer starting", extra={"stream": self.settings.stream_name})
        while not self.stopping.is_set():
            try:
                self._connect()
                if time.monotonic() >= self._next_rebalance:
                    self.rebalance()
                worked = self.poll_once()
                self._maybe_resync_cache()
                self._failures = 0
                if self.heartbeat is not None:
                    self.heartbeat.touch()
                if not worked:
                    self.stopping.wait(self.settings.idle_sleep_seconds)
            except psycopg.Error as exc:
                log.warning("PostgreSQL error; retrying from the checkpoints", extra={"error": str(exc)})
                self._disconnect()
                self._backoff()
            except OSError as exc:  # the dead-letter file system (EFS): nothing was committed, replay the batch
                log.warning("dead-letter file system error; retrying from the checkpoints", extra={"error": str(exc)})
                self._disconnect()
                self._backoff()
            except _RETRYABLE_KINESIS as exc:
                log.warning("Kinesis error; retrying", extra={"error": str(exc)})
                for state in self.owned.values():
                    state.iterator = None
                self._backoff()
        with contextlib.suppress(psycopg.Error):
            self._drain()  # SIGTERM: let the batch in flight commit before the shards are released
        self._disconnect()
        self.cache_updater.flush()
        self.cache_updater.close()
        log.info("consumer stopped")
        return 0

    def _connect(self) -> None:
        if self.store is not None and self.leases is not None:
            return
        conninfo = self.settings.database.conninfo()
        conn = psycopg.connect(**conninfo, autocommit=True)
        try:
            apply_migrations(conn)
            self.store = ReadingStore(conn, self.settings.stream_name)
            self.writer = BatchWriter(self.store, self.dead_letters, self.cache_updater)
            self.leases = ShardLeases(conninfo, self.settings.stream_name)
        except BaseException:
            conn.close()
            raise
        self._next_rebalance = 0.0
        log.info("connected to PostgreSQL", extra={"slot": self.leases.slot})

    def _disconnect(self) -> None:
        """Drop both connections; PostgreSQL releases this task's shard locks with the session."""
        if self.writer is not None:
            self.writer.close()  # a batch in flight either committed or is replayed from its checkpoint
        for closeable in (self.leases, self.store.conn if self.store else None):
            if closeable is not None:
                with contextlib.suppress(psycopg.Error):
                    closeable.close()
        self.leases = None
        self.store = None
        self.writer = None
        self.owned.clear()

    def _backoff(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.touch()  # backing off is alive: the health check must not restart a waiting task
        self._failures += 1
        delay = min(self.settings.max_backoff_seconds, 0.1 * 2 ** min(self._failures, 16))
        self.stopping.wait(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto

    # -- shard ownership -------------------------------------------------------------------------------------
    def rebalance(self) -> None:
        assert self.store is not None and self.leases is not None
        self._drain()  # the writer thread owns the connection while a batch is in flight
        shards = list_shards(self.kinesis, self.settings.stream_name)
        finished = {shard for shard, cp in self.store.checkpoints().items() if cp.finished}
        eligible = eligible_shards(shards, finished)
        target = math.ceil(len(eligible) / self.leases.live_consumers())
        for shard_id in sorted(self.owned)[target:]:  # hand surplus shards to newer tasks
            self._drop(shard_id)
        for shard in eligible:
            if len(self.owned) >= target:
                break
            shard_id = shard["ShardId"]
            if shard_id in self.owned or not self.leases.try_acquire(shard_id):
                continue
            checkpoint = self.store.ensure_checkpoint(shard_id)
            if checkpoint.finished:
                self.leases.release(shard_id)
                continue
            self.owned[shard_id] = ShardState(shard_id, checkpoint.sequence_number)
            log.info("shard acquired", extra={"shard": shard_id, "checkpoint": checkpoint.sequence_number})
        self._next_rebalance = time.monotonic() + self.settings.rebalance_seconds

    def _drop(self, shard_id: str) -> None:
        self.owned.pop(shard_id, None)
        if self.leases is not None:
            self.leases.release(shard_id)
        log.info("shard released", extra={"shard": shard_id})

    # -- reading ---------------------------------------------------------------------------------------------
    def poll_once(self) -> bool:
        """One batch from every owned shard; True when any records arrived."""
        worked = False
        for state in list(self.owned.values()):
            if self.stopping.is_set():
                break
            try:
                worked = self.process_batch(state) or worked
            except LostOwnership as exc:
                self._lost(exc)
            except _RETRYABLE_KINESIS as exc:
                code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
                state.iterator = None
                if code != "ExpiredIteratorException":
                    raise
        return worked

    def _iterator(self, state: ShardState) -> str:
        if state.iterator is None:
            kwargs: dict[str, Any] = {"StreamName": self.settings.stream_name, "ShardId": state.shard_id}
            if state.checkpoint is None:
                kwargs["ShardIteratorType"] = "TRIM_HORIZON"
            else:
                kwargs |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": state.checkpoint}
            state.iterator = self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
        return state.iterator  # type: ignore[return-value]

    def process_batch(self, state: ShardState) -> bool:
        """Read one batch of the shard and hand it to the writer; True when it had records."""
        assert self.writer is not None
        response = self.kinesis.get_records(ShardIterator=self._iterator(state), Limit=self.settings.batch_size)
        records = response["Records"]
        next_iterator = response.get("NextShardIterator")
        # Kinesis ends the iterator of a closed shard once it has been read to the end.
        finished = next_iterator is None
        if not records and not finished:
            state.iterator = next_iterator
            return False
        behind = response.get("MillisBehindLatest", 0)
        done = self.writer.submit(state.shard_id, state.checkpoint, records, finished, behind)
        # Submitted: the shard's next batch continues from here (a failed commit resets every shard).
        state.checkpoint = records[-1]["SequenceNumber"] if records else state.checkpoint
        state.iterator = next_iterator
        if done is not None:
            self._completed(done)
        if finished:
            self._drain()
        return bool(records)

    def _drain(self) -> None:
        """Wait for the batch in flight, if any, and account for it."""
        if self.writer is None:
            return
        try:
            done = self.writer.wait()
        except LostOwnership as exc:
            self._lost(exc)
            return
        if done is not None:
            self._completed(done)

    def _completed(self, result: BatchResult) -> None:
        emit_metrics(
            {"StreamName": self.settings.stream_name},
            {
                "RecordsProcessed": (result.records - result.invalid, "Count"),
                "RecordsStored": (result.stored, "Count"),
                "RecordsInvalid": (result.invalid, "Count"),
                "BatchLatency": (result.latency_ms, "Milliseconds"),
                "MillisBehindLatest": (result.behind_ms, "Milliseconds"),
            },
        )
        if result.finished and result.shard_id in self.owned:
            log.info("shard finished", extra={"shard": result.shard_id})
            self._drop(result.shard_id)
            self._next_rebalance = 0.0  # its children may start now

    def _lost(self, exc: LostOwnership) -> None:
        log.warning("shard lost to another task", extra={"shard": exc.shard_id, "error": str(exc)})
        if exc.shard_id in self.owned:
            self._drop(exc.shard_id)

    # -- Redis -----------------------------------------------------------------------------------------------
    def _maybe_resync_cache(self) -> None:
        if not self.cache_updater.stale.is_set() or time.monotonic() < self._next_cache_try or self.store is None:
            return
        try:
            count = self.resync_cache()
        except redis.RedisError as exc:
            log.warning("Redis still unavailable", extra={"error": str(exc)})
            self._next_cache_try = time.monotonic() + min(self.settings.max_backoff_seconds, 5.0)
            return
        self.cache_updater.stale.clear()
        log.info("Redis resynchronised from PostgreSQL", extra={"sensors": count})

    def resync_cache(self) -> int:
        """Push every sensor's latest reading from PostgreSQL; the compare-and-set keeps newer values."""
        assert self.store is not None
        self.cache.client.ping()
        self._drain()
        count = 0
        with self.store.conn.transaction(), self.store.conn.cursor(name="resync") as cur:
            cur.execute(LATEST_PER_SENSOR_SQL)
            while rows := cur.fetchmany(1000):
                self.cache.put_latest((row[0], row[1], orjson.dumps(reading_document(*row))) for row in rows)
                count += len(rows)
        return count


def run_consumer(settings: ConsumerSettings, heartbeat: pathlib.Path | None = None) -> int:
    import boto3
    from botocore.config import Config

    kinesis = boto3.client(
        "kinesis", region_name=settings.region, config=Config(retries={"mode": "standard", "max_attempts": 5})
    )
    consumer = Consumer(settings, kinesis, cache_module.connect(settings.redis), heartbeat)
    consumer.install_signal_handlers()
    return consumer.run()


__all__ = ["Consumer", "run_consumer"]
