"""PostgreSQL connections that survive credential rotation and notice a dead peer within seconds.

Credentials come from the rotating application secret (DB_SECRET_ARN, read with boto3) or, for local runs, from
DB_USER/DB_PASSWORD. Secrets Manager's alternating-users rotation keeps the previous credentials working for one
more rotation only, so a long-lived task will, one day, open a connection with a password that no longer works:
then the secret is re-read and the connection retried at once. A rejection that persists with fresh credentials is
logged as an error naming the secret and counted in the `DatabaseAuthFailures` metric (see README).

Every connection also sets client- and server-side TCP keepalives and `tcp_user_timeout` (a lost host or a
partition is noticed in about 25 s instead of the OS default of about 2 hours, which matters most for the shard
leases: PostgreSQL frees a dead task's advisory locks only when it notices the session is gone), a
`statement_timeout`, a `lock_timeout` and UTC as the session time zone.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from processor import contract as c
from processor.config import DatabaseSettings
from processor.logs import emit_metrics

log = logging.getLogger("processor.db")
C = TypeVar("C", bound=psycopg.Connection)

# libpq reports no SQLSTATE for a connection that failed during authentication (psycopg's exception has
# sqlstate None: there is no result to read it from), so the server's FATAL message is matched instead. These are
# PostgreSQL's messages for 28P01 invalid_password and 28000 invalid_authorization_specification (RDS answers in
# English). The SQLSTATEs are checked too, should a later psycopg expose them.
AUTH_SQLSTATES = frozenset({"28P01", "28000"})
_AUTH_MESSAGES = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "pg_hba.conf rejects connection",
    "is not permitted to log in",
    'role "',  # 'role "x" does not exist' (trust/peer setups)
)
KEEPALIVE_IDLE_SECONDS = 10
KEEPALIVE_INTERVAL_SECONDS = 5
KEEPALIVE_COUNT = 3
TCP_USER_TIMEOUT_MS = 30_000
# A host loss is noticed by PostgreSQL after idle + interval * count seconds without an answer.
DEAD_PEER_SECONDS = KEEPALIVE_IDLE_SECONDS + KEEPALIVE_INTERVAL_SECONDS * KEEPALIVE_COUNT


class CredentialsRejected(psycopg.OperationalError):
    """PostgreSQL rejected the credentials even after the secret was re-read."""


class CredentialsUnavailable(psycopg.OperationalError):
    """The secret could not be read (permissions, network, or not the RDS JSON shape)."""


def is_auth_failure(exc: BaseException) -> bool:
    if not isinstance(exc, psycopg.OperationalError):
        return False
    if getattr(exc, "sqlstate", None) in AUTH_SQLSTATES:
        return True
    message = str(exc)
    return "FATAL" in message and any(text in message for text in _AUTH_MESSAGES)


def session_options(statement_timeout_ms: int, lock_timeout_ms: int = 10_000) -> dict[str, str | int]:
    """libpq parameters for keepalives on both ends, time limits and the UTC time zone."""
    server = {
        "tcp_keepalives_idle": KEEPALIVE_IDLE_SECONDS,
        "tcp_keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
        "tcp_keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        "statement_timeout": statement_timeout_ms,
        "lock_timeout": lock_timeout_ms,
        "idle_in_transaction_session_timeout": max(statement_timeout_ms, 60_000),
        "TimeZone": "UTC",
    }
    return {
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
        "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        "options": " ".join(f"-c {name}={value}" for name, value in server.items()),
    }


def base_role(username: str) -> str:
    """The role that owns the schema: alternating-users rotation logs in as `<base>` or `<base>_clone`."""
    return username.removesuffix("_clone") or username


class Credentials:
    """The database user and password now in force; thread-safe, shared by every connection of a process."""

    def __init__(self, settings: DatabaseSettings, service: str, stream_name: str, secrets_client: Any = None) -> None:
        self.settings = settings
        self.service = service
        # StreamName tells deployments apart where several share an account and region (as every processor metric).
        self.dimensions = {"StreamName": stream_name, "Service": service}
        self._client = secrets_client
        self._lock = threading.Lock()
        self._current: tuple[str, str] | None = None
        self.refreshes = 0
        self.rejections = 0

    @property
    def source(self) -> str:
        """What to fix when the credentials are wrong: the secret's ARN, or the static variables."""
        if self.settings.secret_arn:
            return f"secret {self.settings.secret_arn}"
        return f"static credentials {c.DB_USER}/{c.DB_PASSWORD}"

    def current(self) -> tuple[str, str]:
        with self._lock:
            if self._current is None:
                self._current = self._load()
            return self._current

    def refresh(self, rejected: tuple[str, str] | None = None) -> tuple[str, str]:
        """Re-read the secret, unless another connection already replaced the `rejected` credentials (many
        connections failing at once cause one read, not one each)."""
        with self._lock:
            if self._current is None or rejected is None or self._current == rejected:
                self._current = self._load()
                self.refreshes += 1
            return self._current

    def kwargs(self, statement_timeout_ms: int) -> dict[str, Any]:
        """Everything `psycopg.connect` needs, with the credentials in force now."""
        user, password = self.current()
        return {
            **self.settings.conninfo(),
            **session_options(statement_timeout_ms),
            "user": user,
            "password": password,
        }

    def connect(self, statement_timeout_ms: int = 60_000, **extra: Any) -> psycopg.Connection:
        """A new connection; on an authentication failure the secret is re-read and the connection retried once."""
        return self.connect_with(psycopg.Connection.connect, {**self.kwargs(statement_timeout_ms), **extra})

    def connect_with(self, connect: Callable[..., C], kwargs: dict[str, Any]) -> C:
        """`connect(**kwargs)`; on an authentication failure, again at once with the secret re-read."""
        try:
            return connect(**kwargs)
        except psycopg.OperationalError as exc:
            if not is_auth_failure(exc):
                raise
            rejected = (str(kwargs.get("user", "")), str(kwargs.get("password", "")))
            if self.settings.secret_arn is None:
                self._rejected(rejected[0], " ".join(str(exc).split()))
        user, password = self.refresh(rejected)
        log.info("database credentials re-read after an authentication failure", extra={"user": user})
        try:
            return connect(**{**kwargs, "user": user, "password": password})
        except psycopg.OperationalError as exc:
            if not is_auth_failure(exc):
                raise
            self._rejected(user, " ".join(str(exc).split()))
            raise AssertionError("unreachable") from exc  # _rejected always raises

    def pool_connection_class(self) -> type[psycopg.Connection]:
        """A connection class for psycopg_pool whose `connect` retries with re-read credentials (the pool's
        `kwargs` callable supplies the current ones; psycopg_pool 3.3 resolves it for every new connection)."""
        credentials = self

        class RotatingConnection(psycopg.Connection):  # type: ignore[type-arg]
            @classmethod
            def connect(cls, conninfo: str = "", **kwargs: Any) -> RotatingConnection:  # type: ignore[override]
                parent = super().connect
                return credentials.connect_with(lambda **kw: parent(conninfo, **kw), kwargs)

        return RotatingConnection

    def _rejected(self, user: str, detail: str) -> None:
        self.rejections += 1
        log.error(
            f"PostgreSQL rejects the credentials of {self.source}",
            extra={"user": user, "detail": detail, "service": self.service},
        )
        emit_metrics(self.dimensions, {"DatabaseAuthFailures": (1, "Count")})
        raise CredentialsRejected(f"PostgreSQL rejects the credentials of {self.source} (user {user})")

    def _load(self) -> tuple[str, str]:
        if self.settings.secret_arn is None:
            assert self.settings.user is not None and self.settings.password is not None
            return self.settings.user, self.settings.password
        arn = self.settings.secret_arn
        try:
            # VersionStage explicitly: what the rotation just moved (and moto 5.2.5 ignores a moved stage otherwise).
            raw = self._secrets().get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
            doc = json.loads(raw)
            user, password = doc["username"], doc["password"]
            if not (isinstance(user, str) and isinstance(password, str) and user and password):
                raise ValueError("username and password must be non-empty strings")
        except Exception as exc:  # AWS errors, missing keys, bad JSON: all mean "cannot log in", named precisely
            log.error(f"cannot read the database credentials from secret {arn}", extra={"error": str(exc)})
            emit_metrics(self.dimensions, {"DatabaseAuthFailures": (1, "Count")})
            raise CredentialsUnavailable(f"cannot read the database credentials from secret {arn}: {exc}") from None
        return user, password

    def _secrets(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "secretsmanager",
                region_name=self.settings.region,
                config=Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=10),
            )
        return self._client
