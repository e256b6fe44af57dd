"""Shard ownership through PostgreSQL session advisory locks, per stream, with prompt hand-offs.

Each consumer task holds one dedicated connection. A lock on a shard means "this task reads it"; when a task dies
its session ends and PostgreSQL releases its locks (keepalives on that connection, see `processor.db`, make
PostgreSQL notice a lost host in about 25 s instead of about 2 hours). Tasks also hold one "consumer slot" lock each
per stream, which lets every task count the live tasks of ITS stream (two streams may share a database) and take
a fair share of the shards.

Lock keys are 63-bit hashes of (kind, stream, item): PostgreSQL's 32-bit `hashtext` made two shards' locks collide
often enough to leave a shard unread for good. A task that takes, gives up or leaves shards sends a NOTIFY on
`CHANNEL`, so the others rebalance at once instead of at their next rebalance interval (deploys hand shards over
in about a second).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import psycopg

MAX_CONSUMERS = 1024
CHANNEL = "iot_processor_leases"


def lock_key(kind: str, stream_name: str, item: str) -> int:
    """A stable, non-negative 63-bit advisory-lock key (non-negative keeps pg_locks' two halves easy to join)."""
    digest = hashlib.blake2b(f"iot-processor/{kind}/{stream_name}/{item}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class ShardLeases:
    def __init__(self, connect: Callable[[], psycopg.Connection], stream_name: str) -> None:
        self.conn = connect()
        self.stream_name = stream_name
        self._slot_keys = [lock_key("consumer", stream_name, str(slot)) for slot in range(MAX_CONSUMERS)]
        self.backend_pid = self.conn.info.backend_pid
        self.conn.execute(f"LISTEN {CHANNEL}")
        self.slot = self._register()
        self.notify()  # a newcomer wants its share now

    def _register(self) -> int:
        for slot, key in enumerate(self._slot_keys):
            if self._try_lock(key):
                return slot
        raise RuntimeError(f"more than {MAX_CONSUMERS} consumers are registered for stream {self.stream_name}")

    def _try_lock(self, key: int) -> bool:
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        return bool(row and row[0])

    def _held(self, keys: list[int]) -> int:
        row = self.conn.execute(
            """SELECT count(*) FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND objsubid = 1
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND ((classid::bigint << 32) | objid::bigint) = ANY(%s)""",
            (keys,),
        ).fetchone()
        return int(row[0]) if row else 0

    def live_consumers(self) -> int:
        """Tasks consuming this stream now (this one included)."""
        return max(1, self._held(self._slot_keys))

    def try_acquire(self, shard_id: str) -> bool:
        return self._try_lock(lock_key("shard", self.stream_name, shard_id))

    def release(self, shard_id: str) -> None:
        self.conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key("shard", self.stream_name, shard_id),))

    def notify(self) -> None:
        self.conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.stream_name))

    def handoff_requested(self) -> bool:
        """True when another task of this stream announced a change; raises if the lease session is gone (so a
        task whose lease connection was terminated notices on its next loop turn, not at its next rebalance)."""
        requested = False
        for note in self.conn.notifies(timeout=0):
            if note.payload == self.stream_name and note.pid != self.backend_pid:
                requested = True
        return requested

    def leave(self) -> None:
        """Give up the slot and every shard, tell the others, and close: a graceful hand-off."""
        self.conn.execute("SELECT pg_advisory_unlock_all()")
        self.notify()
        self.conn.close()

    def close(self) -> None:
        """Closing the session releases every lock it holds."""
        self.conn.close()
