"""Fixtures for the processor's tests: real PostgreSQL, Redis and moto (Kinesis) servers on loopback."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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


MASTER_PASSWORD = "local-master-password"


@pytest.fixture(scope="session")
def scram_postgres() -> Iterator[PostgresServer]:
    """PostgreSQL with password authentication (scram-sha-256), as RDS has: the superuser is the 'master'."""
    server = PostgresServer(password=MASTER_PASSWORD)
    server.start()
    yield server
    server.close()


@pytest.fixture
def secretsmanager(aws_env: dict[str, str]):
    return boto3.client("secretsmanager")


@dataclass
class AppDatabase:
    """A database on the scram cluster with the platform's two secrets in (moto's) Secrets Manager."""

    server: PostgresServer
    name: str
    role: str
    admin_secret: dict
    app_secret: dict
    admin_arn: str
    app_arn: str

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(**self.server.conninfo(self.name), autocommit=True)


@pytest.fixture
def app_database(scram_postgres: PostgresServer, secretsmanager) -> AppDatabase:
    suffix = uuid.uuid4().hex[:10]
    name, role = f"iot_{suffix}", f"iot_app_{suffix}"
    scram_postgres.create_database(name)
    common = {"engine": "postgres", "host": "127.0.0.1", "port": scram_postgres.port, "dbname": name}
    admin = {**common, "username": "postgres", "password": MASTER_PASSWORD}
    admin_arn = secretsmanager.create_secret(Name=f"master-{suffix}", SecretString=json.dumps(admin))["ARN"]
    app = {**common, "username": role, "password": f"first-{uuid.uuid4().hex}", "masterarn": admin_arn}
    app_arn = secretsmanager.create_secret(Name=f"app-{suffix}", SecretString=json.dumps(app))["ARN"]
    return AppDatabase(scram_postgres, name, role, admin, app, admin_arn, app_arn)


@pytest.fixture
def secret_env(processor_env: dict[str, str], app_database: AppDatabase) -> dict[str, str]:
    """The production credential mode: DB_SECRET_ARN, no DB_USER/DB_PASSWORD."""
    env = {k: v for k, v in processor_env.items() if k not in ("DB_USER", "DB_PASSWORD")}
    return {
        **env,
        "DB_PORT": str(app_database.server.port),
        "DB_NAME": app_database.name,
        "DB_SECRET_ARN": app_database.app_arn,
    }


@pytest.fixture
def setup_env(secret_env: dict[str, str], app_database: AppDatabase) -> dict[str, str]:
    """What ECS gives the db-setup init container: both secrets' whole JSON."""
    env = {k: v for k, v in secret_env.items() if k != "DB_SECRET_ARN"}
    return {
        **env,
        "DB_ADMIN_SECRET": json.dumps(app_database.admin_secret),
        "DB_APP_SECRET": json.dumps(app_database.app_secret),
    }
