#!/usr/bin/env python3
"""Gate and summary after `cdk synth`: cfn-lint over every template, then a short report.

Prints the stacks with their resource counts, cdk-nag / CloudFormation-validation findings (acknowledged vs
unacknowledged, from cdk.out/validation-report.json) and the cfn-lint result. Exits 1 when cfn-lint reports any
finding outside CFN_LINT_IGNORES or when any validation finding is unacknowledged.
Usage: synth_summary.py [CDK_OUT_DIR]
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

# cfn-lint checks ignored for every template, each for something CDK itself generates (or the design pins):
CFN_LINT_IGNORES = (
    "W3005",  # CDK adds an explicit DependsOn (ECS service -> listener, pipeline -> role policy) beside a Ref/GetAtt.
    "E3703",  # CDK renders ARNs as Fn::Join with an empty delimiter (pipelines' cross-account roles); valid as is.
    "W3010",  # Availability zones are pinned in cdk.json on purpose: synth must never look them up.
)


def stack_templates(cdk_out: Path) -> dict[str, Path]:
    """Every CloudFormation stack in the cloud assembly (nested stage assemblies included), by display name."""
    found: dict[str, Path] = {}

    def walk(directory: Path) -> None:
        manifest = json.loads((directory / "manifest.json").read_text())
        for artifact_id, artifact in manifest.get("artifacts", {}).items():
            if artifact["type"] == "aws:cloudformation:stack":
                name = artifact.get("displayName", artifact_id)
                found[name] = directory / artifact["properties"]["templateFile"]
            elif artifact["type"] == "cdk:cloud-assembly":
                walk(directory / artifact["properties"]["directoryName"])

    walk(cdk_out)
    return dict(sorted(found.items()))


def validation_findings(cdk_out: Path) -> dict[str, tuple[int, int]]:
    """(acknowledged, unacknowledged) finding counts per validation plugin."""
    report_file = cdk_out / "validation-report.json"
    if not report_file.exists():
        return {}
    report = json.loads(report_file.read_text())
    counts: dict[str, tuple[int, int]] = {}
    for plugin in report.get("pluginReports", []):
        acknowledged = sum(len(v["violatingConstructs"]) for v in plugin.get("suppressedViolations", []))
        open_findings = sum(len(v["violatingConstructs"]) for v in plugin.get("violations", []))
        counts[plugin["pluginName"]] = (acknowledged, open_findings)
    return counts


def run_cfn_lint(templates: list[Path]) -> list[str]:
    """cfn-lint findings (parseable lines) over the templates, minus the ignore list."""
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    command = [str(cfn_lint), "--format", "parseable", "--ignore-checks", *CFN_LINT_IGNORES, "--", *map(str, templates)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) and not result.stdout:
        return [f"cfn-lint failed to run: {result.stderr.strip()}"]
    return [line for line in result.stdout.splitlines() if line.strip()]


def main(argv: list[str]) -> int:
    cdk_out = Path(argv[1] if len(argv) > 1 else "cdk.out")
    templates = stack_templates(cdk_out)
    print(f"Stacks: {len(templates)}")
    for name, template_file in templates.items():
        resources = json.loads(template_file.read_text()).get("Resources", {})
        top = ", ".join(
            f"{t.split('::', 1)[1]} {n}" for t, n in Counter(r["Type"] for r in resources.values()).most_common(3)
        )
        print(f"  {name}: {len(resources)} resources ({top}, ...)")
    findings = validation_findings(cdk_out)
    unacknowledged = 0
    for plugin, (acknowledged, open_findings) in findings.items():
        print(f"{plugin}: {acknowledged} acknowledged, {open_findings} unacknowledged")
        unacknowledged += open_findings
    lint = run_cfn_lint(list(templates.values()))
    print(f"cfn-lint: {len(templates)} templates, {len(lint)} findings (ignored: {', '.join(CFN_LINT_IGNORES)})")
    for line in lint:
        print(f"  {line}")
    ok = not lint and unacknowledged == 0 and bool(templates)
    print("synth gates: PASS" if ok else "synth gates: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
