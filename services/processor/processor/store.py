"""PostgreSQL writes of one batch: readings and the shard checkpoint, atomically.

The duplicate policy: the first reading stored for a (sensor, timestamp) wins. A later record with the same key and
the same values is a harmless duplicate (a producer's retry, or a replay after a crash): counted, not stored again.
A later record with the same key but different values is a conflicting duplicate: it is not stored either, but it
goes to the dead-letter file (reason names the stored reading) and is counted separately, so it never vanishes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
import psycopg
from psycopg import sql
from psycopg.copy import Copy, FileWriter
from psycopg.types.json import set_json_dumps

from processor.readings import Row

_COPY_TYPES = ("text", "timestamptz", "float8", "float8", "jsonb")


class LostOwnership(RuntimeError):
    """The shard's checkpoint moved under us: another task owns the shard now."""

    def __init__(self, shard_id: str, expected: str | None) -> None:
        super().__init__(f"checkpoint of {shard_id} is no longer {expected}")
        self.shard_id = shard_id


@dataclass(frozen=True)
class Checkpoint:
    sequence_number: str | None
    finished: bool


@dataclass(frozen=True)
class Committed:
    """What one batch's transaction did: rows stored, and which rows (by index) conflicted with stored ones."""

    stored: int
    conflicts: list[int]


# Every sensor's newest reading, one index probe per sensor (a "loose index scan" over the primary key).
LATEST_PER_SENSOR_SQL = """
WITH RECURSIVE sensors AS (
    (SELECT sensor_id FROM readings ORDER BY sensor_id LIMIT 1)
    UNION ALL
    SELECT (SELECT r.sensor_id FROM readings r WHERE r.sensor_id > s.sensor_id ORDER BY r.sensor_id LIMIT 1)
      FROM sensors s WHERE s.sensor_id IS NOT NULL
)
SELECT latest.* FROM sensors
CROSS JOIN LATERAL (
    SELECT sensor_id, ts, temperature, humidity, extra FROM readings r
     WHERE r.sensor_id = sensors.sensor_id AND r.ts <= now() + interval '1 day'  -- never a poison row (issue #11)
     ORDER BY ts DESC LIMIT 1
) AS latest
"""


class ReadingStore:
    """Writes batches on one connection. Each batch is one transaction guarded by a checkpoint compare-and-set.

    Checkpoints belong to one incarnation of the stream (its creation time): a stream deleted and recreated under
    the same name starts its shards again at shardId-000000000000 with new sequence numbers, and must not inherit
    the old stream's checkpoints.
    """

    def __init__(self, conn: psycopg.Connection, stream_name: str, stream_created_at: datetime | None = None) -> None:
        self.conn = conn
        self.stream_name = stream_name
        self.stream_created_at = stream_created_at
        self._staging_ready = False
        set_json_dumps(orjson.dumps, context=conn)
        # Only formats COPY payloads (encode_rows); never executes anything, so another thread may use it.
        self._encoder = conn.cursor()

    def encode_rows(self, rows: Sequence[Row]) -> bytes:
        """The binary COPY payload of `rows`, by psycopg's own formatter (the one `copy_rows` streams with), built
        without touching the connection, so that BatchWriter can build it on the decoding thread."""
        out = io.BytesIO()
        with Copy(self._encoder, binary=True, writer=FileWriter(out)) as copy:
            copy.set_types(_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        return out.getvalue()

    def adopt_stream(self) -> list[str]:
        """Bind checkpoints to this incarnation of the stream; returns the shards of an older one, now discarded."""
        with self.conn.transaction():
            self.conn.execute(
                """UPDATE shard_checkpoints SET stream_created_at = %s
                    WHERE stream_name = %s AND stream_created_at IS NULL""",
                (self.stream_created_at, self.stream_name),
            )
            rows = self.conn.execute(
                """DELETE FROM shard_checkpoints WHERE stream_name = %s AND stream_created_at <> %s
                   RETURNING shard_id""",
                (self.stream_name, self.stream_created_at),
            ).fetchall()
        return [row[0] for row in rows]

    def checkpoints(self) -> dict[str, Checkpoint]:
        with self.conn.transaction():
            rows = self.conn.execute(
                "SELECT shard_id, sequence_number, finished FROM shard_checkpoints WHERE stream_name = %s",
                (self.stream_name,),
            ).fetchall()
        return {shard: Checkpoint(seq, finished) for shard, seq, finished in rows}

    def checkpoint(self, shard_id: str) -> Checkpoint | None:
        row = self.conn.execute(
            "SELECT sequence_number, finished FROM shard_checkpoints WHERE stream_name = %s AND shard_id = %s",
            (self.stream_name, shard_id),
        ).fetchone()
        return None if row is None else Checkpoint(row[0], row[1])

    def ensure_checkpoint(self, shard_id: str) -> Checkpoint:
        with self.conn.transaction():
            self.conn.execute(
                """INSERT INTO shard_checkpoints (stream_name, shard_id, stream_created_at) VALUES (%s, %s, %s)
                   ON CONFLICT DO NOTHING""",
                (self.stream_name, shard_id, self.stream_created_at),
            )
            checkpoint = self.checkpoint(shard_id)
        assert checkpoint is not None
        return checkpoint

    def _advance(self, shard_id: str, previous: str | None, last: str | None, finished: bool) -> None:
        moved = self.conn.execute(
            """UPDATE shard_checkpoints
                  SET sequence_number = %s, finished = %s, updated_at = now()
                WHERE stream_name = %s AND shard_id = %s AND sequence_number IS NOT DISTINCT FROM %s""",
            (last, finished, self.stream_name, shard_id, previous),
        ).rowcount
        if moved != 1:
            raise LostOwnership(shard_id, previous)

    def commit_batch(
        self,
        shard_id: str,
        previous_sequence: str | None,
        last_sequence: str | None,
        rows: Sequence[Row],
        finished: bool = False,
        before_commit: Callable[[list[int] | None], None] | None = None,
        claimed: Callable[[], None] | None = None,
        payload: bytes | None = None,
        sent: Callable[[], None] | None = None,
    ) -> Committed:
        """Store rows and advance the checkpoint in one transaction.

        `claimed()` runs once the checkpoint's row is locked by this transaction (only the shard's owner gets
        there: side effects such as appending to the shard's dead-letter file start then, never in a task that
        lost the shard). `before_commit(conflicts)` runs after the rows are in, before COMMIT, with the indexes of
        the rows that conflict with stored readings; `before_commit(None)` when the attempt is abandoned, to wait
        for what `claimed` started before the row lock goes. Raises LostOwnership, storing nothing, when the
        checkpoint is no longer `previous_sequence`. `payload`, if given, is `encode_rows(rows)`; `sent()` runs once
        the payload is on its way to PostgreSQL, before waiting for PostgreSQL to store it (without a payload: at
        once).
        """
        conn = self.conn
        # Fast path: COPY straight into the table, no savepoint. A stored key (a replay after a crash, a producer's
        # retry the batch did not catch, a conflicting reading) fails the COPY; the whole transaction is then
        # redone through a staging table, which also finds the conflicting rows.
        try:
            with conn.transaction():
                self._advance(shard_id, previous_sequence, last_sequence, finished)
                if claimed is not None:
                    claimed()
                try:
                    if payload is not None:
                        with conn.cursor() as cur, cur.copy(_copy_statement("readings")) as copy:
                            copy.write(payload)
                            if sent is not None:
                                sent()  # PostgreSQL stores the rows while the caller goes on
                    else:
                        if sent is not None:
                            sent()
                        if rows:
                            with conn.cursor() as cur:
                                copy_rows(cur, "readings", rows)
                except psycopg.errors.UniqueViolation:
                    if before_commit is not None:
                        before_commit(None)
                    raise
                if before_commit is not None:
                    before_commit([])
            return Committed(len(rows), [])
        except psycopg.errors.UniqueViolation:
            pass
        with conn.transaction(), conn.cursor() as cur:
            self._advance(shard_id, previous_sequence, last_sequence, finished)
            if claimed is not None:
                claimed()
            if not self._staging_ready:
                cur.execute(
                    """CREATE TEMP TABLE IF NOT EXISTS readings_staging
                           (LIKE readings, ord integer NOT NULL) ON COMMIT DELETE ROWS"""
                )
            copy_rows(cur, "readings_staging", rows, with_ord=True)  # ord: the first one in the batch wins
            stored = cur.execute(
                """INSERT INTO readings (sensor_id, ts, temperature, humidity, extra)
                   SELECT sensor_id, ts, temperature, humidity, extra FROM readings_staging ORDER BY ord
                   ON CONFLICT DO NOTHING"""
            ).rowcount
            conflicts = [
                row[0]
                for row in cur.execute(
                    """SELECT s.ord FROM readings_staging s JOIN readings r USING (sensor_id, ts)
                        WHERE (s.temperature, s.humidity, s.extra) IS DISTINCT FROM (r.temperature, r.humidity, r.extra)
                        ORDER BY s.ord"""
                )
            ]
            if before_commit is not None:
                before_commit(conflicts)
        self._staging_ready = True  # created in a transaction that committed
        return Committed(stored, conflicts)


_COLUMNS_TEXT = "sensor_id, ts, temperature, humidity, extra"


def _copy_statement(table: str, with_ord: bool = False) -> sql.Composed:
    columns = sql.SQL(_COLUMNS_TEXT + (", ord" if with_ord else ""))
    return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(sql.Identifier(table), columns)


def copy_rows(cur: psycopg.Cursor, table: str, rows: Sequence[Row], with_ord: bool = False) -> None:
    """Binary COPY of readings rows into `table` (the fastest way into PostgreSQL; also the benchmark's floor)."""
    with cur.copy(_copy_statement(table, with_ord)) as copy:
        if with_ord:
            copy.set_types((*_COPY_TYPES, "int4"))
            for index, row in enumerate(rows):
                copy.write_row((*row, index))
        else:
            copy.set_types(_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
