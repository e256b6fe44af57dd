"""One moto server (localaws.moto_server, every model applied) for the tests of the models, and clients of it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localaws.rehearsal.account import Account
from localaws.servers import MotoServer, aws_environment

REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(log_path=tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def account(moto_server: MotoServer) -> Account:
    """An account of the emulator (moto's default), with static credentials."""
    return Account(aws_environment(moto_server.endpoint, REGION), "123456789012", REGION, "hnb659fds")


@pytest.fixture
def client(account: Account) -> Callable[[str], Any]:
    return account.client


@pytest.fixture
def deploy(account: Account) -> Callable[..., dict[str, Any]]:
    """create_stack or update_stack of a template (dict) under a name; returns describe_stacks' stack."""
    cloudformation = account.client("cloudformation")

    def run(name: str, template: dict[str, Any], update: bool = False) -> dict[str, Any]:
        call = cloudformation.update_stack if update else cloudformation.create_stack
        call(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
        deadline = time.monotonic() + 30
        while True:
            stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
            if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
                return stack
            time.sleep(0.2)

    return run


def physical_ids(account: Account, stack: str) -> dict[str, str]:
    """Each resource's physical id by its logical id."""
    resources = account.client("cloudformation").list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
