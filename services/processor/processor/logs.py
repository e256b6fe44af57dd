"""Structured JSON logs and CloudWatch embedded-metric-format (EMF) records on stdout."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime

import orjson

from processor.contract import METRICS_NAMESPACE

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def emit_metrics(
    dimensions: dict[str, str], values: dict[str, tuple[float, str]], properties: dict[str, object] | None = None
) -> None:
    """Print one EMF record; CloudWatch Logs turns it into metrics without any API call. `properties` are kept in
    the log event only (searchable in Logs Insights), never metric dimensions."""
    doc: dict[str, object] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in values.items()],
                }
            ],
        },
        **(properties or {}),
        **dimensions,
        **{name: value for name, (value, _) in values.items()},
    }
    sys.stdout.write(orjson.dumps(doc).decode() + "\n")
    sys.stdout.flush()
