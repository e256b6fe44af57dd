"""Credential rotation while readings flow: neither process restarts, nothing is lost or doubled, serve never fails.

The application secret is rotated twice with Secrets Manager's alternating-users scheme (localaws/rotation.py),
so the password both processes started with stops working; after each rotation every session of the application
users is terminated, so both processes must open new connections with credentials they no longer hold.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import psycopg
import pytest

from localaws.processes import wait_until
from localaws.rotation import rotate_multi_user
from localaws.servers import free_port, wait_for_port
from processor.config import ConfigError, ConsumerSettings, ServerSettings
from tests.processor.helpers import (
    dead_letters,
    errors_logged,
    metric_values,
    put_readings,
    reading,
    stored_count,
    stored_keys,
)


def terminate_app_sessions(admin: psycopg.Connection, role: str) -> int:
    """pg_terminate_backend every session of <role> and <role>_clone; returns how many were terminated."""
    rows = admin.execute(
        """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE usename IN (%s, %s) AND pid <> pg_backend_pid()""",
        (role, f"{role}_clone"),
    ).fetchall()
    return sum(1 for (ok,) in rows if ok)


def test_rotation_while_readings_flow(
    kinesis, stream, app_database, secret_env, setup_env, secretsmanager, data_dir, start_processor
):
    setup = start_processor("db-setup", setup_env)
    assert setup.wait(60) == 0, setup.output()
    consumer = start_processor("consume", secret_env)
    port = free_port()
    server = start_processor("serve", {**secret_env, "PORT": str(port)})
    wait_for_port(port, process=server.process)
    pids = (consumer.process.pid, server.process.pid)
    base = f"http://127.0.0.1:{port}"

    produced: list[dict] = []
    answers: list[int] = []
    stop = threading.Event()

    def produce() -> None:
        second = 0
        while not stop.is_set() and second < 3000:
            docs = [reading(f"sensor-{s:02d}", second) for s in range(20)]
            put_readings(kinesis, stream, docs)
            produced.extend(docs)
            second += 1
            time.sleep(0.05)

    def poll() -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            while not stop.is_set() and len(answers) < 20_000:
                for path in ("/sensors/sensor-00/readings?limit=1", "/health/live"):
                    answers.append(client.get(path).status_code)
                time.sleep(0.02)

    threads = [threading.Thread(target=produce), threading.Thread(target=poll)]
    threads[0].start()
    try:
        with app_database.admin() as admin:
            wait_until(lambda: stored_count(admin) > 0, 60, message="readings flowing")
            threads[1].start()
            wait_until(lambda: len(answers) > 10, 30, message="serve answering")
            for rotation in (1, 2):
                rotate_multi_user(secretsmanager, app_database.app_arn, admin)
                assert terminate_app_sessions(admin, app_database.role) >= 2  # consume's and serve's sessions
                before = stored_count(admin)
                wait_until(lambda b=before: stored_count(admin) > b, 60, message=f"progress after rotation {rotation}")
        # The password both processes started with no longer works.
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            original = {"user": app_database.role, "password": app_database.app_secret["password"]}
            psycopg.connect(**{**app_database.server.conninfo(app_database.name), **original}).close()
        time.sleep(1.0)  # keep polling serve after the last rotation
    finally:
        stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(60)

    with app_database.admin() as admin:
        wait_until(lambda: stored_count(admin) == len(produced), 120, message="every reading stored")
        assert [(s, t.isoformat().replace("+00:00", "Z")) for s, t in stored_keys(admin)] == sorted(
            (d["sensorId"], d["timestamp"]) for d in produced
        )
    assert len(answers) > 50 and set(answers) == {200}, sorted(set(answers))
    assert not dead_letters(data_dir)
    assert (consumer.process.pid, server.process.pid) == pids
    assert consumer.process.poll() is None and server.process.poll() is None, "a process was restarted or died"
    assert "database credentials re-read after an authentication failure" in consumer.output()
    assert "database credentials re-read after an authentication failure" in server.output()
    assert errors_logged(consumer.output()) == errors_logged(server.output()) == []
    assert consumer.terminate() == 0
    assert server.terminate() == 0


def test_credentials_that_stay_wrong_are_an_error_naming_the_secret_and_a_metric(
    app_database, secret_env, setup_env, secretsmanager, start_processor
):
    setup = start_processor("db-setup", setup_env)
    assert setup.wait(60) == 0
    broken = {**app_database.app_secret, "password": "rotated-away"}
    secretsmanager.put_secret_value(SecretId=app_database.app_arn, SecretString=json.dumps(broken))
    consumer = start_processor("consume", secret_env)
    wait_until(lambda: "DatabaseAuthFailures" in consumer.output(), 60, message="auth failure metric")
    assert consumer.terminate() == 0
    errors = errors_logged(consumer.output())
    assert errors and errors[0]["message"] == f"PostgreSQL rejects the credentials of secret {app_database.app_arn}"
    metric = metric_values(consumer.output(), "DatabaseAuthFailures")[0]
    assert metric["Service"] == "consume" and metric["DatabaseAuthFailures"] == 1
    assert metric["StreamName"] == secret_env["STREAM_NAME"]  # one deployment's, where several share an account
    assert metric["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "DatabaseAuthFailures", "Unit": "Count"}]
    assert metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["StreamName", "Service"]]


@pytest.mark.parametrize("settings", [ConsumerSettings, ServerSettings])
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x", "DB_USER": "u", "DB_PASSWORD": "p"},
            "set either DB_SECRET_ARN (the rotating secret) or DB_USER + DB_PASSWORD (static credentials, local "
            "runs), not both",
        ),
        (
            {"DB_SECRET_ARN": "", "DB_USER": "", "DB_PASSWORD": ""},
            "database credentials are not configured: set DB_SECRET_ARN (the rotating secret) or DB_USER + "
            "DB_PASSWORD (static credentials, local runs)",
        ),
        (
            {"DB_SECRET_ARN": "", "DB_USER": "u", "DB_PASSWORD": ""},
            "environment variable DB_PASSWORD is required with static credentials but not set",
        ),
        (
            {"DB_SECRET_ARN": "", "DB_USER": "", "DB_PASSWORD": "p"},
            "environment variable DB_USER is required with static credentials but not set",
        ),
        (
            {"DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x", "AWS_REGION": ""},
            "environment variable AWS_REGION is required but not set",
        ),
    ],
)
def test_exactly_one_credential_mode(processor_env, settings, change, message):
    env = {k: v for k, v in processor_env.items() if k not in ("DB_USER", "DB_PASSWORD")}
    with pytest.raises(ConfigError) as caught:
        settings.from_env({**env, **change})
    assert str(caught.value) == message


def test_secret_mode_reads_no_static_credentials(secret_env):
    settings = ServerSettings.from_env(secret_env)
    assert settings.database.secret_arn == secret_env["DB_SECRET_ARN"]
    assert settings.database.user is None and settings.database.password is None
