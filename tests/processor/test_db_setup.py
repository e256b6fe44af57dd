"""`processor db-setup` (the consume task's init container) against PostgreSQL with password authentication."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from localaws.rotation import rotate_multi_user
from processor import migrations
from processor.migrations import MIGRATIONS, apply_migrations


def run_setup(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "processor", "db-setup"], env=env, capture_output=True, text=True, timeout=120
    )


def login(app_database, user: str, password: str) -> psycopg.Connection:
    info = {**app_database.server.conninfo(app_database.name), "user": user, "password": password}
    return psycopg.connect(**info, autocommit=True)


def public_owners(admin: psycopg.Connection) -> dict[str, str]:
    return dict(
        admin.execute(
            """SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'S', 'v')"""
        ).fetchall()
    )


def test_creates_the_role_grants_and_schema_owned_by_the_base_role(app_database, setup_env):
    result = run_setup(setup_env)
    assert result.returncode == 0, result.stderr
    with app_database.admin() as admin:
        owners = public_owners(admin)
        assert {"readings", "shard_checkpoints", "schema_migrations", "readings_rejected"} <= set(owners)
        assert set(owners.values()) == {app_database.role}
        assert admin.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
        can_connect, can_create = admin.execute(
            """SELECT has_database_privilege(%s, current_database(), 'CONNECT'),
                      has_schema_privilege(%s, 'public', 'CREATE')""",
            (app_database.role, app_database.role),
        ).fetchone()
        assert can_connect and can_create
    with login(app_database, app_database.role, app_database.app_secret["password"]) as app:
        assert app.execute("SELECT current_user").fetchone()[0] == app_database.role


def test_never_resets_a_rotated_password_and_the_clone_can_use_everything(app_database, setup_env, secretsmanager):
    assert run_setup(setup_env).returncode == 0
    with app_database.admin() as admin:
        rotate_multi_user(secretsmanager, app_database.app_arn, admin)  # creates <base>_clone
        second = rotate_multi_user(secretsmanager, app_database.app_arn, admin)  # changes <base>'s password
    assert second["username"] == app_database.role
    first_password = app_database.app_secret["password"]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        login(app_database, app_database.role, first_password).close()

    # A task restarting with the secret it got at deploy time (the old JSON) must not undo the rotation.
    assert run_setup(setup_env).returncode == 0
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        login(app_database, app_database.role, first_password).close()
    login(app_database, app_database.role, second["password"]).close()

    clone = json.loads(
        secretsmanager.get_secret_value(SecretId=app_database.app_arn, VersionStage="AWSPREVIOUS")["SecretString"]
    )
    assert clone["username"] == f"{app_database.role}_clone"
    with login(app_database, clone["username"], clone["password"]) as conn:
        conn.execute("INSERT INTO readings VALUES ('s-clone', now(), 1, 2, NULL)")
        assert conn.execute("SELECT count(*) FROM readings").fetchone()[0] == 1
        conn.execute("UPDATE shard_checkpoints SET finished = true")


def test_migrations_run_as_the_clone_create_objects_the_base_role_owns(app_database, setup_env, secretsmanager):
    assert run_setup(setup_env).returncode == 0
    with app_database.admin() as admin:
        clone = rotate_multi_user(secretsmanager, app_database.app_arn, admin)
    extra = (99, "a later migration", "CREATE TABLE later_table (id integer PRIMARY KEY)")
    original = migrations.MIGRATIONS
    migrations.MIGRATIONS = (*original, extra)
    try:
        with login(app_database, clone["username"], clone["password"]) as conn:
            assert apply_migrations(conn, owner=app_database.role) == [99]
    finally:
        migrations.MIGRATIONS = original
    with app_database.admin() as admin:
        assert public_owners(admin)["later_table"] == app_database.role
    # The base user (the other half of the rotation) can use what the clone created.
    with login(app_database, app_database.role, app_database.app_secret["password"]) as conn:
        conn.execute("INSERT INTO later_table VALUES (1)")


def test_hands_over_objects_a_pre_rotation_deployment_created_as_the_master(app_database, setup_env):
    with app_database.admin() as admin:  # what `consume` did before issue #10: migrations as the master user
        apply_migrations(admin)
        admin.execute("INSERT INTO readings VALUES ('s-old', now(), 1, 2, NULL)")
        assert set(public_owners(admin).values()) == {"postgres"}
    assert run_setup(setup_env).returncode == 0
    with app_database.admin() as admin:
        assert set(public_owners(admin).values()) == {app_database.role}
    with login(app_database, app_database.role, app_database.app_secret["password"]) as conn:
        assert conn.execute("SELECT sensor_id FROM readings").fetchall() == [("s-old",)]


def test_concurrent_starters_all_succeed_and_create_everything_once(app_database, setup_env):
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: run_setup(setup_env), range(6)))
    assert [r.returncode for r in results] == [0] * 6, [r.stderr for r in results]
    with app_database.admin() as admin:
        assert (
            admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (app_database.role,)).fetchone()[0] == 1
        )
        assert admin.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


def test_failure_is_one_clear_line_and_a_non_zero_exit(app_database, setup_env):
    wrong = {**app_database.admin_secret, "password": "not-the-master-password"}
    result = run_setup({**setup_env, "DB_ADMIN_SECRET": json.dumps(wrong)})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("processor db-setup: failed:")
    assert 'password authentication failed for user "postgres"' in lines[0]
    assert "not-the-master-password" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DB_ADMIN_SECRET": ""}, "environment variable DB_ADMIN_SECRET is required but not set"),
        (
            {"DB_APP_SECRET": "{not json"},
            "environment variable DB_APP_SECRET must be the secret's JSON, but it is not valid JSON",
        ),
        ({"DB_APP_SECRET": '{"username": "x"}'}, "environment variable DB_APP_SECRET has no 'password'"),
    ],
)
def test_bad_secrets_are_configuration_errors_naming_the_variable(setup_env, change, message):
    result = run_setup({**setup_env, **change})
    assert result.returncode == 2
    assert result.stderr == f"processor db-setup: invalid configuration: {message}\n"
