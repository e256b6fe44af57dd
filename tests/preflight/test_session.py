"""Sessions as the environment's role: assumed again once their (chained, at most one-hour) credentials run out.

STS is answered in-process (`FakeSts`) so that the test sets each credential's expiry; the calls made with the
session go to moto, and the request they send shows which credentials signed it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.handlers
import botocore.session
import pytest
from botocore.credentials import CredentialResolver
from botocore.exceptions import ClientError, NoCredentialsError
from moto import mock_aws

from platform_config import EnvironmentSettings
from platform_config.naming import bootstrap_role_arn
from preflight import assumed_role_session, cli
from preflight.cli import session_for
from tests.preflight.conftest import REGION, FakeSts, install_fake_sts

LOOKUP_ROLE = bootstrap_role_arn("lookup", "333333333333", REGION)


class SigningKeys:
    """The access key that signed each STS request sent, by operation (a before-send hook; moto answers)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, request: Any, event_name: str, **_: Any) -> None:
        authorization = request.headers["Authorization"].decode()
        self.sent.append((event_name.rsplit(".", 1)[1], authorization.split("Credential=", 1)[1].split("/", 1)[0]))

    @property
    def keys(self) -> list[str]:
        """The keys that signed GetCallerIdentity, the call the tests make with the assumed-role session."""
        return [key for operation, key in self.sent if operation == "GetCallerIdentity"]


@pytest.fixture
def signing_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[SigningKeys]:
    keys = SigningKeys()
    with mock_aws():
        handlers = [*botocore.handlers.BUILTIN_HANDLERS, ("before-send.sts", keys)]
        monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)
        yield keys


def _sleep_past(expiration: datetime) -> None:
    time.sleep(max(0.0, (expiration - datetime.now(UTC)).total_seconds()) + 0.2)


def test_a_session_used_past_its_first_credentials_expiry_assumes_the_role_again(
    monkeypatch: pytest.MonkeyPatch, signing_keys: SigningKeys, staging: EnvironmentSettings
) -> None:
    """The pre-flight's session outlives its first credentials: the next call assumes the role again and is signed
    with the new credentials, never with the expired ones."""
    sts = install_fake_sts(monkeypatch, FakeSts(lifetimes=[1.0, 3600.0]))
    session = session_for(staging, LOOKUP_ROLE, "preflight")
    assert len(sts.issued) == 1
    _sleep_past(sts.issued[0]["Expiration"])
    session.client("sts").get_caller_identity()
    assert [r["RoleArn"] for r in sts.requests] == [LOOKUP_ROLE, LOOKUP_ROLE], "the role was not assumed again"
    assert signing_keys.keys == ["ASIAFAKEROLEKEY0002"]
    assert all(r["RoleSessionName"] == "iot-preflight-staging" and r["DurationSeconds"] == 3600 for r in sts.requests)


def test_credentials_that_are_still_valid_are_not_assumed_again(
    monkeypatch: pytest.MonkeyPatch, signing_keys: SigningKeys
) -> None:
    sts = install_fake_sts(monkeypatch, FakeSts(lifetimes=[3600.0]))
    session = assumed_role_session(LOOKUP_ROLE, "iot-preflight-staging", REGION)
    for _ in range(3):
        session.client("sts").get_caller_identity()
    assert len(sts.requests) == 1
    assert signing_keys.keys == ["ASIAFAKEROLEKEY0001"] * 3


def test_the_role_is_assumed_with_the_source_sessions_credentials(signing_keys: SigningKeys) -> None:
    """Another boto3-only step passes the session it runs as: AssumeRole (moto's, here) is signed with its keys."""
    source = boto3.Session(aws_access_key_id="AKIARUNNERKEY000001", aws_secret_access_key="x", region_name=REGION)
    session = assumed_role_session(LOOKUP_ROLE, "iot-integration-dev", REGION, source=source)
    identity = session.client("sts").get_caller_identity()
    assert session.region_name == REGION
    assert identity["Arn"].endswith("/cdk-hnb659fds-lookup-role-333333333333-us-east-1/iot-integration-dev")
    (assumed_with,) = [key for operation, key in signing_keys.sent if operation == "AssumeRole"]
    assert assumed_with == "AKIARUNNERKEY000001"
    assert signing_keys.keys[0].startswith("ASIA")


def test_a_refused_assume_role_fails_when_the_session_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = install_fake_sts(monkeypatch, FakeSts(refuse=True))
    with pytest.raises(ClientError) as refused:
        assumed_role_session(LOOKUP_ROLE, "iot-preflight-staging", REGION)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert len(sts.requests) == 1


def test_a_source_without_credentials_is_refused_at_once() -> None:
    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([]))
    with pytest.raises(NoCredentialsError):
        assumed_role_session(LOOKUP_ROLE, "iot-preflight-staging", REGION, source=boto3.Session(botocore_session=core))


def test_without_a_role_the_session_is_the_callers(staging: EnvironmentSettings) -> None:
    session = session_for(staging, None, "preflight")
    assert session.region_name == REGION
    assert session.get_credentials().access_key == "testing"


@mock_aws
def test_session_for_assumes_the_role_in_moto(staging: EnvironmentSettings) -> None:
    """End to end against moto's STS: the session's identity is the assumed role, named for the step."""
    identity = session_for(staging, LOOKUP_ROLE, "preflight").client("sts").get_caller_identity()
    assert identity["Arn"] == (
        "arn:aws:sts::333333333333:assumed-role/cdk-hnb659fds-lookup-role-333333333333-us-east-1/iot-preflight-staging"
    )


@pytest.mark.parametrize(
    ("region", "partition"), [("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")]
)
def test_the_lookup_role_is_in_the_partition_of_the_deployment_s_region(
    monkeypatch: pytest.MonkeyPatch, staging: EnvironmentSettings, region: str, partition: str
) -> None:
    """The pipeline grants the lookup role of its own partition (stack.partition): review and drift assume that one."""
    assumed: list[str] = []
    monkeypatch.setattr(cli, "assumed_role_session", lambda arn, name, region: assumed.append(arn))
    cli.lookup_session(staging.model_copy(update={"region": region}), True, "review")
    account = staging.account
    assert assumed == [f"arn:{partition}:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-{region}"]
