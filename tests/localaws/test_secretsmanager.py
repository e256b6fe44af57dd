"""GetSecretValue's default follows AWSCURRENT when a rotation moves it (localaws.models.secretsmanager)."""

from __future__ import annotations

import uuid


def test_the_current_value_follows_a_moved_awscurrent(client) -> None:
    secrets = client("secretsmanager")
    arn = secrets.create_secret(Name=f"moved-{uuid.uuid4().hex[:8]}", SecretString="first")["ARN"]
    current = secrets.get_secret_value(SecretId=arn)["VersionId"]
    pending = str(uuid.uuid4())
    secrets.put_secret_value(
        SecretId=arn, SecretString="second", ClientRequestToken=pending, VersionStages=["AWSPENDING"]
    )
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == "first"
    secrets.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=pending, RemoveFromVersionId=current
    )
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == "second"
    assert secrets.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"] == "first"
