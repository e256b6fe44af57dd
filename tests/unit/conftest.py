"""The CDK unit tests read the app synthesized ONCE per session (the `synth` fixture in tests/conftest.py).

Names the unit tests import from here are defined in `tests/support/synthesis.py`.
"""

from __future__ import annotations

from tests.support.synthesis import ENVIRONMENTS, REPO_ROOT, Synth, cdk_context

__all__ = ["ENVIRONMENTS", "REPO_ROOT", "Synth", "cdk_context"]
