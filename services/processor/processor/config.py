"""Settings from the container contract's environment variables, validated once at start-up.

Variables are read only through the names in `processor.contract`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from processor import contract as c


class ConfigError(ValueError):
    """A missing or malformed environment variable; the message names it."""


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is required but not set")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"environment variable {name} must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"environment variable {name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"environment variable {name} must be true or false, got {raw!r}")


_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the database is, and where its credentials come from: exactly one of `secret_arn` (the rotating
    application secret, production) or `user` + `password` (static, local runs)."""

    host: str
    port: int
    name: str
    sslmode: str
    sslrootcert: str | None
    secret_arn: str | None = None
    region: str | None = None
    user: str | None = None
    password: str | None = None

    def conninfo(self) -> dict[str, str | int]:
        """Connection parameters without the credentials (`processor.db` adds them)."""
        info: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.name,
            "sslmode": self.sslmode,
            "connect_timeout": 5,
            "application_name": "iot-processor",
        }
        if self.sslrootcert:
            info["sslrootcert"] = self.sslrootcert
        return info

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DatabaseSettings:
        sslmode = env.get(c.DB_SSLMODE, "").strip() or "require"
        if sslmode not in _SSL_MODES:
            allowed = ", ".join(_SSL_MODES)
            raise ConfigError(f"environment variable {c.DB_SSLMODE} must be one of {allowed}, got {sslmode!r}")
        secret_arn = env.get(c.DB_SECRET_ARN, "").strip() or None
        user = env.get(c.DB_USER, "").strip() or None
        password = env.get(c.DB_PASSWORD, "") or None
        if secret_arn and (user or password):
            raise ConfigError(
                f"set either {c.DB_SECRET_ARN} (the rotating secret) or {c.DB_USER} + {c.DB_PASSWORD} "
                f"(static credentials, local runs), not both"
            )
        if not secret_arn:
            if not user and not password:
                raise ConfigError(
                    f"database credentials are not configured: set {c.DB_SECRET_ARN} (the rotating secret) or "
                    f"{c.DB_USER} + {c.DB_PASSWORD} (static credentials, local runs)"
                )
            if not user or not password:
                missing = c.DB_USER if not user else c.DB_PASSWORD
                raise ConfigError(f"environment variable {missing} is required with static credentials but not set")
        return cls(
            host=_required(env, c.DB_HOST),
            port=_int(env, c.DB_PORT, 5432, 1, 65535),
            name=_required(env, c.DB_NAME),
            sslmode=sslmode,
            sslrootcert=env.get(c.DB_SSLROOTCERT, "").strip() or None,
            secret_arn=secret_arn,
            region=_required(env, c.AWS_REGION) if secret_arn else None,
            user=user,
            password=password,
        )


@dataclass(frozen=True)
class RedisSettings:
    host: str
    port: int
    tls: bool
    auth_token: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RedisSettings:
        return cls(
            host=_required(env, c.REDIS_HOST),
            port=_int(env, c.REDIS_PORT, 6379, 1, 65535),
            tls=_bool(env, c.REDIS_TLS, True),
            auth_token=env.get(c.REDIS_AUTH_TOKEN, "").strip() or None,
        )


@dataclass(frozen=True)
class ConsumerSettings:
    region: str
    stream_name: str
    data_dir: Path
    batch_size: int
    catchup_batch_size: int
    idle_sleep_seconds: float
    rebalance_seconds: float
    max_backoff_seconds: float
    metrics_seconds: float
    max_future_seconds: float
    database: DatabaseSettings
    redis: RedisSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsumerSettings:
        env = os.environ if env is None else env
        return cls(
            region=_required(env, c.AWS_REGION),
            stream_name=_required(env, c.STREAM_NAME),
            data_dir=Path(_required(env, c.DATA_DIR)),
            batch_size=_int(env, c.BATCH_SIZE, 1000, 1, 10000),
            catchup_batch_size=_int(env, c.CATCHUP_BATCH_SIZE, 10000, 1, 10000),
            idle_sleep_seconds=_float(env, c.IDLE_SLEEP_SECONDS, 1.0, 0.0, 60.0),
            rebalance_seconds=_float(env, c.REBALANCE_SECONDS, 15.0, 0.1, 3600.0),
            max_backoff_seconds=_float(env, c.MAX_BACKOFF_SECONDS, 20.0, 0.01, 600.0),
            metrics_seconds=_float(env, c.METRICS_SECONDS, 60.0, 0.1, 3600.0),
            max_future_seconds=_float(env, c.MAX_FUTURE_SECONDS, 900.0, 0.0, 86400.0),
            database=DatabaseSettings.from_env(env),
            redis=RedisSettings.from_env(env),
        )


@dataclass(frozen=True)
class ServerSettings:
    stream_name: str  # the deployment's stream: the StreamName dimension of serve's metrics
    port: int
    pool_timeout_seconds: float
    database: DatabaseSettings
    redis: RedisSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        env = os.environ if env is None else env
        return cls(
            stream_name=_required(env, c.STREAM_NAME),
            port=_int(env, c.PORT, c.DEFAULT_PORT, 1, 65535),
            pool_timeout_seconds=_float(env, c.DB_POOL_TIMEOUT_SECONDS, 5.0, 0.1, 120.0),
            database=DatabaseSettings.from_env(env),
            redis=RedisSettings.from_env(env),
        )


@dataclass(frozen=True)
class DbSetupSettings:
    """`db-setup`: the master secret and the application secret, both as the whole JSON ECS injects."""

    database: DatabaseSettings  # where the database is (its credentials fields are unused)
    admin_secret: Mapping[str, object]
    app_secret: Mapping[str, object]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DbSetupSettings:
        env = os.environ if env is None else env
        database = DatabaseSettings.from_env({**env, c.DB_USER: "-", c.DB_PASSWORD: "-", c.DB_SECRET_ARN: ""})
        return cls(
            database=database,
            admin_secret=_secret_json(env, c.DB_ADMIN_SECRET),
            app_secret=_secret_json(env, c.DB_APP_SECRET),
        )


def _secret_json(env: Mapping[str, str], name: str) -> Mapping[str, object]:
    raw = _required(env, name)
    try:
        doc = json.loads(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be the secret's JSON, but it is not valid JSON") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"environment variable {name} must be a JSON object")
    for key in ("username", "password"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise ConfigError(f"environment variable {name} has no {key!r}")
    return doc
