"""What every pre-flight check shares: its result type, the cdk.json key it names, and small helpers for AWS answers.

Kept apart from the checks so that each group of checks (`preflight.postgres`, `preflight.checks`) is a small module
that imports only this one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from platform_config import EnvironmentSettings

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: PASS, FAIL (with what to change) or SKIP (an earlier failure decides)."""

    name: str
    status: str
    message: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL


def setting(env: EnvironmentSettings, key: str) -> str:
    """The dotted cdk.json key of ``key`` in ``env``: environments.<name>.<key>."""
    return f"environments.{env.name}.{key}"


def pages(client: Any, operation: str, result_key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated describe call."""
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(result_key, []))
    return items


def version_key(version: str) -> tuple[int, ...]:
    """A version as numbers for ordering: "15.10" sorts after "15.9", and the major alone "15" before "15.0"."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def listing(values: Iterable[str], limit: int = 8) -> str:
    """The first ``limit`` values, comma-separated, and how many more there are."""
    ordered = list(values)
    shown = ", ".join(ordered[:limit])
    return shown + (f" (and {len(ordered) - limit} more)" if len(ordered) > limit else "")


def refused(name: str, error: ClientError) -> CheckResult:
    """A check whose describe call the account refused: one sentence naming the call and the role to fix."""
    err = error.response["Error"]
    return CheckResult(
        name,
        FAIL,
        f"{error.operation_name} was refused ({err.get('Code')}: {err.get('Message', '').rstrip('.')}); give the "
        "pre-flight role read access to it (the CDK bootstrap lookup role has it).",
    )


def guarded(name: str, call: Callable[[], CheckResult]) -> CheckResult:
    """Run one check; a refused call becomes its FAIL result instead of stopping the others."""
    try:
        return call()
    except ClientError as error:
        return refused(name, error)
