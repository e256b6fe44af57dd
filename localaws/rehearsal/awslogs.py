"""ECS's awslogs log driver, played for local processes: each line a container prints becomes a log event in the group
its container definition's `logConfiguration` names, in stream `<prefix>/<container>/<task id>`."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any


class AwsLogs:
    """Follows the output files of local containers and sends their new lines to CloudWatch Logs every half second."""

    def __init__(self, logs_client: Any) -> None:
        self.logs = logs_client
        self.streams: list[tuple[Path, str, str, int]] = []  # file, group, stream, bytes already sent
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="awslogs", daemon=True)

    def follow(self, path: Path, container: dict[str, Any], task_arn: str) -> None:
        options = container.get("logConfiguration", {}).get("options", {})
        if "awslogs-group" not in options:
            return
        group = options["awslogs-group"]
        stream = f"{options.get('awslogs-stream-prefix', 'ecs')}/{container['name']}/{task_arn.rsplit('/', 1)[-1]}"
        self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        with self._lock:
            self.streams.append((path, group, stream, 0))
        if not self._thread.is_alive():
            self._thread.start()

    def _send_new_lines(self) -> None:
        with self._lock:
            for index, (path, group, stream, sent) in enumerate(self.streams):
                data = path.read_bytes()[sent:] if path.exists() else b""
                complete = data[: data.rfind(b"\n") + 1]
                lines = [line for line in complete.decode(errors="replace").splitlines() if line.strip()]
                if lines:
                    now = int(time.time() * 1000)
                    events = [{"timestamp": now, "message": line} for line in lines]
                    for start in range(0, len(events), 1000):
                        self.logs.put_log_events(
                            logGroupName=group, logStreamName=stream, logEvents=events[start : start + 1000]
                        )
                self.streams[index] = (path, group, stream, sent + len(complete))

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._send_new_lines()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._send_new_lines()
