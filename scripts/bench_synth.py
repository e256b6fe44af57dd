#!/usr/bin/env python3
"""Synth benchmark: median wall time of `cdk synth` of the whole app vs a bare one-stack CDK app.

Both run through the same pinned CLI, Node.js and Python on this machine; the bare app has one stack with one
resource and the same context (feature flags, stack traces off). Prints both medians and their ratio,
ending with `synth_ratio=<x>`.
Usage: bench_synth.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
BARE_APP = """\
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs

app = App()
sqs.Queue(Stack(app, "Bare"), "Queue", enforce_ssl=True)
app.synth()
"""


def time_synth(app_dir: Path, outdir: Path) -> float:
    command = [str(CDK), "synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", str(outdir)]
    start = time.perf_counter()
    subprocess.run(command, cwd=app_dir, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        bare_dir = Path(tmp, "bare")
        bare_dir.mkdir()
        cdk_json = json.loads((REPO_ROOT / "cdk.json").read_text())
        context = {k: v for k, v in cdk_json["context"].items() if k != "platform"}
        app_command = f"{sys.executable} app.py"
        (bare_dir / "cdk.json").write_text(json.dumps({"app": app_command, "context": context}))
        (bare_dir / "app.py").write_text(BARE_APP)
        time_synth(bare_dir, Path(tmp, "warmup"))  # warm file caches once
        whole, bare = [], []
        for run in range(runs):
            whole.append(time_synth(REPO_ROOT, Path(tmp, f"whole-{run}")))
            bare.append(time_synth(bare_dir, Path(tmp, f"bare-{run}")))
    whole_median, bare_median = statistics.median(whole), statistics.median(bare)
    print(f"runs: {runs}")
    print(f"whole app synth (median): {whole_median:.2f}s  runs: {', '.join(f'{t:.2f}' for t in whole)}")
    print(f"bare one-stack app synth (median): {bare_median:.2f}s  runs: {', '.join(f'{t:.2f}' for t in bare)}")
    print(f"synth_ratio={whole_median / bare_median:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
