#!/usr/bin/env python3
"""`make rehearse`: deploy the synthesized dev stage (cdk.out, written by `make synth`) into moto, run the processor on
it and the integration suite against it.

Prints the suite's output, where the logs are, the timings, and ends with the line
`integration_passed=<n> integration_failed=<m>`; exits non-zero when a check failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from localaws.rehearsal import rehearse
from platform_config.assembly import CDK_OUT, CloudAssembly
from platform_config.loader import REPO_ROOT
from platform_config.naming import stack_name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--environment", default="dev", help="the stage to rehearse (dev, staging or prod)")
    parser.add_argument("--cdk-out", type=Path, default=CDK_OUT, help="the cloud assembly (default: cdk.out)")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for the integration suite's pytest")
    args = parser.parse_args()
    stack = CloudAssembly.read(args.cdk_out).stack(stack_name(args.environment))
    workdir = Path(tempfile.mkdtemp(prefix="iot-rehearsal-"))
    result = rehearse(
        stack.template,
        stack_name=stack.name,
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
    print(f"rehearsal {result.total_seconds:.1f}s (create_stack {result.deploy_seconds:.1f}s)")
    print(result.summary)
    return 0 if result.failed == 0 and result.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
