"""Session fixtures shared by every test directory: the CDK app synthesized once per session.

`tests/integration` is the post-deployment suite: it needs a deployed stack's outputs, so it is collected only when
named on the command line (the pipeline's integration step, `make rehearse`); `make test` runs it through the
rehearsal in `tests/rehearsal`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.synthesis import Synth, synthesize  # noqa: E402

INTEGRATION_DIR = REPO_ROOT / "tests" / "integration"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect tests/integration only when a command-line argument names it (or something inside it)."""
    if collection_path != INTEGRATION_DIR:
        return None
    named = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return not any(p == INTEGRATION_DIR or INTEGRATION_DIR in p.parents for p in named)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk.out"))
