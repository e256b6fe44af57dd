"""Config of issue 5: notifications (pipeline) and monitoring (per environment), validated with one sentence."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from platform_config import ConfigError, load_config
from tests.assembly import cdk_context


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return cdk_context()["platform"]


def _set(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(raw)
    *parents, leaf = dotted.split(".")
    node = changed
    for part in parents:
        node = node[part]
    node[leaf] = value
    return changed


def test_committed_values(raw: dict[str, Any]) -> None:
    config = load_config(raw)
    assert config.pipeline.notifications.emails == ("platform-team@example.com",)
    assert config.environment("staging").monitoring.bake_minutes == 30
    assert config.environment("prod").monitoring.rollback_on_alarm
    assert not config.environment("staging").monitoring.rollback_on_alarm


def test_defaults_when_omitted(raw: dict[str, Any]) -> None:
    trimmed = copy.deepcopy(raw)
    del trimmed["pipeline"]["notifications"]
    del trimmed["environments"]["dev"]["monitoring"]
    config = load_config(trimmed)
    assert config.pipeline.notifications.emails == ()
    assert config.environment("dev").monitoring.bake_minutes == 0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "pipeline.notifications.emails",
            ["ops"],
            'pipeline.notifications.emails must only list e-mail addresses such as ops@example.com, got "ops".',
        ),
        (
            "pipeline.notifications.emails",
            "ops@example.com",
            'pipeline.notifications.emails must be a list of strings, got "ops@example.com".',
        ),
        (
            "pipeline.notifications.slack_channel_id",
            "general",
            'pipeline.notifications.slack_channel_id must be empty or a Slack channel id (C...), got "general".',
        ),
        (
            "pipeline.notifications.slack_workspace_id",
            "T0123ABCD",
            "pipeline.notifications.slack_channel_id must be set when the other Slack setting is (a Slack channel "
            'needs both ids), got "".',
        ),
        (
            "pipeline.notifications.pager",
            "x",
            "pipeline.notifications.pager is not a known setting.",
        ),
        (
            "environments.staging.monitoring.bake_minutes",
            -5,
            "environments.staging.monitoring.bake_minutes must be between 0 and 720, got -5.",
        ),
        (
            "environments.prod.monitoring.rollback_on_alarm",
            "yes",
            'environments.prod.monitoring.rollback_on_alarm must be true or false, got "yes".',
        ),
        (
            "environments.prod.monitoring.iterator_age_alarm_ms",
            30000,
            "environments.prod.monitoring.iterator_age_alarm_ms must exceed service.max_iterator_age_ms (30000), "
            "where scaling already reacts, got 30000.",
        ),
        (
            "environments.dev.monitoring.alarm_emails",
            ["not-an-address"],
            "environments.dev.monitoring.alarm_emails must only list e-mail addresses such as ops@example.com, "
            'got "not-an-address".',
        ),
    ],
)
def test_invalid_values_name_the_key(raw: dict[str, Any], key: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(_set(raw, key, value))
    assert str(error.value) == f"Invalid config: {message}"
