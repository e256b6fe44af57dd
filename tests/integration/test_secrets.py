"""The platform's secrets as Secrets Manager describes them, without reading a value (prod's smoke-test role may
neither read secret values nor decrypt them): the database's master and application secrets rotate on the configured
schedule, and each secret is encrypted with its part's own key, not the account's AWS managed key."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.smoke

ENCRYPTED_WITH = {
    "DatabaseSecretArn": "DatabaseKeyArn",
    "DatabaseAppSecretArn": "DatabaseKeyArn",
    "RedisAuthTokenSecretArn": "CacheKeyArn",
}
# The Redis AUTH token does not rotate: ElastiCache takes a new token only through ModifyReplicationGroup, which no
# Secrets Manager rotation function performs (lib/cache.py).
ROTATING = ("DatabaseSecretArn", "DatabaseAppSecretArn")


@pytest.fixture(scope="module")
def described(aws, output):
    found: dict[str, dict] = {}

    def describe(name: str) -> dict:
        if name not in found:
            found[name] = aws("secretsmanager").describe_secret(SecretId=output(name))
        return found[name]

    return describe


def _rotation_days(rules: dict) -> int:
    if "AutomaticallyAfterDays" in rules:
        return int(rules["AutomaticallyAfterDays"])
    match = re.fullmatch(r"rate\((\d+) days?\)", rules.get("ScheduleExpression", ""))
    assert match, f"rotation schedule is not a rate in days: {rules}"
    return int(match[1])


def _key_id(key: str) -> str:
    """A KMS key's id, from its ARN (arn:aws:kms:<region>:<account>:key/<id>) or the id itself."""
    return key.rsplit("/", 1)[-1] if key.startswith("arn:") else key


@pytest.mark.parametrize("secret", ROTATING)
def test_database_secret_rotates_on_schedule(described, settings, secret) -> None:
    description = described(secret)
    assert description.get("RotationEnabled") is True, f"{secret}: rotation is not enabled"
    assert description.get("RotationLambdaARN"), f"{secret}: no rotation function"
    assert _rotation_days(description.get("RotationRules", {})) == settings.database.rotation_days


@pytest.mark.parametrize(("secret", "key"), ENCRYPTED_WITH.items())
def test_secret_is_encrypted_with_its_parts_key(described, output, secret, key) -> None:
    kms_key = described(secret).get("KmsKeyId")
    assert kms_key, f"{secret} is encrypted with the AWS managed key, not {key}"
    assert _key_id(kms_key) == _key_id(output(key)), f"{secret} is encrypted with {kms_key}, not {key}"
