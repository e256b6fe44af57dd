"""Schema migrations under concurrent start-up, and configuration errors that name the variable."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from processor.config import ConfigError, ConsumerSettings
from processor.migrations import MIGRATIONS, apply_migrations


def test_migrations_apply_once_when_many_tasks_start_together(postgres, database):
    def migrate() -> list[int]:
        with psycopg.connect(**postgres.conninfo(database), autocommit=True) as conn:
            return apply_migrations(conn)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: migrate(), range(8)))
    assert sorted(v for applied in results for v in applied) == [v for v, _, _ in MIGRATIONS]
    with psycopg.connect(**postgres.conninfo(database)) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"STREAM_NAME": ""}, "environment variable STREAM_NAME is required but not set"),
        ({"DB_PORT": "five"}, "environment variable DB_PORT must be an integer, got 'five'"),
        ({"REDIS_PORT": "70000"}, "environment variable REDIS_PORT must be between 1 and 65535, got 70000"),
        ({"REDIS_TLS": "maybe"}, "environment variable REDIS_TLS must be true or false, got 'maybe'"),
        ({"DB_SSLMODE": "sometimes"}, "environment variable DB_SSLMODE must be one of"),
        ({"BATCH_SIZE": "20000"}, "environment variable BATCH_SIZE must be between 1 and 10000"),
        ({"IDLE_SLEEP_SECONDS": "soon"}, "environment variable IDLE_SLEEP_SECONDS must be a number"),
    ],
)
def test_bad_configuration_names_the_variable(processor_env, change, message):
    with pytest.raises(ConfigError, match=message):
        ConsumerSettings.from_env({**processor_env, **change})


def test_cli_reports_bad_configuration_in_one_line_and_exits_2(processor_env):
    env = {k: v for k, v in processor_env.items() if k != "DB_HOST"}
    result = subprocess.run(
        [sys.executable, "-m", "processor", "consume"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr == (
        "processor consume: invalid configuration: environment variable DB_HOST is required but not set\n"
    )
