"""Real servers on loopback for tests, benchmarks and the local rehearsal: PostgreSQL, Redis and moto.

Each server gets a free port on 127.0.0.1 and is stopped by the process that started it. PostgreSQL refuses
to run as root, so when we are root (as CI is) its commands run as the `postgres` system user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {LOOPBACK}:{port} within {timeout}s")


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: run `make system-packages`")
    return Path(found[-1]).parent


class PostgresServer:
    """A throw-away PostgreSQL cluster (loopback only): trust auth, or scram-sha-256 when `password` is given (the
    superuser `postgres` then logs in with it, as the RDS master user does, and every other role needs its own)."""

    def __init__(self, durable: bool = False, password: str | None = None) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.durable = durable
        self.password = password
        # Not under pytest's 0700 tmp dirs: the postgres user must be able to reach it.
        self.base = Path(tempfile.mkdtemp(prefix="iot-pg-"))
        self.datadir = self.base / "data"
        self.logfile = self.base / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.base, "postgres", "postgres")
        auth = ["--auth=trust"]
        if password is not None:
            pwfile = self.base / "pwfile"
            pwfile.write_text(password + "\n")
            if self._as_postgres:
                shutil.chown(pwfile, "postgres", "postgres")
            auth = ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", *auth, "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses={LOOPBACK} -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop("fast")
        self.start()

    def conninfo(self, dbname: str = "postgres") -> dict[str, str | int]:
        info: dict[str, str | int] = {"host": LOOPBACK, "port": self.port, "user": "postgres", "dbname": dbname}
        if self.password is not None:
            info["password"] = self.password
        return info

    def create_database(self, name: str) -> None:
        with psycopg.connect(**self.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


class RedisServer:
    """A throw-away Redis with AUTH on, persistence off."""

    def __init__(self, password: str = "local-auth-token") -> None:
        self.port = free_port()
        self.password = password
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--requirepass",
                self.password,
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    close = stop


class MotoServer:
    """moto in server mode (a separate process, the AWS endpoint for every client): localaws.moto_server."""

    def __init__(self, log_path: Path | None = None) -> None:
        self.port = free_port()
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = log_path  # the server's output (requests, warnings, tracebacks); discarded when None

    def start(self) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "localaws.moto_server", "-H", LOOPBACK, "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT if self.log_path else subprocess.DEVNULL,
            )
        finally:
            if self.log_path:
                log.close()  # the child holds its own descriptor
        wait_for_port(self.port, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    close = stop


def aws_environment(endpoint: str, region: str = "us-east-1") -> dict[str, str]:
    """Credentials and endpoint for the emulator, through the standard variables boto3 reads."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": endpoint,
    }


def processor_environment(
    aws: dict[str, str],
    postgres: PostgresServer,
    redis_server: RedisServer,
    *,
    database: str,
    stream: str,
    data_dir: Path,
    heartbeat: Path,
) -> dict[str, str]:
    """The container contract's environment for `processor`, pointing at these local servers (no TLS here)."""
    return {
        **aws,
        "STREAM_NAME": stream,
        "DB_HOST": LOOPBACK,
        "DB_PORT": str(postgres.port),
        "DB_NAME": database,
        "DB_USER": "postgres",
        "DB_PASSWORD": "unused-with-trust-auth",
        "DB_SSLMODE": "disable",
        "REDIS_HOST": LOOPBACK,
        "REDIS_PORT": str(redis_server.port),
        "REDIS_TLS": "false",
        "REDIS_AUTH_TOKEN": redis_server.password,
        "DATA_DIR": str(data_dir),
        "HEARTBEAT_FILE": str(heartbeat),
    }
