"""The constraints a configuration value can carry, written beside the field they guard (`settings.py`).

Each rule is a pydantic validator that raises `Problem`, whose text completes the sentence "<dotted key> ..." of the
one-line error the loader reports, e.g. ``between(1, 100)`` gives "environments.dev.stream.shard_count must be between
1 and 100, got 0.".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import AfterValidator, BeforeValidator

_UNSET: Any = object()


class Problem(ValueError):
    """A value breaks a rule. ``message`` completes "<key> ...", ``key`` is appended to the key of the model or field
    that raised it (for rules that span fields), and ``got`` is the offending value (omitted from the sentence when
    unset)."""

    def __init__(self, message: str, *, got: Any = _UNSET, key: str = "") -> None:
        super().__init__(message)
        self.message, self.got, self.key = message, got, key

    @property
    def has_value(self) -> bool:
        return self.got is not _UNSET


def rule(check: Callable[[Any], str | None]) -> AfterValidator:
    """A validator from ``check(value)``, which returns what the value must be (a Problem's message) or None."""

    def validate(value: Any) -> Any:
        message = check(value)
        if message is not None:
            raise Problem(message, got=value)
        return value

    return AfterValidator(validate)


def between(low: int, high: int) -> AfterValidator:
    return rule(lambda v: None if low <= v <= high else f"must be between {low} and {high}")


def one_of(*choices: str | int) -> AfterValidator:
    listed = ", ".join(map(str, choices))
    return rule(lambda v: None if v in choices else f"must be one of {listed}")


def matches(pattern: str, what: str) -> AfterValidator:
    regex = re.compile(pattern)
    return rule(lambda v: None if regex.match(v) else f"must be {what}")


def empty_or_matches(pattern: str, what: str) -> AfterValidator:
    regex = re.compile(pattern)
    return rule(lambda v: None if not v or regex.match(v) else f"must be empty or {what}")


def each(pattern: str, what: str) -> AfterValidator:
    """Every item of a list matches ``pattern``; the first that does not is named."""
    regex = re.compile(pattern)

    def validate(values: Iterable[str]) -> Iterable[str]:
        bad = [v for v in values if not regex.match(v)]
        if bad:
            raise Problem(f"must only list {what}", got=bad[0])
        return values

    return AfterValidator(validate)


def within(allowed: tuple[str, ...], what: str) -> AfterValidator:
    """Every item of a list is one of ``allowed``."""
    return rule(lambda vs: None if set(vs) <= set(allowed) else f"must only name {what} among {', '.join(allowed)}")


def list_of(kind: type, description: str) -> BeforeValidator:
    """A JSON list (tuples pass too, for settings built in code) whose items are all ``kind``."""

    def validate(value: Any) -> Any:
        if not isinstance(value, list | tuple) or not all(isinstance(v, kind) for v in value):
            raise Problem(f"must be a list of {description}", got=value)
        return tuple(value)

    return BeforeValidator(validate)


def ipv4_cidr(min_prefix: int, max_prefix: int) -> AfterValidator:
    regex = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$")

    def check(value: str) -> str | None:
        match = regex.match(value)
        if match and all(int(o) <= 255 for o in match.groups()[:4]) and min_prefix <= int(match[5]) <= max_prefix:
            return None
        return f"must be an IPv4 CIDR block with a prefix between /{min_prefix} and /{max_prefix}"

    return rule(check)
