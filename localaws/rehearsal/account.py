"""The emulated account a rehearsal deploys into, seen as the pipeline sees it: through the stage account's CDK deploy
role, assumed with the pipeline's (tooling) credentials as the CDK CLI assumes it, and bootstrapped as `cdk bootstrap`
leaves an account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from platform_config.naming import bootstrap_role_arn

BOOTSTRAP_VERSION = "33"  # the version the pinned aws-cdk CLI's bootstrap template writes


class EndpointSession(boto3.Session):
    """A boto3 session whose clients all talk to one endpoint (the emulator), including the STS clients botocore's
    credential refresh creates from it. With ``validate`` off, botocore's client-side parameter checks are skipped
    (a compressed-time scenario asks STS for credentials shorter than AWS's 900-second minimum; moto honours them)."""

    def __init__(self, endpoint_url: str, validate: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint_url, self.validate = endpoint_url, validate

    def client(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        if not self.validate:
            kwargs["config"] = Config(parameter_validation=False).merge(kwargs.get("config") or Config())
        return super().client(*args, **kwargs)


@dataclass
class Account:
    """One account and region of the emulator, as one set of credentials (the standard AWS_* variables)."""

    env: dict[str, str]  # AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION and credentials
    account: str
    region: str
    qualifier: str
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def endpoint(self) -> str:
        return self.env["AWS_ENDPOINT_URL"]

    def session(self, validate: bool = True) -> EndpointSession:
        return EndpointSession(
            self.endpoint,
            validate,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=self.env.get("AWS_SESSION_TOKEN"),
            region_name=self.region,
        )

    def client(self, service: str) -> Any:
        """A client of ``service`` with these credentials (one per service, reused)."""
        if service not in self._clients:
            self._clients[service] = self.session().client(service)
        return self._clients[service]

    def assume(self, kind: str, session_name: str = "rehearsal") -> Account:
        """This account's CDK bootstrap role ``kind`` (deploy, lookup, file-publishing...), assumed with these
        credentials through STS, as the CDK CLI and cdk-assets assume it."""
        role = bootstrap_role_arn(kind, self.account, self.region).replace("hnb659fds", self.qualifier)
        credentials = self.client("sts").assume_role(RoleArn=role, RoleSessionName=session_name)["Credentials"]
        env = {
            **self.env,
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }
        return Account(env, self.account, self.region, self.qualifier)

    @property
    def assets_bucket(self) -> str:
        return f"cdk-{self.qualifier}-assets-{self.account}-{self.region}"

    def bootstrap(self, version: str = BOOTSTRAP_VERSION) -> None:
        """What `cdk bootstrap` leaves behind that a deployment reads: the version parameter and the asset stores."""
        self.client("ssm").put_parameter(
            Name=f"/cdk-bootstrap/{self.qualifier}/version", Value=version, Type="String", Overwrite=True
        )
        self.client("s3").create_bucket(Bucket=self.assets_bucket)
        self.client("ecr").create_repository(
            repositoryName=f"cdk-{self.qualifier}-container-assets-{self.account}-{self.region}"
        )
