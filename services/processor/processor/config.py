"""Settings from the container contract's environment variables, validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


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
    host: str
    port: int
    name: str
    user: str
    password: str
    sslmode: str
    sslrootcert: str | None

    def conninfo(self) -> dict[str, str | int]:
        info: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.name,
            "user": self.user,
            "password": self.password,
            "sslmode": self.sslmode,
            "connect_timeout": 5,
            "application_name": "iot-processor",
        }
        if self.sslrootcert:
            info["sslrootcert"] = self.sslrootcert
        return info

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DatabaseSettings:
        sslmode = env.get("DB_SSLMODE", "").strip() or "require"
        if sslmode not in _SSL_MODES:
            allowed = ", ".join(_SSL_MODES)
            raise ConfigError(f"environment variable DB_SSLMODE must be one of {allowed}, got {sslmode!r}")
        return cls(
            host=_required(env, "DB_HOST"),
            port=_int(env, "DB_PORT", 5432, 1, 65535),
            name=_required(env, "DB_NAME"),
            user=_required(env, "DB_USER"),
            password=_required(env, "DB_PASSWORD"),
            sslmode=sslmode,
            sslrootcert=env.get("DB_SSLROOTCERT", "").strip() or None,
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
            host=_required(env, "REDIS_HOST"),
            port=_int(env, "REDIS_PORT", 6379, 1, 65535),
            tls=_bool(env, "REDIS_TLS", True),
            auth_token=env.get("REDIS_AUTH_TOKEN", "").strip() or None,
        )


@dataclass(frozen=True)
class ConsumerSettings:
    region: str
    stream_name: str
    data_dir: Path
    batch_size: int
    idle_sleep_seconds: float
    rebalance_seconds: float
    max_backoff_seconds: float
    database: DatabaseSettings
    redis: RedisSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsumerSettings:
        env = os.environ if env is None else env
        return cls(
            region=_required(env, "AWS_REGION"),
            stream_name=_required(env, "STREAM_NAME"),
            data_dir=Path(_required(env, "DATA_DIR")),
            batch_size=_int(env, "BATCH_SIZE", 1000, 1, 10000),
            idle_sleep_seconds=_float(env, "IDLE_SLEEP_SECONDS", 1.0, 0.0, 60.0),
            rebalance_seconds=_float(env, "REBALANCE_SECONDS", 15.0, 0.1, 3600.0),
            max_backoff_seconds=_float(env, "MAX_BACKOFF_SECONDS", 20.0, 0.01, 600.0),
            database=DatabaseSettings.from_env(env),
            redis=RedisSettings.from_env(env),
        )


@dataclass(frozen=True)
class ServerSettings:
    port: int
    database: DatabaseSettings
    redis: RedisSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        env = os.environ if env is None else env
        return cls(
            port=_int(env, "PORT", 8080, 1, 65535),
            database=DatabaseSettings.from_env(env),
            redis=RedisSettings.from_env(env),
        )
