"""`serve`: the query API behind API Gateway's VPC link (health, latest reading, reading history)."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

import psycopg
import redis
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout
from pydantic import BaseModel, ConfigDict, Field

from processor import cache as cache_module
from processor.config import ServerSettings
from processor.db import Credentials
from processor.readings import InvalidReading, parse_timestamp, reading_document, validate_sensor_id

log = logging.getLogger("processor.serve")
T = TypeVar("T")

MAX_PAGE = 1000
DEFAULT_PAGE = 100
STATEMENT_TIMEOUT_MS = 10_000
POOL_MAX_SIZE = 8


class Reading(BaseModel):
    model_config = ConfigDict(extra="allow")
    sensorId: str
    timestamp: str
    temperature: float
    humidity: float


class ReadingPage(BaseModel):
    sensorId: str
    readings: list[Reading]
    nextCursor: str | None = Field(description="pass as `cursor` to get the next page; null on the last page")


class Health(BaseModel):
    status: str
    postgres: str
    redis: str


class ApiError(BaseModel):
    error: str


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _encode_cursor(ts: datetime) -> str:
    return base64.urlsafe_b64encode(ts.isoformat().encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> datetime:
    try:
        return datetime.fromisoformat(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("cursor is not one this API returned") from None


def readings_query(start: datetime | None, end: datetime | None, after: datetime | None) -> sql.Composed:
    """Only the predicates that apply: `(%s IS NULL OR ts >= %s)` would lose the index range once psycopg prepares
    the statement and PostgreSQL switches to a generic plan (it cannot know the parameter is not NULL)."""
    predicates = [sql.SQL("sensor_id = %(sensor)s")]
    if start is not None:
        predicates.append(sql.SQL("ts >= %(start)s"))
    if end is not None:
        predicates.append(sql.SQL("ts < %(end)s"))
    if after is not None:
        predicates.append(sql.SQL("ts > %(after)s"))
    return sql.SQL(
        "SELECT sensor_id, ts, temperature, humidity, extra FROM readings WHERE {} ORDER BY ts LIMIT %(limit)s"
    ).format(sql.SQL(" AND ").join(predicates))


def create_app(settings: ServerSettings, credentials: Credentials | None = None) -> FastAPI:
    credentials = credentials or Credentials(settings.database, "serve", settings.stream_name)
    # Every new connection is opened with the credentials in force (kwargs is resolved per connection) and retried
    # with the secret re-read if they were rotated away; connections live at most max_lifetime (1 hour).
    pool = ConnectionPool(
        kwargs=lambda: {**credentials.kwargs(STATEMENT_TIMEOUT_MS), "autocommit": True},
        connection_class=credentials.pool_connection_class(),
        min_size=1,
        max_size=POOL_MAX_SIZE,
        timeout=settings.pool_timeout_seconds,
        open=False,
        name="serve",
    )

    def read(query: Callable[[psycopg.Connection], T], timeout: float | None = None) -> T:
        """Run a read-only query, again on another connection while PostgreSQL turns out to have closed the one
        used (a failover, or sessions terminated after a credential rotation): every endpoint only reads, so a
        retry is safe, and a client never sees a connection the server has just dropped. The pool discards each
        closed connection it gets back, so this ends after at most POOL_MAX_SIZE retries. (psycopg_pool's own
        `check` would do the same but sleeps 1, 2, 4 s... between dead connections: several of them time out.)"""
        for attempt in range(POOL_MAX_SIZE + 1):
            conn = None
            try:
                with pool.connection(timeout=timeout) as conn:
                    return query(conn)
            except psycopg.OperationalError:
                if attempt == POOL_MAX_SIZE or conn is None or not conn.closed:
                    raise
                log.info("PostgreSQL closed a pooled connection; retrying the read on another one")
        raise AssertionError("unreachable")

    redis_client = cache_module.connect(settings.redis, timeout=0.5)
    latest_cache = cache_module.LatestCache(redis_client)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool.open(wait=False)
        yield
        pool.close()
        redis_client.close()

    app = FastAPI(
        title="IoT sensor query API",
        version="1.0.0",
        description="Latest and historical sensor readings; served behind API Gateway (IAM auth) through a VPC link.",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or err['loc'][0]}: {err['msg']}" for err in exc.errors()
        )
        return JSONResponse({"error": problems}, status_code=400)

    @app.exception_handler(BadRequest)
    async def bad_request(_request: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=400)

    @app.exception_handler(PoolTimeout)
    async def pool_timeout(_request: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("no database connection available in time", extra={"error": str(exc)})
        return JSONResponse(
            {"error": "the database is busy or unavailable; retry shortly"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(psycopg.OperationalError)
    async def database_unavailable(_request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        log.warning("database unavailable", extra={"error": str(exc)})
        return JSONResponse(
            {"error": "the database is unavailable; retry shortly"}, status_code=503, headers={"Retry-After": "1"}
        )

    def sensor(sensor_id: str) -> str:
        try:
            return validate_sensor_id(sensor_id)
        except InvalidReading as exc:
            raise BadRequest(str(exc)) from None

    def time_param(value: str | None, name: str) -> datetime | None:
        if value is None:
            return None
        try:
            return parse_timestamp(value, name)
        except InvalidReading as exc:
            raise BadRequest(str(exc)) from None

    @app.get("/health", response_model=Health, responses={503: {"model": Health}})
    def health() -> JSONResponse:
        status = {"postgres": "ok", "redis": "ok"}
        try:
            read(lambda conn: conn.execute("SELECT 1"), timeout=2)
        except Exception as exc:  # any failure means "not healthy"; the reason goes to the log
            log.warning("health: PostgreSQL unavailable", extra={"error": str(exc)})
            status["postgres"] = "unavailable"
        try:
            redis_client.ping()
        except redis.RedisError as exc:
            log.warning("health: Redis unavailable", extra={"error": str(exc)})
            status["redis"] = "unavailable"
        healthy = all(v == "ok" for v in status.values())
        return JSONResponse({"status": "ok" if healthy else "unavailable", **status}, 200 if healthy else 503)

    @app.get("/health/live", response_model=Health, responses={503: {"model": Health}})
    def live() -> JSONResponse:
        """Liveness for the load balancer and ECS: the process serves and PostgreSQL answers. Redis being down
        does not count (reads fall back to PostgreSQL), so a Redis outage never drains or restarts `serve`."""
        try:
            read(lambda conn: conn.execute("SELECT 1"), timeout=2)
        except Exception as exc:  # any failure means "not live"; the reason goes to the log
            log.warning("liveness: PostgreSQL unavailable", extra={"error": str(exc)})
            return JSONResponse({"status": "unavailable", "postgres": "unavailable", "redis": "unchecked"}, 503)
        return JSONResponse({"status": "ok", "postgres": "ok", "redis": "unchecked"}, 200)

    @app.get(
        "/sensors/{sensor_id}/latest",
        response_model=Reading,
        responses={400: {"model": ApiError}, 404: {"model": ApiError}},
    )
    def latest(sensor_id: Annotated[str, Path(max_length=256)]) -> Any:
        sensor_id = sensor(sensor_id)
        try:
            cached = latest_cache.get_latest(sensor_id)
        except redis.RedisError as exc:
            log.warning("Redis unavailable; reading from PostgreSQL", extra={"error": str(exc)})
            cached = None
        if cached is not None:
            return cached
        row = read(
            lambda conn: conn.execute(
                """SELECT sensor_id, ts, temperature, humidity, extra FROM readings
                    WHERE sensor_id = %s ORDER BY ts DESC LIMIT 1""",
                (sensor_id,),
            ).fetchone()
        )
        if row is None:
            return JSONResponse({"error": f"sensor {sensor_id} has no readings"}, status_code=404)
        return reading_document(*row)

    @app.get(
        "/sensors/{sensor_id}/readings",
        response_model=ReadingPage,
        responses={400: {"model": ApiError}, 404: {"model": ApiError}},
    )
    def readings(
        sensor_id: Annotated[str, Path(max_length=256)],
        from_: Annotated[str | None, Query(alias="from", description="RFC 3339, inclusive")] = None,
        to: Annotated[str | None, Query(description="RFC 3339, exclusive")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        cursor: Annotated[str | None, Query(max_length=128)] = None,
    ) -> Any:
        sensor_id = sensor(sensor_id)
        start, end = time_param(from_, "from"), time_param(to, "to")
        if start and end and start >= end:
            raise BadRequest("from must be earlier than to")
        after = _decode_cursor(cursor) if cursor else None

        def query(conn: psycopg.Connection) -> list[tuple[Any, ...]] | None:
            with conn.cursor() as cur:
                if cur.execute("SELECT 1 FROM readings WHERE sensor_id = %s LIMIT 1", (sensor_id,)).fetchone() is None:
                    return None
                return cur.execute(
                    readings_query(start, end, after),
                    {"sensor": sensor_id, "start": start, "end": end, "after": after, "limit": limit + 1},
                ).fetchall()

        rows = read(query)
        if rows is None:
            return JSONResponse({"error": f"sensor {sensor_id} has no readings"}, status_code=404)
        page = rows[:limit]
        next_cursor = _encode_cursor(page[-1][1]) if len(rows) > limit else None
        return {"sensorId": sensor_id, "readings": [reading_document(*r) for r in page], "nextCursor": next_cursor}

    return app


def run_server(settings: ServerSettings) -> int:
    import signal

    import uvicorn

    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal to the handler it found installed;
    # a no-op handler there makes a requested stop exit 0 instead of "killed by SIGTERM".
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.port, log_config=None, access_log=False)  # noqa: S104 - behind the NLB in a private subnet
    return 0


__all__ = ["create_app", "readings_query", "run_server"]
