"""The CDK unit tests read the app synthesized ONCE per session (the `synth` fixture in tests/conftest.py).

Names the unit tests import from here are defined in `tests/support/synthesis.py`. `single_account_synth` is the one
other configuration the tests need (every environment in the pipeline's account, prod in two regions as a wave),
also built once per session.
"""

from __future__ import annotations

import copy

import pytest

from tests.support.synthesis import ENVIRONMENTS, REPO_ROOT, Synth, cdk_context, synthesize

__all__ = ["ENVIRONMENTS", "REPO_ROOT", "SECOND_PROD_REGION", "Synth", "cdk_context"]

SECOND_PROD_REGION = {"region": "eu-west-1", "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}


@pytest.fixture(scope="session")
def single_account_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The whole app, every gate included, with dev, staging and prod all in the pipeline's account, and prod deployed
    to us-east-1 and eu-west-1 side by side."""
    platform = copy.deepcopy(cdk_context()["platform"])
    for env in platform["environments"].values():
        env["account"] = platform["pipeline"]["account"]
    platform["environments"]["prod"]["additional_regions"] = [SECOND_PROD_REGION]
    return synthesize(tmp_path_factory.mktemp("single-account"), platform)
