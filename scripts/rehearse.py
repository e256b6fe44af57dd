#!/usr/bin/env python3
"""`make rehearse`: synthesize the app, deploy the dev stage into moto, run the processor and the integration suite.

Prints the suite's output, where the logs are, the timings, and ends with the line
`integration_passed=<n> integration_failed=<m>`; exits non-zero when a check failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.rehearsal import rehearse  # noqa: E402
from tests.support.synthesis import synthesize  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--environment", default="dev", help="the stage to rehearse (dev, staging or prod)")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for the integration suite's pytest")
    args = parser.parse_args()
    started = time.monotonic()
    synth = synthesize(Path(tempfile.mkdtemp(prefix="iot-rehearsal-cdk-")))
    synth_seconds = time.monotonic() - started
    stack = synth.stage_stack(args.environment)
    workdir = Path(tempfile.mkdtemp(prefix="iot-rehearsal-"))
    result = rehearse(
        synth.templates[args.environment],
        stack_name=stack.stack_name,
        environment=args.environment,
        account=stack.account,
        region=stack.region,
        workdir=workdir,
        pytest_args=tuple(args.pytest_args),
    )
    (REPO_ROOT / "cfn-outputs").mkdir(exist_ok=True)
    (REPO_ROOT / "cfn-outputs" / "flat-outputs.json").write_text(
        (workdir / "cfn-outputs" / "flat-outputs.json").read_text()
    )
    print(result.output)
    print(f"logs, outputs and JUnit report: {workdir}")
    print(
        f"synth {synth_seconds:.1f}s, rehearsal {result.total_seconds:.1f}s (create_stack {result.deploy_seconds:.1f}s)"
    )
    print(result.summary)
    return 0 if result.failed == 0 and result.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
