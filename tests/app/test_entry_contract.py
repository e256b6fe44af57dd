"""TapStack / TapStackProps public API."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment

from lib.tap_stack import TapStack, TapStackProps
from platform_config import EnvironmentSettings


def test_props_defaults_to_dev() -> None:
    props = TapStackProps()
    assert props.environment_suffix == "dev"
    assert props.settings.name == "dev"
    assert props.stack_kwargs() == {}


def test_props_carry_stack_props_and_settings() -> None:
    settings = EnvironmentSettings(name="staging")
    env = Environment(account="333333333333", region="us-east-1")
    props = TapStackProps(environment_suffix="staging", settings=settings, env=env, description="d")
    assert props.settings is settings
    assert props.stack_kwargs() == {"env": env, "description": "d"}


def test_stack_builds_with_default_props() -> None:
    stack = TapStack(App(), "TapStackDev")
    assert stack.environment_suffix == "dev"
    assert stack.database.identifier == "iot-dev-postgres"


def test_outputs_reject_wrong_names() -> None:
    from aws_cdk import Stack

    from lib.outputs import Outputs

    with pytest.raises(ValueError, match="missing"):
        Outputs(Stack(), "Outputs", values={"VpcId": "x"})
