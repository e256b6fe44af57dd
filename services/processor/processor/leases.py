"""Shard ownership through PostgreSQL session advisory locks.

Each consumer task holds one dedicated connection. A lock on a shard means "this task reads it"; when a task
dies its connection closes and PostgreSQL releases its locks, so a surviving task picks the shards up at its
next rebalance. Tasks also hold one "consumer slot" lock each, which lets every task count the live tasks and
take a fair share of the shards.
"""

from __future__ import annotations

import psycopg

# First halves of the two-part advisory-lock keys (arbitrary constants that mark this application's locks).
CONSUMER_NAMESPACE = 0x10770002
SHARD_NAMESPACE = 0x10770003
MAX_CONSUMERS = 4096


class ShardLeases:
    def __init__(self, conninfo: dict[str, str | int], stream_name: str) -> None:
        self.conn = psycopg.connect(**conninfo, autocommit=True)
        self.stream_name = stream_name
        self.slot = self._register()

    def _register(self) -> int:
        for slot in range(MAX_CONSUMERS):
            if self._try_lock(CONSUMER_NAMESPACE, slot):
                return slot
        raise RuntimeError(f"more than {MAX_CONSUMERS} consumers are registered")

    def _try_lock(self, namespace: int, key: int) -> bool:
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (namespace, key)).fetchone()
        return bool(row and row[0])

    def live_consumers(self) -> int:
        row = self.conn.execute(
            """SELECT count(*) FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = %s
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
            (CONSUMER_NAMESPACE,),
        ).fetchone()
        return max(1, int(row[0])) if row else 1

    def _shard_key(self, shard_id: str) -> tuple[int, str]:
        return SHARD_NAMESPACE, f"{self.stream_name}/{shard_id}"

    def try_acquire(self, shard_id: str) -> bool:
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", self._shard_key(shard_id)).fetchone()
        return bool(row and row[0])

    def release(self, shard_id: str) -> None:
        self.conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", self._shard_key(shard_id))

    def close(self) -> None:
        """Closing the session releases every lock it holds."""
        self.conn.close()
