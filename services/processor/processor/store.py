"""PostgreSQL writes of one batch: readings, latest reading per sensor and the shard checkpoint, atomically."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
import psycopg
from psycopg import sql
from psycopg.types.json import set_json_dumps

from processor.readings import Reading

# A row of the readings table: sensor_id, ts, temperature, humidity, extra (further numeric fields, or None).
Row = tuple[str, datetime, float, float, dict[str, float] | None]
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


def merge_newest(latest: dict[str, Reading], readings: Iterable[Reading]) -> None:
    """Keep in ``latest`` the newest reading of each sensor (by timestamp; an older one never wins)."""
    for reading in readings:
        current = latest.get(reading.sensor_id)
        if current is None or reading.timestamp > current.timestamp:
            latest[reading.sensor_id] = reading


_COLUMNS = sql.SQL("sensor_id, ts, temperature, humidity, extra")

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
     WHERE r.sensor_id = sensors.sensor_id ORDER BY ts DESC LIMIT 1
) AS latest
"""


class ReadingStore:
    """Writes batches on one connection. Each batch is one transaction guarded by a checkpoint compare-and-set."""

    def __init__(self, conn: psycopg.Connection, stream_name: str) -> None:
        self.conn = conn
        self.stream_name = stream_name
        set_json_dumps(orjson.dumps, context=conn)

    def checkpoints(self) -> dict[str, Checkpoint]:
        with self.conn.transaction():
            rows = self.conn.execute(
                "SELECT shard_id, sequence_number, finished FROM shard_checkpoints WHERE stream_name = %s",
                (self.stream_name,),
            ).fetchall()
        return {shard: Checkpoint(seq, finished) for shard, seq, finished in rows}

    def ensure_checkpoint(self, shard_id: str) -> Checkpoint:
        with self.conn.transaction():
            self.conn.execute(
                "INSERT INTO shard_checkpoints (stream_name, shard_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (self.stream_name, shard_id),
            )
            seq, finished = self.conn.execute(
                "SELECT sequence_number, finished FROM shard_checkpoints WHERE stream_name = %s AND shard_id = %s",
                (self.stream_name, shard_id),
            ).fetchone()  # type: ignore[misc]
        return Checkpoint(seq, finished)

    def commit_batch(
        self,
        shard_id: str,
        previous_sequence: str | None,
        last_sequence: str | None,
        rows: Sequence[Row],
        finished: bool = False,
        before_commit: Callable[[], None] | None = None,
    ) -> int:
        """Store rows and advance the checkpoint in one transaction; returns how many rows were new.

        `before_commit` runs after the rows are in, before COMMIT.
        Duplicates (same sensor and timestamp) are dropped. Raises LostOwnership, storing nothing, when the
        checkpoint is no longer `previous_sequence`.
        """
        conn = self.conn
        with conn.transaction():
            moved = conn.execute(
                """UPDATE shard_checkpoints
                      SET sequence_number = %s, finished = %s, updated_at = now()
                    WHERE stream_name = %s AND shard_id = %s AND sequence_number IS NOT DISTINCT FROM %s""",
                (last_sequence, finished, self.stream_name, shard_id, previous_sequence),
            ).rowcount
            if moved != 1:
                raise LostOwnership(shard_id, previous_sequence)
            # Fast path: COPY straight into the table. A duplicate (a replay after a crash, or a producer's
            # retry) fails it, and the savepoint lets the slower path skip duplicates instead.
            try:
                with conn.transaction(), conn.cursor() as cur:
                    copy_rows(cur, "readings", rows)
                stored = len(rows)
            except psycopg.errors.UniqueViolation:
                with conn.cursor() as cur:
                    cur.execute(
                        "CREATE TEMP TABLE IF NOT EXISTS readings_staging (LIKE readings) ON COMMIT DELETE ROWS"
                    )
                    copy_rows(cur, "readings_staging", rows)
                    stored = cur.execute(
                        "INSERT INTO readings SELECT * FROM readings_staging ON CONFLICT DO NOTHING"
                    ).rowcount
            if before_commit is not None:
                before_commit()
        return stored


def copy_rows(cur: psycopg.Cursor, table: str, rows: Sequence[Row]) -> None:
    """Binary COPY of readings rows into `table` (the fastest way into PostgreSQL; also the benchmark's floor)."""
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(sql.Identifier(table), _COLUMNS)) as copy:
        copy.set_types(_COPY_TYPES)
        for row in rows:
            copy.write_row(row)


def to_row(reading: Reading) -> Row:
    return (reading.sensor_id, reading.timestamp, reading.temperature, reading.humidity, reading.extra or None)
