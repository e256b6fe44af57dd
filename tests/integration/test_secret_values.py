"""The contents of the secrets the processor reads. Full suite only: this module carries no smoke marker, because
prod's test role may not read secret values (no secretsmanager:GetSecretValue, no kms:Decrypt on their keys).

The application user's secret rotates with alternating users, so its username is the configured
`database.app_username` or the rotation function's clone of it, `<app_username>_clone`.
"""

from __future__ import annotations

import json
import re

# What ElastiCache accepts as an AUTH token is 16 to 128 of these; the stack generates 64 letters and digits.
AUTH_TOKEN = re.compile(r"[A-Za-z0-9!&#$^<>-]{32,128}")


def _value(aws, arn: str) -> str:
    return aws("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]


def test_application_secret_describes_the_instance(aws, output, settings) -> None:
    value = json.loads(_value(aws, output("DatabaseAppSecretArn")))
    app_user = settings.database.app_username
    assert value["username"] in (app_user, f"{app_user}_clone"), f"application user is {value['username']}"
    assert value["password"]
    assert value["host"] == output("DatabaseEndpoint")
    assert str(value["port"]) == output("DatabasePort")
    assert value["engine"] == "postgres"
    assert value["dbname"] == settings.database.database_name


def test_redis_auth_token_is_long(aws, output) -> None:
    token = _value(aws, output("RedisAuthTokenSecretArn"))
    assert AUTH_TOKEN.fullmatch(token), f"Redis AUTH token: {len(token)} characters, or one ElastiCache refuses"
