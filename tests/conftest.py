"""Test collection and the shared `synth` fixture.

`tests/integration` is the post-deployment suite, which needs a deployed stack's outputs, so it is collected only
when named on the command line (the pipeline's integration step, the rehearsal). `synth` is the cloud assembly
`make synth` wrote, read once per session (tests/assembly.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.assembly import Synth, read_synth

INTEGRATION_DIR = Path(__file__).resolve().parent / "integration"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect tests/integration only when a command-line argument names it (or something inside it)."""
    if collection_path != INTEGRATION_DIR:
        return None
    named = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return not any(p == INTEGRATION_DIR or INTEGRATION_DIR in p.parents for p in named)


@pytest.fixture(scope="session")
def synth() -> Synth:
    return read_synth()
