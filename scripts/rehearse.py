#!/usr/bin/env python3
"""`make rehearse`: the synthesized stage (cdk.out, written by `make synth`) deployed into moto as CDK Pipelines
deploys it, its services run locally, the integration suite run against it, then the day-2 scenarios (rotation,
scale-out, the next push, a minor upgrade, the health gates) and the review scenarios (diff, guard, drift) on the same
emulated account (localaws/rehearsal).

Prints the suite's output, each scenario with what it proved, where the logs are and the timings, and ends with the
line `integration_passed=<n> integration_failed=<m> day2_passed=<p> day2_failed=<q> review_passed=<r>
review_failed=<s>`; exits non-zero when anything failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from localaws.rehearsal import day2, review
from localaws.rehearsal.deploy import DeploymentFailed
from localaws.rehearsal.runner import RehearsalStopped, rehearse, summary_line
from localaws.rehearsal.tasks import TaskFailed
from platform_config.assembly import CDK_OUT, CloudAssembly
from platform_config.loader import REPO_ROOT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--environment", default="dev", help="the stage to rehearse (dev, staging or prod)")
    parser.add_argument("--cdk-out", type=Path, default=CDK_OUT, help="the cloud assembly (default: cdk.out)")
    parser.add_argument("--no-day2", action="store_true", help="stop after the integration suite")
    parser.add_argument("--no-review", action="store_true", help="skip the review scenarios")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for the integration suite's pytest")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="iot-rehearsal-"))
    try:
        result = rehearse(
            CloudAssembly.read(args.cdk_out),
            args.environment,
            workdir=workdir,
            pytest_args=tuple(args.pytest_args),
            day2=None if args.no_day2 else day2.scenarios,
            review=None if args.no_review else review.scenarios,
        )
    except (DeploymentFailed, TaskFailed, RehearsalStopped) as error:  # nothing after this could run: all failed
        print(f"rehearsal stopped: {error}\nlogs: {workdir}")
        day2_failed = 0 if args.no_day2 else len(day2.NAMES)
        review_failed = 0 if args.no_review else len(review.NAMES)
        print(summary_line((0, 1), (0, day2_failed), (0, review_failed)))
        return 1
    (REPO_ROOT / "cfn-outputs").mkdir(exist_ok=True)
    (REPO_ROOT / "cfn-outputs" / "flat-outputs.json").write_text(
        (workdir / "cfn-outputs" / "flat-outputs.json").read_text()
    )
    print(result.output)
    for scenario in (*result.day2, *result.review):
        print(scenario)
    print(f"logs, outputs and JUnit reports: {workdir}")
    print("timings: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.timings.items()))
    print(result.summary)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
