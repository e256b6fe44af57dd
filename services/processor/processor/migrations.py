"""Versioned schema migrations, applied once even when several tasks start together.

Every object is created by the application's base role (`SET LOCAL ROLE`), whichever of the alternating users
(`<base>` or `<base>_clone`) is connected: the clone is a member of the base role, so both can use everything, and
no object ever belongs to a user whose password the next rotation changes.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

# Never edit a released migration: append a new one.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "readings and shard checkpoints",
        """
        CREATE TABLE readings (
            sensor_id   text             NOT NULL,
            ts          timestamptz      NOT NULL,
            temperature double precision NOT NULL,
            humidity    double precision NOT NULL,
            extra       jsonb,
            PRIMARY KEY (sensor_id, ts)
        );
        CREATE TABLE shard_checkpoints (
            stream_name     text        NOT NULL,
            shard_id        text        NOT NULL,
            sequence_number text,
            finished        boolean     NOT NULL DEFAULT false,
            updated_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (stream_name, shard_id)
        );
        """,
    ),
    (
        2,
        "quarantine out-of-window timestamps; checkpoints know their stream's incarnation",
        # Rows stored before the timestamp window existed (issue #11): year 10000 UTC cannot be loaded by psycopg,
        # and a reading dated 2099 pins /latest forever. They move to readings_rejected: kept, out of the way.
        """
        CREATE TABLE readings_rejected (
            LIKE readings,
            reason   text        NOT NULL,
            moved_at timestamptz NOT NULL DEFAULT now()
        );
        WITH moved AS (
            DELETE FROM readings
             WHERE ts < '2000-01-01T00:00:00Z' OR ts > now() + interval '1 day'
            RETURNING *
        )
        INSERT INTO readings_rejected (sensor_id, ts, temperature, humidity, extra, reason)
        SELECT sensor_id, ts, temperature, humidity, extra, 'timestamp outside the accepted window' FROM moved;
        ALTER TABLE shard_checkpoints ADD COLUMN stream_created_at timestamptz;
        """,
    ),
)

# Advisory-lock key that serialises migrations across tasks (an arbitrary, fixed 64-bit number).
_MIGRATION_LOCK = 0x10770001


def apply_migrations(conn: psycopg.Connection, owner: str | None = None) -> list[int]:
    """Apply every migration not yet recorded, as role `owner` if given; returns the versions applied by this call."""
    applied: list[int] = []
    with conn.transaction():
        if owner is not None:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner)))
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version     integer     PRIMARY KEY,
                   description text        NOT NULL,
                   applied_at  timestamptz NOT NULL DEFAULT now())"""
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, description, statements in MIGRATIONS:
            if version in done:
                continue
            conn.execute(statements)
            conn.execute("INSERT INTO schema_migrations (version, description) VALUES (%s, %s)", (version, description))
            applied.append(version)
            log.info("applied migration", extra={"version": version, "description": description})
    return applied
