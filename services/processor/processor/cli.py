"""Command line: `processor consume | serve | db-setup | healthcheck` (the names live in `processor.contract`)."""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from pathlib import Path

from processor import contract as c
from processor.config import ConfigError, ConsumerSettings, DbSetupSettings, ServerSettings
from processor.logs import configure_logging

# The consumer touches this file after every loop; the container health check reads its age.
HEARTBEAT = Path(os.environ.get(c.HEARTBEAT_FILE, "/tmp/processor-consume.heartbeat"))  # noqa: S108
HEARTBEAT_MAX_AGE_SECONDS = 120


def healthcheck() -> int:
    """Healthy when `serve` answers /health/live with 200, or when `consume` has looped (or backed off) recently."""
    if HEARTBEAT.exists():
        return 0 if time.time() - HEARTBEAT.stat().st_mtime < HEARTBEAT_MAX_AGE_SECONDS else 1
    port = os.environ.get(c.PORT, str(c.DEFAULT_PORT))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


def db_setup() -> int:
    import psycopg

    from processor.setup import db_setup as run

    settings = DbSetupSettings.from_env()
    try:
        run(settings)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        print(f"processor {c.DB_SETUP}: failed: {reason}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="processor", description=__doc__)
    parser.add_argument("command", choices=c.COMMANDS)
    args = parser.parse_args(argv)
    configure_logging(os.environ.get(c.LOG_LEVEL, "INFO").upper())
    try:
        if args.command == c.CONSUME:
            from processor.consumer import run_consumer

            return run_consumer(ConsumerSettings.from_env(), HEARTBEAT)
        if args.command == c.SERVE:
            from processor.api import run_server

            return run_server(ServerSettings.from_env())
        if args.command == c.DB_SETUP:
            return db_setup()
        return healthcheck()
    except ConfigError as exc:
        print(f"processor {args.command}: invalid configuration: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
