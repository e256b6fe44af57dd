"""Run the processor's commands as real child processes, as ECS would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path


class ProcessorProcess:
    """`python -m processor <command>` with the container contract's environment; output goes to a log file."""

    def __init__(self, command: str, env: Mapping[str, str], log_path: Path, python: str = sys.executable) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in wait()
        self.process = subprocess.Popen(
            [python, "-m", "processor", command],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as ECS stops a task; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> int:
        """SIGKILL: a crash, with no chance to finish anything."""
        self.process.kill()
        return self.wait(10)

    def wait(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout)
        finally:
            self._log.close()
        return code

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until(condition, timeout: float, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout}s (last value: {last!r})")
