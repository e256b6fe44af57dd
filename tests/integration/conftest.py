"""Fixtures of the post-deployment integration suite: the stack's outputs, boto3 clients and the environment's config.

Outputs come from `cfn-outputs/flat-outputs.json` (`OUTPUTS_FILE` overrides the path), the flat `{OutputKey: value}`
form. When the file is absent and `STACK_NAME` is set, it is built with CloudFormation `describe_stacks` (and
written, for the next reader). Region, endpoint and credentials come from the standard AWS environment; with
`TEST_ROLE_ARN` set (the pipeline's step), every call is made as that role, assumed with those credentials and assumed
again before they expire (preflight.session), so a suite longer than the one-hour cap of a chained role keeps going.
The expected values of each environment come from cdk.json through platform_config (`ENVIRONMENT`: dev, staging or
prod).

Nothing here selects tests by environment: the caller does, by marker (the pipeline runs `-m smoke` where the
environment's `integration_suite` is "smoke", whose test role may not write or read secret values). Runs from the
source tree on tests/integration/requirements.txt alone (hash-pinned), with the repository's platform_config and
preflight.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from platform_config import EnvironmentSettings, load_config_file
from preflight.session import assumed_role_session

DEFAULT_OUTPUTS_FILE = Path("cfn-outputs") / "flat-outputs.json"


@functools.cache
def aws_session() -> boto3.session.Session:
    """The caller's session, or the TEST_ROLE_ARN role's (refreshed before it expires) when that is set."""
    caller = boto3.session.Session()
    role_arn = os.environ.get("TEST_ROLE_ARN")
    if not role_arn:
        return caller
    name = f"integration-{os.environ.get('CODEBUILD_BUILD_NUMBER', 'local')}"
    return assumed_role_session(role_arn, name, caller.region_name or "us-east-1", source=caller)


def outputs_from_stack(stack_name: str) -> dict[str, str]:
    """The stack's outputs in flat form, from CloudFormation."""
    stacks = aws_session().client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stacks[0].get("Outputs", [])}


def load_outputs() -> dict[str, str]:
    """Flat outputs from the outputs file, or from `describe_stacks` of STACK_NAME when the file is absent."""
    path = Path(os.environ.get("OUTPUTS_FILE", DEFAULT_OUTPUTS_FILE))
    if not path.exists():
        stack_name = os.environ.get("STACK_NAME")
        if not stack_name:
            raise pytest.UsageError(f"{path} does not exist and STACK_NAME is not set: no outputs to test against")
        outputs = outputs_from_stack(stack_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(outputs, indent=2) + "\n")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def outputs() -> dict[str, str]:
    return load_outputs()


@pytest.fixture(scope="session")
def output(outputs: dict[str, str]) -> Callable[[str], str]:
    """The named output's value; a missing or empty output fails the test, naming it."""

    def get(name: str) -> str:
        value = outputs.get(name)
        assert value, f"stack output {name} is missing or empty (outputs present: {', '.join(sorted(outputs))})"
        return value

    return get


@pytest.fixture(scope="session")
def settings() -> EnvironmentSettings:
    """The deployed environment's configuration, as cdk.json defines it."""
    return load_config_file().environment(os.environ.get("ENVIRONMENT", "dev"))


@pytest.fixture(scope="session")
def aws() -> Callable[[str], Any]:
    """boto3 clients of the suite's session (aws_session), one per service."""
    session = aws_session()
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = session.client(service)
        return clients[service]

    return client
