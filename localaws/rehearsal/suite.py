"""The integration suite (`tests/integration`) run against a deployed stage, as the pipeline's integration step runs
it: a child pytest with the standard AWS environment, OUTPUTS_FILE and ENVIRONMENT; its JUnit report gives the counts
(a skipped check counts as failed: it did not pass)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from platform_config.loader import REPO_ROOT

SMOKE = ("-m", "smoke")


@dataclass
class SuiteResult:
    passed: int
    failed: int
    report: Path
    output: str

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.passed > 0


def count(report: Path) -> tuple[int, int]:
    if not report.exists():
        return 0, 1
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed + skipped


def run_suite(env: dict[str, str], report: Path, *pytest_args: str, timeout: float = 900) -> SuiteResult:
    """`pytest tests/integration` with ``env`` (AWS_*, OUTPUTS_FILE, ENVIRONMENT, ...) over the caller's environment."""
    suite_env = {**os.environ, **env}
    suite_env.pop("STACK_NAME", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/integration",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfE",
            "--no-header",
            f"--junitxml={report}",
            *pytest_args,
        ],
        cwd=REPO_ROOT,
        env=suite_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    report.with_suffix(".log").write_text(output)
    passed, failed = count(report)
    return SuiteResult(passed, failed, report, output)
