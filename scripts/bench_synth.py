#!/usr/bin/env python3
"""Synth benchmark. Two ratios, each a median over several runs on this machine:

- `synth_ratio`: one `cdk synth` of the whole app (every gate) over `cdk synth` of a bare one-stack app, both through
  the same pinned CLI, Node.js and Python, with the same context (feature flags, stack traces off).
- `synth_step_ratio`: everything the pipeline's synth step runs (the build commands of buildspecs/synth.yml, read from
  the file: the gated synth, its summary, the unit tests on its cloud assembly) over one whole-app `cdk synth`.

Ends with `synth_ratio=<x> synth_step_ratio=<y>`.
Usage: bench_synth.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from platform_config import cdk_context
from platform_config.loader import REPO_ROOT

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
BARE_APP = """\
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs

app = App()
sqs.Queue(Stack(app, "Bare"), "Queue", enforce_ssl=True)
app.synth()
"""


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def cdk_synth(outdir: Path) -> list[str]:
    return [str(CDK), "synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", str(outdir)]


def synth_step() -> list[str]:
    """The build commands of the pipeline's synth step, as one shell script run from the repository's root."""
    spec = yaml.safe_load((REPO_ROOT / "buildspecs" / "synth.yml").read_text())
    return ["bash", "-euo", "pipefail", "-c", "\n".join(spec["phases"]["build"]["commands"])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    os.environ.setdefault("CI", "true")  # as the buildspec sets it
    with tempfile.TemporaryDirectory() as tmp:
        bare_dir = Path(tmp, "bare")
        bare_dir.mkdir()
        context = {k: v for k, v in cdk_context().items() if k != "platform" and ":account=" not in k}
        (bare_dir / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py", "context": context}))
        (bare_dir / "app.py").write_text(BARE_APP)
        timed(cdk_synth(Path(tmp, "warmup")), bare_dir)  # warm file caches once
        whole, bare, step = [], [], []
        for run in range(runs):
            whole.append(timed(cdk_synth(Path(tmp, f"whole-{run}")), REPO_ROOT))
            bare.append(timed(cdk_synth(Path(tmp, f"bare-{run}")), bare_dir))
            step.append(timed(synth_step(), REPO_ROOT))
    whole_median, bare_median, step_median = (statistics.median(x) for x in (whole, bare, step))

    def listing(times: list[float]) -> str:
        return ", ".join(f"{t:.2f}" for t in times)

    print(f"runs: {runs}")
    print(f"whole app synth (median): {whole_median:.2f}s  runs: {listing(whole)}")
    print(f"bare one-stack app synth (median): {bare_median:.2f}s  runs: {listing(bare)}")
    print(f"pipeline synth step (median): {step_median:.2f}s  runs: {listing(step)}")
    print(f"synth_ratio={whole_median / bare_median:.2f} synth_step_ratio={step_median / whole_median:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
