"""Versioned schema migrations, applied once even when several tasks start together."""

from __future__ import annotations

import logging

import psycopg

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
)

# Advisory-lock key that serialises migrations across tasks (an arbitrary, fixed 64-bit number).
_MIGRATION_LOCK = 0x10770001


def apply_migrations(conn: psycopg.Connection) -> list[int]:
    """Apply every migration not yet recorded; returns the versions applied by this call."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version     integer     PRIMARY KEY,
                   description text        NOT NULL,
                   applied_at  timestamptz NOT NULL DEFAULT now())"""
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, description, sql in MIGRATIONS:
            if version in done:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version, description) VALUES (%s, %s)", (version, description))
            applied.append(version)
            log.info("applied migration", extra={"version": version, "description": description})
    return applied
