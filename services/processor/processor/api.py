"""`serve`: the query API behind API Gateway's VPC link (health, latest reading, reading history)."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import redis
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field

from processor import cache as cache_module
from processor.config import ServerSettings
from processor.readings import InvalidReading, parse_timestamp, reading_document, validate_sensor_id

log = logging.getLogger("processor.serve")

MAX_PAGE = 1000
DEFAULT_PAGE = 100


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


def create_app(settings: ServerSettings) -> FastAPI:
    pool = ConnectionPool(
        kwargs={**settings.database.conninfo(), "autocommit": True},
        min_size=1,
        max_size=8,
        open=False,
        name="serve",
    )
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
            with pool.connection(timeout=2) as conn:
                conn.execute("SELECT 1")
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
            with pool.connection(timeout=2) as conn:
                conn.execute("SELECT 1")
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
        with pool.connection() as conn:
            row = conn.execute(
                """SELECT sensor_id, ts, temperature, humidity, extra FROM readings
                    WHERE sensor_id = %s ORDER BY ts DESC LIMIT 1""",
                (sensor_id,),
            ).fetchone()
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
        with pool.connection() as conn, conn.cursor() as cur:
            if cur.execute("SELECT 1 FROM readings WHERE sensor_id = %s LIMIT 1", (sensor_id,)).fetchone() is None:
                return JSONResponse({"error": f"sensor {sensor_id} has no readings"}, status_code=404)
            rows = cur.execute(
                """SELECT sensor_id, ts, temperature, humidity, extra FROM readings
                    WHERE sensor_id = %(sensor)s
                      AND (%(start)s::timestamptz IS NULL OR ts >= %(start)s)
                      AND (%(end)s::timestamptz IS NULL OR ts < %(end)s)
                      AND (%(after)s::timestamptz IS NULL OR ts > %(after)s)
                    ORDER BY ts LIMIT %(limit)s""",
                {"sensor": sensor_id, "start": start, "end": end, "after": after, "limit": limit + 1},
            ).fetchall()
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


__all__ = ["create_app", "run_server"]
