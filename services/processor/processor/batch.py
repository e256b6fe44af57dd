"""The processing core for one Kinesis batch: decode -> dead letters -> PostgreSQL + checkpoint -> Redis.

`consume` runs it per batch, and `make bench-processor` measures it, so the benchmark times this exact code.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg
import redis

from processor.cache import LatestCache
from processor.deadletter import DeadLetter, DeadLetterWriter
from processor.readings import (
    _GOOD_IDS,
    DEFAULT_MAX_FUTURE,
    EARLIEST,
    InvalidReading,
    NotUsual,
    Row,
    _decode_four,
    check_window,
    extra_fields,
    format_timestamp,
    good_sensor_id,
    parse_row_general,
)
from processor.store import ReadingStore

log = logging.getLogger("processor.consume")

_FAST_PATH_MISSES = (msgspec.ValidationError, msgspec.DecodeError, NotUsual)
# Batches per shard whose keys are remembered to catch a producer's retry before PostgreSQL does.
RECENT_BATCHES = 2
# The Kinesis Producer Library's aggregated-record marker (aws_kinesis_agg.MAGIC, checked here without importing
# protobuf for every batch: almost no record of this platform is aggregated).
KPL_MAGIC = b"\xf3\x89\x9a\xc2"


@dataclass(frozen=True)
class BatchResult:
    shard_id: str
    records: int  # user records (a KPL-aggregated record counts as the records it holds)
    stored: int
    invalid: int
    duplicates: int  # same key and same values as a stored reading (or an earlier one in the batch)
    conflicts: int  # same key, different values: dead-lettered
    finished: bool
    previous_sequence: str | None
    last_sequence: str | None
    latency_ms: float = 0.0  # from the start of decoding to the end of the commit
    behind_ms: int = 0  # how far behind the shard's tip the batch was read
    read_at: float = 0.0  # time.monotonic() when it was read


def tune_gc() -> None:
    """Garbage-collector settings for `consume` (and the benchmark, which measures the same thing).

    A batch allocates a few small objects per record (rows, keys, timestamps); with Python's default gen-0
    threshold of 700 a collection ran every ~150 records. Objects alive at start-up (modules, clients) are frozen
    out of every collection, and gen 0 runs every 50,000 allocations: a few MB of short-lived objects at most.
    Reference cycles are still collected.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def merge_newest(latest: dict[str, Row], rows: Iterable[Row]) -> None:
    """Keep in ``latest`` the newest row of each sensor (by timestamp; an older one never wins)."""
    for row in rows:
        current = latest.get(row[0])
        if current is None or row[1] > current[1]:
            latest[row[0]] = row


class CacheUpdater:
    """Pushes committed batches' latest readings to Redis on a background thread, coalescing them.

    The consumer never waits for Redis. Readings waiting for the thread are merged per sensor (the newest
    wins) and written at most every `interval` seconds, so a busy sensor is written once per round instead of
    once per batch, and memory is bounded by the number of sensors. Order does not matter: Redis keeps the
    newer reading. When Redis fails, `stale` is set and updates are dropped until the resynchronisation from
    PostgreSQL (`processor.resync`) clears it, just before it takes its snapshot.
    """

    def __init__(self, cache: LatestCache, interval: float = 0.25) -> None:
        self.cache = cache
        self.interval = interval
        self._flushing = 0
        self.stale = threading.Event()
        self._pending: dict[str, Row] = {}
        self._busy = False
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="redis-updater", daemon=True)
        self._thread.start()

    def submit(self, rows: Iterable[Row]) -> None:
        """Queue the newest reading of each sensor in a committed batch."""
        if self.stale.is_set():
            return
        with self._changed:
            merge_newest(self._pending, rows)
            if self._pending:
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
                rows, self._pending, self._busy = self._pending, {}, True
            next_round = time.monotonic() + self.interval
            try:
                if not self.stale.is_set():
                    self.cache.put_rows(rows.values())
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
    records: int = 0
    behind_ms: int = 0
    started: float = field(default_factory=time.perf_counter)
    read_at: float = field(default_factory=time.monotonic)
    rows: list[Row] = field(default_factory=list)
    # Where each row came from, for a conflict's dead letter: the index of its Kinesis record, or, for a sub-record
    # of a KPL-aggregated record, (sequence number, subsequence number, partition key, data).
    origins: list[int | tuple[str, int, str, bytes]] = field(default_factory=list)
    source: list[dict[str, Any]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    duplicates: int = 0
    seen: set[bytes] = field(default_factory=set)  # the data of the valid records: a byte-identical retry is known
    payload: bytes | None = None  # the rows' binary COPY payload (ReadingStore.encode_rows), if built
    latest: dict[str, Row] = field(default_factory=dict)  # newest valid reading per sensor, for Redis

    def conflict_letters(self, conflicts: list[int]) -> list[DeadLetter]:
        return [self._letter(self.origins[index], _conflict_reason(self.rows[index])) for index in conflicts]

    def _letter(self, origin: int | tuple[str, int, str, bytes], reason: str) -> DeadLetter:
        if isinstance(origin, int):
            record = self.source[origin]
            return DeadLetter(
                self.shard_id, record["SequenceNumber"], record.get("PartitionKey", ""), record["Data"], reason
            )
        sequence, sub, partition_key, data = origin
        return DeadLetter(self.shard_id, sequence, partition_key, data, reason, sub)


def _conflict_reason(row: Row) -> str:
    return (
        f"conflicting duplicate: a different reading of sensor {row[0]} at {format_timestamp(row[1])} "
        "is already stored (the first one stored wins)"
    )


def decode_batch(
    shard_id: str,
    previous_sequence: str | None,
    records: list[dict[str, Any]],
    finished: bool,
    behind_ms: int = 0,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    recent: Iterable[set[bytes]] = (),
) -> DecodedBatch:
    """Split Kinesis records into rows to store and dead letters (every record ends up in exactly one, or is a
    duplicate of a row), and note each sensor's newest reading for Redis.

    A producer's retry repeats a record byte for byte, usually within the same batch or the next one: such a record
    is counted as a duplicate here, before it is even decoded, against this batch and `recent` (the valid records
    of the shard's previous batches, committed or in flight: if one of those fails, this batch is discarded with
    it). Any other record with a stored key (an older retry, a replay, a conflicting reading) is sorted out by the
    commit, which then compares the values."""
    last_sequence = records[-1]["SequenceNumber"] if records else previous_sequence
    batch = DecodedBatch(shard_id, previous_sequence, last_sequence, finished, len(records), behind_ms)
    batch.source = records
    rows, origins, dead, latest, seen = batch.rows, batch.origins, batch.dead, batch.latest, batch.seen
    known = set().union(*recent)  # this batch's valid records are added as they come
    fallback = datetime.now(UTC)  # records without an arrival time (tests, tools)
    # Every reading at or before the earliest arrival plus the skew is in the window: one comparison per record;
    # only a later one is checked against its own record's arrival. Rows are in UTC, so comparisons are cheap.
    arrivals = [r.get("ApproximateArrivalTimestamp") or fallback for r in records]
    bound = (min(arrivals) if arrivals else fallback).astimezone(UTC) + max_future
    decode_four, good_ids = _decode_four, _GOOD_IDS
    for index, record in enumerate(records):
        data: bytes = record["Data"]
        if data in known:
            batch.duplicates += 1
            continue
        if data and data[0] == 0xF3 and data[:4] == KPL_MAGIC:  # a JSON reading starts with "{"
            _add_aggregated(batch, index, record, arrivals[index], bound, max_future, known)
            continue
        # The usual reading, inline (this loop runs for every record): the four fields decoded and checked in C by
        # msgspec, extra fields (if any) read by orjson. Anything unusual, valid or not, goes to the general parser,
        # which accepts exactly the same readings and says why a record is invalid.
        try:
            four = decode_four(data)
            if four.sensorId not in good_ids and not good_sensor_id(four.sensorId):
                raise NotUsual
            # Other fields than the four? None of the four values can hold a literal comma (a checked sensorId, a
            # parsed time, two numbers), so the commas are those between the object's members: exactly 3 means
            # exactly the four fields. One C scan, instead of a strict decode failing on an extra field (raising an
            # exception cost ~1.4 us) and a second decode.
            extra = extra_fields(data) if data.count(b",") != 3 else None
            ts = four.timestamp
            if ts.tzinfo is not UTC:
                ts = ts.astimezone(UTC)
            row: Row = (four.sensorId, ts, four.temperature, four.humidity, extra)
        except _FAST_PATH_MISSES:
            try:
                row = parse_row_general(data)
            except InvalidReading as exc:
                dead.append(batch._letter(index, str(exc)))
                continue
            ts = row[1]
        except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00: the year 10000 in UTC
            dead.append(batch._letter(index, f"timestamp {four.timestamp.isoformat()} is outside the accepted window"))
            continue
        if ts > bound or ts < EARLIEST:
            try:
                check_window(ts, arrivals[index] + max_future)
            except InvalidReading as exc:
                dead.append(batch._letter(index, str(exc)))
                continue
        seen.add(data)
        known.add(data)
        rows.append(row)
        origins.append(index)
        current = latest.get(row[0])
        if current is None or ts > current[1]:
            latest[row[0]] = row
    return batch


def _add_aggregated(
    batch: DecodedBatch,
    index: int,
    record: dict[str, Any],
    arrival: datetime,
    bound: datetime,
    max_future: timedelta,
    known: set[bytes],
) -> None:
    """The user records of one KPL-aggregated record, each through the general path."""
    try:
        units = _deaggregate(record)
    except InvalidReading as exc:
        batch.dead.append(batch._letter(index, str(exc)))
        return
    batch.records += len(units) - 1
    for origin, payload in units:
        if payload in known:
            batch.duplicates += 1
            continue
        try:
            row = parse_row_general(payload)
            if row[1] > bound or row[1] < EARLIEST:
                check_window(row[1], arrival + max_future)
        except InvalidReading as exc:
            batch.dead.append(batch._letter(origin, str(exc)))
            continue
        batch.seen.add(payload)
        known.add(payload)
        batch.rows.append(row)
        batch.origins.append(origin)
        merge_newest(batch.latest, (row,))


def _deaggregate(record: dict[str, Any]) -> list[tuple[tuple[str, int, str, bytes], bytes]]:
    """The user records of a KPL-aggregated record, with the maintained aws-kinesis-agg library.

    The library yields a record unchanged when its digest or protobuf is wrong, and stops silently (printing to
    stderr) when a sub-record points outside the key tables; both are refused here, naming the problem, so the
    record is dead-lettered whole instead of losing sub-records.
    """
    # The deaggregator module puts its own directory on the import path so that its generated protobuf modules import
    # each other; import it first, and take messages_pb2 from it.
    from aws_kinesis_agg import DIGEST_SIZE
    from aws_kinesis_agg.deaggregator import iter_deaggregate_records, messages_pb2
    from google.protobuf.message import DecodeError

    data: bytes = record["Data"]
    try:
        expected = len(messages_pb2.AggregatedRecord.FromString(data[len(KPL_MAGIC) : -DIGEST_SIZE]).records)
    except DecodeError:
        expected = -1
    boto3_shape = {
        "Data": data,
        "SequenceNumber": record["SequenceNumber"],
        "PartitionKey": record.get("PartitionKey", ""),
        "ApproximateArrivalTimestamp": record.get("ApproximateArrivalTimestamp"),
    }
    users = [r["kinesis"] for r in iter_deaggregate_records([boto3_shape], data_format="Boto3")]
    if expected < 0 or not users or not users[0].get("aggregated") or len(users) != expected:
        raise InvalidReading("a KPL-aggregated record whose digest or protobuf is invalid")
    units = []
    for u in users:
        payload = base64.b64decode(u["data"])
        units.append(((u["sequenceNumber"], int(u["subSequenceNumber"]), u["partitionKey"], payload), payload))
    return units


class BatchWriter:
    """Runs the core with one batch in flight: PostgreSQL commits batch N while the caller decodes batch N+1.

    `submit` decodes on the caller's thread, waits for the previous batch's commit (re-raising its error), then
    hands the new batch to a single writer thread that owns the PostgreSQL connection while it commits: dead
    letters fsynced, rows and checkpoint in one transaction, then Redis. Callers must `wait()` before using the
    store's connection themselves. `failed` keeps the last batch whose commit raised: a COMMIT that lost its
    connection may have committed (the consumer asks the checkpoint after reconnecting).
    """

    def __init__(
        self,
        store: ReadingStore,
        dead_letters: DeadLetterWriter,
        cache: CacheUpdater,
        max_future: timedelta = DEFAULT_MAX_FUTURE,
    ) -> None:
        self.store = store
        self.dead_letters = dead_letters
        self.cache = cache
        self.max_future = max_future
        self.failed: DecodedBatch | None = None
        # Per shard, the data of the valid records (not the whole records: memory) of its last RECENT_BATCHES batches.
        self._recent: dict[str, deque[set[bytes]]] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres-writer")
        # Dead letters are written and fsynced while the rows are COPYed (fsync releases the GIL), and waited for
        # before COMMIT: the guarantee is unchanged, the fsync no longer adds to every batch's time.
        self._letters = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dead-letters")
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
        recent = self._recent.setdefault(shard_id, deque(maxlen=RECENT_BATCHES))
        batch = decode_batch(shard_id, previous_sequence, records, finished, behind_ms, self.max_future, recent)
        recent.append(batch.seen)
        if batch.rows:
            try:  # formatted here, not by the writer thread: see below
                batch.payload = self.store.encode_rows(batch.rows)
            except Exception:  # a value psycopg cannot dump: the writer's own COPY fails with it, as before
                batch.payload = None
        done = self.wait()
        # Return (and decode the next batch) only once the writer has sent the rows. Both threads need the GIL: a
        # decoding caller keeps it for up to the switch interval (5 ms, about a whole batch's decode), and the
        # writer needs it after every round trip (BEGIN, checkpoint, COPY). A writer started alongside a decode
        # therefore waited for the whole decode before PostgreSQL got a row, so the two ran one after the other.
        # Now PostgreSQL stores batch N's rows while batch N+1 is decoded (and its payload encoded, here too).
        sent = threading.Event()
        self._in_flight = self._executor.submit(self._commit, batch, sent)
        sent.wait()
        return done

    def wait(self) -> BatchResult | None:
        """Wait for the batch in flight; raises what it raised (nothing of it was stored then)."""
        in_flight, self._in_flight = self._in_flight, None
        try:
            return in_flight.result() if in_flight is not None else None
        except BaseException:
            self._recent.clear()  # what failed was not stored: forget its keys (the replay decodes afresh)
            raise

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
        self._letters.shutdown(wait=True)

    def _commit(self, batch: DecodedBatch, sent: threading.Event) -> BatchResult:
        try:
            return self._store(batch, sent)
        finally:
            sent.set()  # whatever happened: the caller must not wait forever

    def _store(self, batch: DecodedBatch, sent: threading.Event) -> BatchResult:
        written: list[DeadLetter] = list(batch.dead)
        invalid: list[Future[None]] = []

        def claimed() -> None:
            # This task owns the shard now (the checkpoint row is locked): its dead-letter file is ours to append.
            if batch.dead and not invalid:
                invalid.append(self._letters.submit(self.dead_letters.write, batch.dead))

        def before_commit(conflicts: list[int] | None) -> None:
            # Dead letters reach the disk (fsynced) before the checkpoint passes them: never lost.
            if invalid:
                invalid[0].result()
            if conflicts:
                letters = batch.conflict_letters(conflicts)
                self.dead_letters.write(letters)
                written.extend(letters)

        try:
            committed = self.store.commit_batch(
                batch.shard_id,
                batch.previous_sequence,
                batch.last_sequence,
                batch.rows,
                batch.finished,
                before_commit,
                claimed,
                payload=batch.payload,
                sent=sent.set,
            )
        except psycopg.Error:  # not LostOwnership: that batch certainly did not commit
            self.failed = batch
            raise
        finally:
            if invalid:  # never leave a write running when the transaction is over, whatever happened
                with contextlib.suppress(Exception):
                    invalid[0].result()
        conflicts = len(committed.conflicts)
        if conflicts:  # the batch's newest row of a sensor may be one that was not stored
            gone = set(committed.conflicts)
            self.cache.submit(row for i, row in enumerate(batch.rows) if i not in gone)
        else:
            self.cache.submit(batch.latest.values())
        for letter in written:
            log.warning(
                "record dead-lettered",
                extra={"shard": letter.shard_id, "sequenceNumber": letter.sequence_number, "reason": letter.reason},
            )
        latency_ms = (time.perf_counter() - batch.started) * 1000
        return BatchResult(
            batch.shard_id,
            batch.records,
            committed.stored,
            len(batch.dead),
            batch.duplicates + len(batch.rows) - committed.stored - conflicts,
            conflicts,
            batch.finished,
            batch.previous_sequence,
            batch.last_sequence,
            latency_ms,
            batch.behind_ms,
            batch.read_at,
        )
