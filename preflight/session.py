"""A boto3 session as a role whose credentials are assumed again before they expire.

Role chaining (a CodeBuild role assuming an environment account's role) caps each AssumeRole at one hour, and a
session built once from one AssumeRole answer fails as soon as those credentials expire. Here botocore does the work:
its `AssumeRoleCredentialFetcher` calls AssumeRole with the source session's (themselves refreshable) credentials, and
`DeferredRefreshableCredentials` calls it again shortly before each set expires (botocore's refresh windows: from 15
minutes before expiry, and blocking from 10 minutes before). Any boto3-only step (pre-flight, the integration suite)
can build its session with `assumed_role_session`."""

from __future__ import annotations

import boto3
import botocore.session
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import NoCredentialsError

MAX_CHAINED_SECONDS = 3600  # the longest session AWS grants a role assumed with another role's credentials


class _AssumedRole(CredentialProvider):
    """The one credential provider of an assumed-role session: the refreshable credentials it was given."""

    METHOD = "assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


def assumed_role_session(
    role_arn: str,
    session_name: str,
    region: str,
    source: boto3.Session | None = None,
    duration_seconds: int = MAX_CHAINED_SECONDS,
) -> boto3.Session:
    """A session in ``region`` as ``role_arn``, assumed with ``source``'s credentials (default: the caller's) at once
    and again before each set of credentials expires."""
    source = source or boto3.Session(region_name=region)
    source_credentials = source.get_credentials()
    if source_credentials is None:
        raise NoCredentialsError()
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=source.client,
        source_credentials=source_credentials,
        role_arn=role_arn,
        extra_args={"RoleSessionName": session_name[:64], "DurationSeconds": duration_seconds},
    )
    credentials = DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method=_AssumedRole.METHOD)
    credentials.get_frozen_credentials()  # assume now: a refused AssumeRole fails here, not in some later call
    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([_AssumedRole(credentials)]))
    return boto3.Session(botocore_session=core, region_name=region)
