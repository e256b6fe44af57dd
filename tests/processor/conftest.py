"""Fixtures for the processor's tests: real PostgreSQL, Redis and moto (Kinesis) servers on loopback."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import psycopg
import pytest
import redis

from localaws.processes import ProcessorProcess, wait_until
from localaws.servers import MotoServer, PostgresServer, RedisServer, aws_environment, processor_environment


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def aws_env(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = aws_environment(moto.endpoint)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def kinesis(aws_env: dict[str, str]):
    return boto3.client("kinesis")


@pytest.fixture
def database(postgres: PostgresServer) -> str:
    name = f"iot_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    return name


@pytest.fixture
def db(postgres: PostgresServer, database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(**postgres.conninfo(database), autocommit=True) as conn:
        yield conn


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, password=redis_server.password)
    client.flushall()
    yield client
    client.close()


def create_stream(kinesis, shards: int = 1) -> str:
    name = f"readings-{uuid.uuid4().hex[:12]}"
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    wait_until(
        lambda: (
            kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
        ),
        10,
        message="stream ACTIVE",
    )
    return name


@pytest.fixture
def stream(kinesis) -> str:
    return create_stream(kinesis)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "efs"
    path.mkdir()
    return path


@pytest.fixture
def processor_env(
    aws_env: dict[str, str],
    postgres: PostgresServer,
    redis_server: RedisServer,
    database: str,
    stream: str,
    data_dir: Path,
) -> dict[str, str]:
    """The container contract's environment, pointing at the local servers, with quick timings for tests."""
    return {
        **processor_environment(
            aws_env,
            postgres,
            redis_server,
            database=database,
            stream=stream,
            data_dir=data_dir,
            heartbeat=data_dir.parent / "heartbeat",
        ),
        "BATCH_SIZE": "100",
        "IDLE_SLEEP_SECONDS": "0.1",
        "REBALANCE_SECONDS": "0.5",
        "MAX_BACKOFF_SECONDS": "0.5",
    }


@pytest.fixture
def start_processor(tmp_path: Path) -> Iterator:
    """Start `processor <command>` subprocesses; any still running at the end are killed."""
    started: list[ProcessorProcess] = []
    counter = itertools.count(1)

    def start(command: str, env: dict[str, str]) -> ProcessorProcess:
        proc = ProcessorProcess(command, env, tmp_path / f"{command}-{next(counter)}.log")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.process.poll() is None:
            proc.kill()
