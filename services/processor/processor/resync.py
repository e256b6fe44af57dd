"""Rebuilds Redis's latest readings from PostgreSQL after Redis missed updates, off the consumer's main thread.

With millions of sensors a resynchronisation takes minutes; on the main thread it starved the heartbeat (ECS would
replace a healthy task) and stalled consumption. Here a thread with its own PostgreSQL connection does it while
consumption goes on. Correctness does not depend on order, because Redis's compare-and-set keeps the newer reading:
the thread clears the updater's `stale` flag BEFORE its snapshot starts, so every batch committed before the
snapshot is in it, and every batch committed after it is pushed by the updater again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from processor.batch import CacheUpdater
from processor.cache import LatestCache
from processor.store import LATEST_PER_SENSOR_SQL

log = logging.getLogger("processor.consume")


class CacheResync:
    def __init__(
        self,
        cache: LatestCache,
        updater: CacheUpdater,
        connect: Callable[[], psycopg.Connection],
        retry_seconds: float,
        stopping: threading.Event,
    ) -> None:
        self.cache = cache
        self.updater = updater
        self.connect = connect
        self.retry_seconds = retry_seconds
        self.stopping = stopping
        self.completed = 0
        self._thread = threading.Thread(target=self._run, name="redis-resync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            if not self.updater.stale.wait(timeout=0.5):
                continue
            try:
                count = self.resync()
            except Exception as exc:  # Redis or PostgreSQL down, or anything else: stay stale, try again later
                self.updater.stale.set()
                log.warning("Redis resynchronisation failed; retrying", extra={"error": str(exc)})
                self.stopping.wait(self.retry_seconds)
                continue
            self.completed += 1
            log.info("Redis resynchronised from PostgreSQL", extra={"sensors": count})

    def resync(self) -> int:
        """Push every sensor's latest reading from PostgreSQL; the compare-and-set keeps newer values."""
        self.cache.client.ping()
        self.updater.stale.clear()  # from here on the updater pushes again; the snapshot below covers the rest
        count = 0
        with self.connect() as conn, conn.transaction(), conn.cursor(name="resync") as cur:
            cur.execute(LATEST_PER_SENSOR_SQL)
            while rows := cur.fetchmany(1000):
                if self.stopping.is_set():
                    break
                self.cache.put_rows(rows)
                count += len(rows)
        if self.updater.stale.is_set():
            raise RuntimeError("Redis failed again during the resynchronisation")
        return count
