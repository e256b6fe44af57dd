"""Tests that build the CDK app, or parts of it, in-process: the entry contract (TapStack, TapStackProps), the gates'
own behaviour, and configurations the committed one cannot show (every environment in one account, prod in two
regions). Everything else asserts on the one cloud assembly `make synth` writes (tests/unit)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from platform_config import cdk_context, load_config
from platform_config.assembly import CloudAssembly
from platform_config.loader import REPO_ROOT
from tests.assembly import Synth

# jsii runs on the pinned Node.js 22 from package.json (npm's `node` package), as `make synth` does.
_NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
if _NODE_BIN.is_dir() and not os.environ.get("PATH", "").startswith(str(_NODE_BIN)):
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

SECOND_PROD_REGION = {"region": "eu-west-1", "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}


def synthesize(outdir: Path, platform: dict[str, Any]) -> Synth:
    """The whole app with every gate, for ``platform`` instead of cdk.json's, synthesized in-process into ``outdir``."""
    from aws_cdk import App

    from app import build_app

    context = cdk_context()
    context["platform"] = platform
    context["aws:cdk:enable-path-metadata"] = True
    context["aws:cdk:disable-stack-trace"] = True  # as the CLI sets it without --debug: creation traces cost seconds
    app = App(outdir=str(outdir), context=context)
    build_app(app)
    app.synth()
    return Synth(CloudAssembly.read(outdir), load_config(platform))


@pytest.fixture(scope="session")
def single_account_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Every environment in the pipeline's account, prod deployed to us-east-1 and eu-west-1 side by side, and its
    approval skipped when its review finds no change (the options off in cdk.json; one synth shows them all)."""
    platform = copy.deepcopy(cdk_context()["platform"])
    for env in platform["environments"].values():
        env["account"] = platform["pipeline"]["account"]
    platform["environments"]["prod"]["additional_regions"] = [SECOND_PROD_REGION]
    platform["environments"]["prod"]["review"]["skip_approval_without_changes"] = True
    return synthesize(tmp_path_factory.mktemp("single-account"), platform)
