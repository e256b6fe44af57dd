"""Latest reading per sensor in Redis, never replaced by an older one (a compare-and-set in one Lua script)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from processor.config import RedisSettings
from processor.readings import Row, document_bytes

# Compare-and-set on the reading's time for many sensors in one call: KEYS[i] gets ARGV[2i-1] (time in
# microseconds) and ARGV[2i] (the reading) unless it holds a newer or equal time. An older reading never wins.
_SET_IF_NEWER = """
local updated = 0
for i, key in ipairs(KEYS) do
  local ts = ARGV[2 * i - 1]
  local current = redis.call('HGET', key, 'ts')
  if (not current) or tonumber(current) < tonumber(ts) then
    redis.call('HSET', key, 'ts', ts, 'reading', ARGV[2 * i])
    updated = updated + 1
  end
end
return updated
"""
# Sensors per script call: keeps each call short, so Redis serves readers in between.
_CHUNK = 500


def latest_key(sensor_id: str) -> str:
    return f"sensor:{sensor_id}:latest"


def _micros(ts: datetime) -> int:
    return int(ts.timestamp()) * 1_000_000 + ts.microsecond


def connect(settings: RedisSettings, timeout: float = 2.0) -> redis.Redis:
    """A client that fails fast: redis-py retries 3 times with up to 10 s backoff by default, which held /health
    past the load balancer's timeout and the consumer's updater past its round while Redis was down. Both callers
    handle a failure themselves (serve falls back to PostgreSQL, consume resynchronises Redis later)."""
    return redis.Redis(
        host=settings.host,
        port=settings.port,
        password=settings.auth_token,
        ssl=settings.tls,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 0),
    )


class LatestCache:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._script = client.register_script(_SET_IF_NEWER)

    def put_latest(self, readings: Iterable[tuple[str, datetime, bytes]]) -> int:
        """Set each (sensor, time, reading JSON) unless Redis holds a newer one; returns how many were set."""
        pipe = self.client.pipeline(transaction=False)
        keys: list[str] = []
        args: list[int | bytes] = []
        for sensor_id, ts, document in readings:
            keys.append(latest_key(sensor_id))
            args += (_micros(ts), document)
            if len(keys) == _CHUNK:
                self._script(keys=keys, args=args, client=pipe)
                keys, args = [], []
        if keys:
            self._script(keys=keys, args=args, client=pipe)
        return sum(pipe.execute()) if len(pipe) else 0

    def put_rows(self, rows: Iterable[Row]) -> int:
        return self.put_latest((row[0], row[1], document_bytes(row)) for row in rows)

    def get_latest(self, sensor_id: str) -> dict | None:
        document = self.client.hget(latest_key(sensor_id), "reading")
        return None if document is None else orjson.loads(document)
