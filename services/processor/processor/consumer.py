"""`consume`: reads every shard of the stream and stores each valid reading exactly once.

Per batch: decode and validate, append invalid records to the dead-letter file (fsynced), then in one
PostgreSQL transaction insert the readings and move the shard's checkpoint from the sequence number the batch
started at to its last one (a compare-and-set, so a task that lost its shard cannot write). Only then is Redis
updated. A crash anywhere replays the batch from the checkpoint, and the (sensor, timestamp) key drops whatever
was already stored.

Reading is paced per shard as the Kinesis Client Library does: at most 5 GetRecords per second per shard (Kinesis's
limit), an idle shard re-read after IDLE_SLEEP_SECONDS, a throttled shard backed off on its own, an expired iterator
renewed for that shard only. A shard that is behind is read CATCHUP_BATCH_SIZE (default 10,000) records at a time.
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
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType
from typing import Any

import botocore.exceptions
import psycopg
import redis

from processor import cache as cache_module
from processor.batch import BatchResult, BatchWriter, CacheUpdater, DecodedBatch, tune_gc
from processor.cache import LatestCache
from processor.config import ConsumerSettings
from processor.db import Credentials, base_role
from processor.deadletter import DeadLetterWriter
from processor.leases import ShardLeases
from processor.logs import emit_metrics
from processor.migrations import apply_migrations
from processor.resync import CacheResync
from processor.store import LostOwnership, ReadingStore

log = logging.getLogger("processor.consume")

_KINESIS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
_THROTTLES = {"ProvisionedThroughputExceededException", "LimitExceededException", "KMSThrottlingException"}
MIN_READ_INTERVAL = 0.2  # Kinesis allows 5 GetRecords per second per shard
WRITER_STATEMENT_TIMEOUT_MS = 60_000
LEASE_STATEMENT_TIMEOUT_MS = 10_000


@dataclass
class ShardState:
    shard_id: str
    checkpoint: str | None
    iterator: str | None = None
    next_read: float = 0.0  # monotonic time of the next GetRecords allowed
    failures: int = 0
    behind_ms: int = 0  # Kinesis's MillisBehindLatest at the last read
    in_flight: int = 0  # batches submitted, not yet committed
    # The lag of what is committed: MillisBehindLatest of the last committed batch (0 after an empty read with
    # nothing in flight) and when it was read. Reported lag = lag_ms + time since lag_at: it grows while stuck.
    lag_ms: int = 0
    lag_at: float = field(default_factory=time.monotonic)


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


def _error_code(exc: BaseException) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


class Consumer:
    def __init__(
        self,
        settings: ConsumerSettings,
        kinesis: Any,
        redis_client: redis.Redis,
        heartbeat: pathlib.Path | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.settings = settings
        self.heartbeat = heartbeat
        self.kinesis = kinesis
        self.credentials = credentials or Credentials(settings.database, "consume", settings.stream_name)
        self.max_future = timedelta(seconds=settings.max_future_seconds)
        self.cache = LatestCache(redis_client)
        self.cache_updater = CacheUpdater(self.cache)
        self.cache_updater.stale.set()  # resync Redis from PostgreSQL at start: covers a crash after a commit
        self.dead_letters = DeadLetterWriter(settings.data_dir, settings.stream_name)
        self.stopping = threading.Event()
        self.owned: dict[str, ShardState] = {}
        self.store: ReadingStore | None = None
        self.writer: BatchWriter | None = None
        self.leases: ShardLeases | None = None
        self.resync = CacheResync(
            self.cache,
            self.cache_updater,
            lambda: self.credentials.connect(statement_timeout_ms=WRITER_STATEMENT_TIMEOUT_MS, autocommit=True),
            min(settings.max_backoff_seconds, 5.0),
            self.stopping,
        )
        self._unconfirmed: DecodedBatch | None = None  # a batch whose COMMIT failed: did it commit?
        self._next_rebalance = 0.0
        self._failures = 0
        self._reporter = threading.Thread(target=self._report_forever, name="metrics", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("stop requested; finishing the current batch", extra={"signal": signal.Signals(signum).name})
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def run(self) -> int:
        log.info("consumer starting", extra={"stream": self.settings.stream_name})
        self.resync.start()
        self._reporter.start()
        while not self.stopping.is_set():
            try:
                self._connect()
                assert self.leases is not None
                if self.leases.handoff_requested() or time.monotonic() >= self._next_rebalance:
                    self.rebalance()
                worked = self.poll_once()
                self._failures = 0
                self._touch()
                if not worked:
                    self.stopping.wait(self._idle_wait())
            except psycopg.Error as exc:
                log.warning("PostgreSQL error; retrying from the checkpoints", extra={"error": str(exc)})
                self._disconnect()
                self._backoff()
            except OSError as exc:  # the dead-letter file system (EFS): nothing was committed, replay the batch
                log.warning("dead-letter file system error; retrying from the checkpoints", extra={"error": str(exc)})
                self._disconnect()
                self._backoff()
            except _KINESIS_ERRORS as exc:  # ListShards / DescribeStreamSummary; per-shard reads handle their own
                log.warning("Kinesis error; retrying", extra={"error": str(exc)})
                self._backoff()
        # SIGTERM: let the batch in flight commit before the shards are released. If it fails (PostgreSQL or the
        # dead-letter file system), nothing of it was committed and its shard's next owner replays it.
        with contextlib.suppress(psycopg.Error, OSError, LostOwnership):
            self._drain()
        self._disconnect(graceful=True)
        self.cache_updater.flush()
        self.cache_updater.close()
        self.resync.join(timeout=5)
        log.info("consumer stopped")
        return 0

    def _touch(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.touch()

    def _idle_wait(self) -> float:
        """Until the next shard may be read or the next rebalance is due, at most IDLE_SLEEP_SECONDS."""
        now = time.monotonic()
        due = min([state.next_read for state in self.owned.values()] + [self._next_rebalance])
        return max(0.0, min(self.settings.idle_sleep_seconds, due - now))

    def _connect(self) -> None:
        if self.store is not None and self.leases is not None:
            return
        created = self.kinesis.describe_stream_summary(StreamName=self.settings.stream_name)[
            "StreamDescriptionSummary"
        ]["StreamCreationTimestamp"]
        conn = self.credentials.connect(statement_timeout_ms=WRITER_STATEMENT_TIMEOUT_MS, autocommit=True)
        try:
            apply_migrations(conn, owner=base_role(self.credentials.current()[0]))
            store = ReadingStore(conn, self.settings.stream_name, created)
            discarded = store.adopt_stream()
            if discarded:
                log.warning(
                    "discarded the checkpoints of an earlier stream with the same name",
                    extra={"shards": discarded, "streamCreated": created.isoformat()},
                )
            self._confirm_unconfirmed(store)
            self.leases = ShardLeases(
                lambda: self.credentials.connect(statement_timeout_ms=LEASE_STATEMENT_TIMEOUT_MS, autocommit=True),
                self.settings.stream_name,
            )
        except BaseException:
            conn.close()
            raise
        self.store = store
        self.writer = BatchWriter(store, self.dead_letters, self.cache_updater, self.max_future)
        self._next_rebalance = 0.0
        log.info("connected to PostgreSQL", extra={"slot": self.leases.slot})

    def _confirm_unconfirmed(self, store: ReadingStore) -> None:
        """A batch whose COMMIT failed may still have committed (the connection died after the server committed).
        Its checkpoint says: at its last sequence number it did, so Redis gets its readings now; at its first,
        it did not, and the replay will; moved on by another task, nobody knows, so Redis is resynchronised."""
        batch, self._unconfirmed = self._unconfirmed, None
        if batch is None:
            return
        checkpoint = store.checkpoint(batch.shard_id)
        sequence = checkpoint.sequence_number if checkpoint else None
        if sequence == batch.last_sequence and batch.last_sequence != batch.previous_sequence:
            log.info("a batch whose COMMIT failed had committed; updating Redis", extra={"shard": batch.shard_id})
            self.cache_updater.submit(batch.latest.values())
        elif sequence != batch.previous_sequence:
            self.cache_updater.stale.set()

    def _disconnect(self, graceful: bool = False) -> None:
        """Drop both connections; PostgreSQL releases this task's shard locks with the session."""
        with contextlib.suppress(Exception):  # a batch that committed is accounted for (metrics, Redis, finished)
            self._drain()
        if self.writer is not None:
            self.writer.close()  # a batch in flight either committed or is replayed from its checkpoint
            if self.writer.failed is not None:
                self._unconfirmed = self.writer.failed
        if self.leases is not None:
            with contextlib.suppress(psycopg.Error):
                if graceful:
                    self.leases.leave()  # the other tasks take the shards over now, not at their next rebalance
                else:
                    self.leases.close()
        if self.store is not None:
            with contextlib.suppress(psycopg.Error):
                self.store.conn.close()
        self.leases = None
        self.store = None
        self.writer = None
        self.owned.clear()

    def _backoff(self) -> None:
        self._touch()  # backing off is alive: the health check must not restart a waiting task
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
        changed = False
        for shard_id in sorted(self.owned)[target:]:  # hand surplus shards to newer tasks
            self._drop(shard_id, notify=False)
            changed = True
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
            changed = True
            log.info("shard acquired", extra={"shard": shard_id, "checkpoint": checkpoint.sequence_number})
        if changed:
            self.leases.notify()
        self._next_rebalance = time.monotonic() + self.settings.rebalance_seconds

    def _drop(self, shard_id: str, notify: bool = True) -> None:
        self.owned.pop(shard_id, None)
        if self.leases is not None:
            self.leases.release(shard_id)
            if notify:
                self.leases.notify()
        log.info("shard released", extra={"shard": shard_id})

    # -- reading ---------------------------------------------------------------------------------------------
    def poll_once(self) -> bool:
        """One batch from every owned shard that is due; True when any records arrived."""
        worked = False
        for state in list(self.owned.values()):
            if self.stopping.is_set():
                break
            if time.monotonic() < state.next_read:
                continue
            try:
                worked = self.process_batch(state) or worked
                state.failures = 0
            except LostOwnership as exc:
                self._lost(exc)
            except _KINESIS_ERRORS as exc:
                self._shard_error(state, exc)
        return worked

    def _shard_error(self, state: ShardState, exc: BaseException) -> None:
        """One shard's Kinesis error affects that shard only."""
        code = _error_code(exc)
        if code == "ExpiredIteratorException":
            state.iterator = None  # renewed from the checkpoint at once
            return
        state.failures += 1
        delay = min(self.settings.max_backoff_seconds, 0.2 * 2 ** min(state.failures, 10))
        state.next_read = time.monotonic() + delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
        if code in _THROTTLES:
            log.info("shard throttled; backing off", extra={"shard": state.shard_id, "delay": round(delay, 2)})
            emit_metrics(
                {"StreamName": self.settings.stream_name}, {"ReadThrottles": (1, "Count")}, {"ShardId": state.shard_id}
            )
            return
        state.iterator = None
        if code in ("ResourceNotFoundException", "InvalidArgumentException"):
            self._vanished(state, exc)
            return
        log.warning("Kinesis error on one shard; retrying it", extra={"shard": state.shard_id, "error": str(exc)})

    def _vanished(self, state: ShardState, exc: BaseException) -> None:
        """The shard or its checkpoint's position is gone: a closed parent aged out of the retention period."""
        shards = {s["ShardId"] for s in list_shards(self.kinesis, self.settings.stream_name)}
        if state.shard_id in shards:
            log.warning("Kinesis refused a read of a listed shard; retrying it", extra={"shard": state.shard_id})
            return
        assert self.store is not None
        self._drain()
        log.error(
            "shard is gone from the stream (past its retention period); marking it finished, its unread records "
            "are lost",
            extra={"shard": state.shard_id, "checkpoint": state.checkpoint, "error": str(exc)},
        )
        with self.store.conn.transaction():
            self.store.conn.execute(
                """UPDATE shard_checkpoints SET finished = true, updated_at = now()
                    WHERE stream_name = %s AND shard_id = %s AND sequence_number IS NOT DISTINCT FROM %s""",
                (self.settings.stream_name, state.shard_id, state.checkpoint),
            )
        self._drop(state.shard_id)
        self._next_rebalance = 0.0

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
        limit = self.settings.catchup_batch_size if state.behind_ms > 0 else self.settings.batch_size
        response = self.kinesis.get_records(ShardIterator=self._iterator(state), Limit=limit)
        now = time.monotonic()
        records = response["Records"]
        next_iterator = response.get("NextShardIterator")
        state.behind_ms = int(response.get("MillisBehindLatest", 0))
        # Kinesis ends the iterator of a closed shard once it has been read to the end.
        finished = next_iterator is None
        if not records and not finished:
            state.iterator = next_iterator
            state.next_read = now + self.settings.idle_sleep_seconds
            if state.in_flight == 0:
                state.lag_ms, state.lag_at = 0, now  # at the tip, everything before it committed
            return False
        state.next_read = now + MIN_READ_INTERVAL
        done = self.writer.submit(state.shard_id, state.checkpoint, records, finished, state.behind_ms)
        state.in_flight += 1  # only once submitted: submit raises an earlier batch's error without starting this one
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
                "RecordsProcessed": (result.records - result.invalid - result.conflicts, "Count"),
                "RecordsStored": (result.stored, "Count"),
                "RecordsInvalid": (result.invalid, "Count"),
                "RecordsDuplicate": (result.duplicates, "Count"),
                "RecordsConflicting": (result.conflicts, "Count"),
                "BatchLatency": (result.latency_ms, "Milliseconds"),
            },
            {
                "ShardId": result.shard_id,
                "PreviousSequenceNumber": result.previous_sequence,
                "LastSequenceNumber": result.last_sequence,
            },
        )
        state = self.owned.get(result.shard_id)
        if state is not None:
            state.in_flight = max(0, state.in_flight - 1)
            state.lag_ms, state.lag_at = result.behind_ms, result.read_at
        if result.finished and result.shard_id in self.owned:
            log.info("shard finished", extra={"shard": result.shard_id})
            self._drop(result.shard_id)
            self._next_rebalance = 0.0  # its children may start now

    def _lost(self, exc: LostOwnership) -> None:
        log.warning("shard lost to another task", extra={"shard": exc.shard_id, "error": str(exc)})
        if exc.shard_id in self.owned:
            self._drop(exc.shard_id)

    # -- metrics ---------------------------------------------------------------------------------------------
    def report(self) -> None:
        """Per-shard lag and this task's lease count, from a thread of their own: they keep coming, and keep
        growing, exactly when the main loop is stuck."""
        now = time.monotonic()
        stream = self.settings.stream_name
        owned = list(self.owned.values())
        for state in owned:
            lag = state.lag_ms + int((now - state.lag_at) * 1000)
            emit_metrics(
                {"StreamName": stream, "ShardId": state.shard_id}, {"MillisBehindLatest": (lag, "Milliseconds")}
            )
        emit_metrics({"StreamName": stream}, {"LeasesHeld": (len(owned), "Count")})

    def _report_forever(self) -> None:
        while not self.stopping.wait(self.settings.metrics_seconds):
            try:
                self.report()
            except Exception:  # a metrics hiccup must never stop the reporting thread
                log.exception("metrics report failed")


def run_consumer(settings: ConsumerSettings, heartbeat: pathlib.Path | None = None) -> int:
    import boto3
    from botocore.config import Config

    # One attempt per call: the consumer paces and backs off per shard itself. botocore's own retries would
    # sleep on the main loop, holding up every other shard behind one throttled shard.
    kinesis = boto3.client(
        "kinesis",
        region_name=settings.region,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=10),
    )
    consumer = Consumer(settings, kinesis, cache_module.connect(settings.redis), heartbeat)
    consumer.install_signal_handlers()
    tune_gc()
    return consumer.run()


__all__ = ["Consumer", "run_consumer"]
