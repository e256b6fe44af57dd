"""ConfigError: an invalid configuration, always one sentence naming the dotted key.

For example ``Invalid config: environments.prod.account must be a 12-digit AWS account id, got "abc".``
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from platform_config.rules import Problem

# pydantic's error types, in the words of this configuration.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known setting",
    "int_type": "must be an integer",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "tuple_type": "must be a list",
}
_WITHOUT_VALUE = ("missing", "extra_forbidden")


class ConfigError(ValueError):
    """Invalid configuration; the message is one sentence naming the key."""


def dotted(location: tuple[str | int, ...]) -> str:
    """("environments", "prod", "additional_regions", 0, "region") -> environments.prod.additional_regions[0].region"""
    key = ""
    for part in location:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def sentence(key: str, message: str, got: Any = None, *, with_value: bool = True) -> str:
    value = f", got {json.dumps(got, default=str)}" if with_value else ""
    return f"Invalid config: {key} {message}{value}."


def from_validation_error(error: ValidationError) -> ConfigError:
    """The first problem pydantic found, as one sentence."""
    first = error.errors(include_url=False)[0]
    key = dotted(tuple(first["loc"]))
    problem = first.get("ctx", {}).get("error")
    if isinstance(problem, Problem):
        if problem.key:
            key = f"{key}.{problem.key}" if key else problem.key
        return ConfigError(sentence(key, problem.message, problem.got, with_value=problem.has_value))
    message = _MESSAGES.get(first["type"], first["msg"])
    return ConfigError(sentence(key, message, first.get("input"), with_value=first["type"] not in _WITHOUT_VALUE))
