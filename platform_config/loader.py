"""The one reader of cdk.json: the platform configuration (``context.platform``), validated once.

`load_config` validates the raw ``platform`` context object that `cdk synth` hands app.py; `load_config_file` reads it
from cdk.json for everything that runs without the CDK (pre-flight, health gates, the integration suite, scripts);
`cdk_context` is the whole context `cdk synth` gives an app (cdk.json's plus the lookups pinned in cdk.context.json),
for in-process synths and benchmarks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from platform_config.errors import ConfigError, from_validation_error
from platform_config.platform import PlatformConfig

CONTEXT_KEY = "platform"
REPO_ROOT = Path(__file__).resolve().parents[1]
CDK_JSON = REPO_ROOT / "cdk.json"


def load_config(raw: Any) -> PlatformConfig:
    """Validate the raw ``platform`` context object; raises ConfigError (one sentence naming the key)."""
    if raw is None:
        raise ConfigError(f'Invalid config: the "{CONTEXT_KEY}" context object is missing from cdk.json.')
    try:
        return PlatformConfig.model_validate(raw)
    except ValidationError as error:
        raise from_validation_error(error) from None


def read_cdk_json(path: Path = CDK_JSON) -> dict[str, Any]:
    """cdk.json as a dict; ConfigError when it cannot be read."""
    try:
        document: dict[str, Any] = json.loads(path.read_text())
        document["context"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"Invalid config: {path} could not be read as a CDK app file ({error}).") from error
    return document


def load_config_file(path: Path = CDK_JSON) -> PlatformConfig:
    """The validated configuration in a cdk.json file, as `cdk synth` sees it."""
    return load_config(read_cdk_json(path)["context"].get(CONTEXT_KEY))


def cdk_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The context `cdk synth` gives the app: cdk.json's context plus the pinned lookups of cdk.context.json."""
    context: dict[str, Any] = dict(read_cdk_json(path)["context"])
    pinned = path.with_name("cdk.context.json")
    if pinned.exists():
        context.update(json.loads(pinned.read_text()))
    return context
