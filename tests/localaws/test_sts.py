"""Assumed-role credentials expire (localaws.models.sts): refused once expired, in each protocol's own error form,
while static keys keep working."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from localaws.rehearsal.account import Account


def test_expired_session_credentials_are_refused(account: Account) -> None:
    sts = account.session(validate=False).client("sts")  # a 2-second session, below botocore's 900-second check
    answer = sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/short", RoleSessionName="t", DurationSeconds=2)
    credentials = answer["Credentials"]
    session = account.session()
    keys = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
    assert session.client("sts", **keys).get_caller_identity()["Account"] == "222222222222"
    time.sleep(2.5)
    with pytest.raises(ClientError) as query_protocol:
        session.client("sts", **keys).get_caller_identity()
    assert query_protocol.value.response["Error"]["Code"] == "ExpiredToken"
    with pytest.raises(ClientError) as cbor_protocol:
        session.client("cloudwatch", **keys).describe_alarms()
    assert cbor_protocol.value.response["Error"]["Code"] == "ExpiredTokenException"
    assert account.client("sts").get_caller_identity()["Account"]  # static keys never expire
