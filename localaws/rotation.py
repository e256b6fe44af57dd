"""Plays Secrets Manager's alternating-users rotation of an RDS PostgreSQL secret, as AWS's rotation function does.

`rotate_multi_user` reproduces AWS's `SecretsManagerRDSPostgreSQLRotationMultiUser` Lambda, step by step:
- createSecret: reads the AWSCURRENT version, switches `username` to the other user (`<base>` <-> `<base>_clone`),
  takes a new password from Secrets Manager's GetRandomPassword (the function's default excluded characters), and
  stores it as a new version labelled AWSPENDING (skipped if a pending version already exists, as the function
  does on a retried step);
- setSecret: if the pending credentials already log in, nothing to do; otherwise, as the master user, checks that
  the pending user exists: if not, `CREATE ROLE <pending> WITH LOGIN PASSWORD ...` and `GRANT <current> TO
  <pending>`; if it does, `ALTER USER <pending> WITH PASSWORD ...` (usernames quoted with quote_ident);
- testSecret: logs in with the pending credentials and runs `SELECT NOW()`;
- finishSecret: moves AWSCURRENT to the pending version (AWSPREVIOUS follows the old one) and removes AWSPENDING,
  which Secrets Manager's rotation orchestration does once the function succeeded.
So, as in AWS, the credentials a task started with keep working through one rotation and stop working at the
second one (that rotation changes their user's password).

The function reaches the database at the secret's `host` and `port`; a caller whose database answers elsewhere (the
rehearsal: the RDS endpoint is a local server) passes `connect(user, password)`, its network, instead.

What is not reproduced: the Lambda runtime and RotateSecret's scheduling and retries (the steps run in-process,
in order, once); the master credentials are the `admin` connection given by the caller rather than ones the
function reads from the secret's `masterarn` (the `masterarn` key is still required, as AWS requires it); the
function's host/port consistency check against the master secret; SSL (loopback servers have none); and the
PostgreSQL server's own `password_encryption`, whatever the local cluster uses.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

# The rotation function's default EXCLUDE_CHARACTERS.
EXCLUDE_CHARACTERS = "/@\"'\\"


def alternate_username(username: str) -> str:
    """The rotation function's get_alt_username: `<base>` <-> `<base>_clone`."""
    clone_suffix = "_clone"
    if username.endswith(clone_suffix):
        return username[: -len(clone_suffix)]
    new_username = username + clone_suffix
    if len(new_username) > 63:  # PostgreSQL's identifier limit; the function refuses too
        raise ValueError("Unable to clone user, username length with _clone appended would exceed 63 characters")
    return new_username


def _version(secrets: Any, arn: str, stage: str) -> tuple[str, dict[str, Any]] | None:
    try:
        response = secrets.get_secret_value(SecretId=arn, VersionStage=stage)
    except secrets.exceptions.ResourceNotFoundException:
        return None
    return response["VersionId"], json.loads(response["SecretString"])


Connect = Callable[[str, str], psycopg.Connection]  # (user, password) -> a connection to the secret's database


def _connect(secret: dict[str, Any], connect: Connect | None = None) -> psycopg.Connection | None:
    """A login with the secret's credentials at its host and port (or through ``connect``); None when refused."""
    try:
        if connect is not None:
            return connect(secret["username"], secret["password"])
        return psycopg.connect(
            host=secret["host"],
            port=int(secret["port"]),
            dbname=secret.get("dbname", "postgres"),
            user=secret["username"],
            password=secret["password"],
            connect_timeout=5,
        )
    except psycopg.OperationalError:
        return None


def rotate_multi_user(
    secrets: Any, secret_arn: str, admin: psycopg.Connection, connect: Connect | None = None
) -> dict[str, Any]:
    """Run the four steps of one rotation of `secret_arn` with `admin` (a master connection, autocommit);
    returns the new AWSCURRENT secret. `connect(user, password)` reaches the database when the secret's host does
    not."""
    current_id, current = _version(secrets, secret_arn, "AWSCURRENT")  # type: ignore[misc]
    if "masterarn" not in current:
        raise KeyError("masterarn key is missing from secret dictionary")

    # createSecret
    token = str(uuid.uuid4())
    pending_version = _version(secrets, secret_arn, "AWSPENDING")
    if pending_version is None or pending_version[0] == current_id:
        pending = dict(current)
        pending["username"] = alternate_username(current["username"])
        pending["password"] = secrets.get_random_password(ExcludeCharacters=EXCLUDE_CHARACTERS)["RandomPassword"]
        secrets.put_secret_value(
            SecretId=secret_arn,
            ClientRequestToken=token,
            SecretString=json.dumps(pending),
            VersionStages=["AWSPENDING"],
        )
    else:
        token, pending = pending_version

    # setSecret
    already = _connect(pending, connect)
    if already is not None:
        already.close()
    else:
        with admin.transaction():
            pending_name = admin.execute("SELECT quote_ident(%s)", (pending["username"],)).fetchone()[0]
            current_name = admin.execute("SELECT quote_ident(%s)", (current["username"],)).fetchone()[0]
            password = sql.Literal(pending["password"])
            if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (pending["username"],)).fetchone() is None:
                admin.execute(sql.SQL("CREATE ROLE {} WITH LOGIN PASSWORD {}").format(sql.SQL(pending_name), password))
                admin.execute(sql.SQL("GRANT {} TO {}").format(sql.SQL(current_name), sql.SQL(pending_name)))
            else:
                admin.execute(sql.SQL("ALTER USER {} WITH PASSWORD {}").format(sql.SQL(pending_name), password))

    # testSecret
    conn = _connect(pending, connect)
    if conn is None:
        raise RuntimeError(f"testSecret: unable to log into the database with the pending secret of {secret_arn}")
    with conn:
        conn.execute("SELECT NOW()")

    # finishSecret
    secrets.update_secret_version_stage(
        SecretId=secret_arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current_id
    )
    if _version(secrets, secret_arn, "AWSPENDING") is not None:
        secrets.update_secret_version_stage(SecretId=secret_arn, VersionStage="AWSPENDING", RemoveFromVersionId=token)
    return pending
