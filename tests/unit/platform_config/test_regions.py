"""Multi-account and multi-region config: each environment in its own account, and additional regions that deploy
an environment side by side in its wave; every error is one sentence naming the key."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from platform_config import ConfigError, load_config
from tests.assembly import cdk_context

EU = {"region": "eu-west-1", "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}


@pytest.fixture
def raw() -> dict[str, Any]:
    return copy.deepcopy(cdk_context()["platform"])


def test_committed_config_is_multi_account(raw: dict[str, Any]) -> None:
    config = load_config(raw)
    accounts = [env.account for env in config.environments]
    assert len(set(accounts)) == 3 and config.pipeline.account not in accounts
    assert config.cross_account
    assert [d.name for env in config.environments for d in config.deployments(env)] == ["dev", "staging", "prod"]


def test_single_account_config_needs_no_cross_account_keys(raw: dict[str, Any]) -> None:
    for env in raw["environments"].values():
        env["account"] = raw["pipeline"]["account"]
    assert not load_config(raw).cross_account


def test_additional_region_deploys_the_environment_again(raw: dict[str, Any]) -> None:
    raw["environments"]["prod"]["additional_regions"] = [EU, {**EU, "region": "eu-central-1", "account": "555555555555",
        "availability_zones": ["eu-central-1a", "eu-central-1b", "eu-central-1c"]}]  # fmt: skip
    config = load_config(raw)
    prod, eu, frankfurt = config.deployments(config.environment("prod"))
    assert (eu.name, eu.region, eu.account) == ("prod-eu-west-1", "eu-west-1", prod.account)
    assert eu.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    assert eu.database == prod.database and eu.requires_approval  # same sizes and gates as the environment
    assert (frankfurt.name, frankfurt.account) == ("prod-eu-central-1", "555555555555")
    assert config.environment("prod-eu-west-1") == eu  # `make preflight ENV=prod-eu-west-1`
    for env in raw["environments"].values():
        env["account"] = raw["pipeline"]["account"]
    assert load_config(raw).cross_account  # the Frankfurt deployment is in another account


CASES = [
    ("x", "environments.prod.additional_regions must be a list of objects with region and availability_zones"),
    (["eu-west-1"], "environments.prod.additional_regions[0] must be an object"),
    ([{**EU, "region": "mars-1"}], "environments.prod.additional_regions[0].region must be an AWS region name"),
    ([{**EU, "region": "us-east-1"}], "additional_regions[0].region must differ from the environment's other regions"),
    ([EU, EU], "environments.prod.additional_regions[1].region must differ from the environment's other regions"),
    ([{"region": "eu-west-1"}], "environments.prod.additional_regions[0].availability_zones is required."),
    (
        [{**EU, "availability_zones": ["eu-west-1a", "us-east-1b"]}],
        "availability_zones must only name zones of eu-west-1",
    ),
    (
        [{**EU, "availability_zones": ["eu-west-1a"]}],
        "[0].availability_zones must list at least two availability zones",
    ),
    ([{**EU, "availability_zones": ["eu-west-1a", "eu-west-1b"]}], "must list at least network.nat_gateways (3) zones"),
    ([{**EU, "account": "42"}], "environments.prod.additional_regions[0].account must be empty or a 12-digit AWS"),
    ([{**EU, "size": 1}], "environments.prod.additional_regions[0].size is not a known setting."),
]


@pytest.mark.parametrize(("value", "message"), CASES, ids=[str(c[0])[:50] for c in CASES])
def test_invalid_additional_regions_is_one_sentence_naming_the_key(
    raw: dict[str, Any], value: Any, message: str
) -> None:
    raw["environments"]["prod"]["additional_regions"] = value
    with pytest.raises(ConfigError) as error:
        load_config(raw)
    text = str(error.value)
    assert text.startswith("Invalid config: ") and message in text
    assert text.endswith(".") and "\n" not in text
