"""Pass/fail scenarios: each is a function that returns what it proved (one line per proof) or raises naming what
failed; `play` runs one, times it and never lets one scenario's failure stop the next."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass


class ScenarioFailed(AssertionError):
    """A scenario's claim did not hold; the message says which and what was seen."""


def check(condition: object, message: str) -> None:
    """Fail the scenario with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ScenarioFailed(message)


@dataclass
class ScenarioResult:
    name: str
    passed: bool
    proofs: list[str]  # what the scenario established, or the failure
    seconds: float

    def __str__(self) -> str:
        head = f"{'PASS' if self.passed else 'FAIL'} {self.name} ({self.seconds:.1f}s)"
        return "\n".join([head, *(f"    {line}" for line in self.proofs)])


def play(name: str, scenario: Callable[[], list[str]]) -> ScenarioResult:
    """Run one scenario; an exception fails it with its message (and traceback when it is not a failed claim)."""
    started = time.monotonic()
    try:
        proofs = scenario()
    except ScenarioFailed as failure:
        return ScenarioResult(name, False, [str(failure)], time.monotonic() - started)
    except Exception as error:  # a scenario's own error fails that scenario only
        detail = "".join(traceback.format_exception(error)).strip().splitlines()[-12:]
        return ScenarioResult(name, False, [f"{type(error).__name__}: {error}", *detail], time.monotonic() - started)
    return ScenarioResult(name, True, proofs, time.monotonic() - started)


def summary(results: list[ScenarioResult]) -> tuple[int, int]:
    passed = sum(1 for r in results if r.passed)
    return passed, len(results) - passed
