"""The RDS instance, played by a local PostgreSQL: password (scram-sha-256) authentication only, the instance's master
user (as `describe_db_instances` names it) with the password of the master secret the template gave RDS (resolved by
CloudFormation from Secrets Manager), and the instance's initial database owned by the master user, as RDS creates it.
Like RDS's master user it may create roles and databases but is no superuser (RDS keeps that for `rdsadmin`; here the
server's own `postgres` superuser plays it and nothing of the platform uses it)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from localaws.rehearsal.account import Account
from localaws.servers import LOOPBACK, PostgresServer


@dataclass
class LocalDatabase:
    server: PostgresServer
    identifier: str = ""
    master_username: str = ""
    master_password: str = ""
    name: str = ""

    @classmethod
    def start(cls) -> LocalDatabase:
        """The server, up before anything is deployed (its superuser is the rehearsal's own, random password)."""
        server = PostgresServer(password=secrets.token_urlsafe(24))
        server.start()
        return cls(server)

    def play_instance(self, account: Account, identifier: str, master_secret_arn: str) -> None:
        """Create what RDS creates with the instance: the master user and the initial database."""
        instance = account.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        secret = json.loads(
            account.client("secretsmanager").get_secret_value(SecretId=master_secret_arn)["SecretString"]
        )
        if secret["username"] != instance["MasterUsername"]:
            raise RuntimeError(
                f"{master_secret_arn} is for {secret['username']}, {identifier}'s master is "
                f"{instance['MasterUsername']}"
            )
        self.identifier, self.name = identifier, instance.get("DBName") or "postgres"
        self.master_username, self.master_password = instance["MasterUsername"], secret["password"]
        with psycopg.connect(**self.server.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} WITH LOGIN CREATEROLE CREATEDB PASSWORD {}").format(
                    sql.Identifier(self.master_username), sql.Literal(self.master_password)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(self.name), sql.Identifier(self.master_username)
                )
            )

    @property
    def port(self) -> int:
        return self.server.port

    def connect(self, user: str, password: str, **options: Any) -> psycopg.Connection:
        """A connection to the instance's database as ``user`` (what an application with that secret gets)."""
        return psycopg.connect(
            host=LOOPBACK, port=self.port, dbname=self.name, user=user, password=password, connect_timeout=5, **options
        )

    def master(self) -> psycopg.Connection:
        """An autocommit connection as the master user (what the rotation function logs in as)."""
        return self.connect(self.master_username, self.master_password, autocommit=True)

    def close(self) -> None:
        self.server.close()
