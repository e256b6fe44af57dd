"""`processor db-setup`: the ECS init container that prepares the database before `consume` starts.

It logs in as the RDS master user (DB_ADMIN_SECRET), creates the application's base role with the application
secret's password if (and only if) the role does not exist yet, grants it what the processor needs, hands it every
existing object the master user owns in schema public (deployments from before issue #10 created them as the master)
and applies the migrations as that role. It never changes an existing role's password: rotation owns passwords.
Idempotent, and serialised by an advisory lock, so any number of tasks may start at once.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from processor.config import DbSetupSettings
from processor.db import base_role, session_options
from processor.migrations import apply_migrations

log = logging.getLogger("processor.db_setup")

# Advisory-lock key that serialises db-setup across tasks (an arbitrary, fixed 64-bit number).
_SETUP_LOCK = 0x10770004


def db_setup(settings: DbSetupSettings) -> str:
    """Prepare the database; returns the base role's name. Raises psycopg.Error on failure."""
    admin, app = settings.admin_secret, settings.app_secret
    role = base_role(str(app["username"]))
    info: dict[str, str | int] = {
        **settings.database.conninfo(),
        "connect_timeout": 10,
        "application_name": "iot-processor-db-setup",
        "user": str(admin["username"]),
        "password": str(admin["password"]),
        **session_options(statement_timeout_ms=300_000),
    }
    with psycopg.connect(**info, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SETUP_LOCK,))
            ident = sql.Identifier(role)
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                # CREATE ROLE takes no bind parameters; Literal quotes the password safely.
                conn.execute(
                    sql.SQL("CREATE ROLE {} WITH LOGIN PASSWORD {}").format(ident, sql.Literal(str(app["password"])))
                )
                log.info("created the application role", extra={"role": role})
            database = sql.Identifier(settings.database.name)
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, ident))
            conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(ident))
            # The master must be a member of the role to create objects as it (SET ROLE) and to hand objects over.
            member = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,)).fetchone()
            if not (member and member[0]):
                conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(ident))
            owned = conn.execute(
                """SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                      AND c.relkind IN ('r', 'p', 'v', 'm', 'S')""",
            ).fetchall()
            for name, kind in owned:
                keyword = {"S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW"}.get(kind, "TABLE")
                conn.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(keyword), sql.Identifier(name), ident))
                log.info("handed an object to the application role", extra={"object": name, "role": role})
        applied = apply_migrations(conn, owner=role)
    log.info("database ready", extra={"role": role, "migrations_applied": applied})
    return role
