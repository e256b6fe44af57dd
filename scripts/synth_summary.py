#!/usr/bin/env python3
"""Gate and summary after `cdk synth`: the stacks, and every validation finding.

Prints the stacks with their resource counts and the findings of each validation plugin (cdk-nag, CloudFormation's
validation engine with validation/*.rego), acknowledged vs unacknowledged, from cdk.out/validation-report.json. Exits 1
when any finding is unacknowledged: the engine reports some real defects (an invalid enum value, an open security
group) as warnings, which `cdk synth` itself lets through.
Usage: synth_summary.py [CDK_OUT_DIR]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any


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


def plugin_reports(cdk_out: Path) -> list[dict[str, Any]]:
    """The validation plugins' reports `cdk synth` wrote (none when no plugin ran)."""
    report_file = cdk_out / "validation-report.json"
    if not report_file.exists():
        return []
    reports: list[dict[str, Any]] = json.loads(report_file.read_text()).get("pluginReports", [])
    return reports


def validation_findings(reports: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(acknowledged, unacknowledged) finding counts per validation plugin."""
    counts: dict[str, tuple[int, int]] = {}
    for plugin in reports:
        acknowledged = sum(len(v["violatingConstructs"]) for v in plugin.get("suppressedViolations", []))
        open_findings = sum(len(v["violatingConstructs"]) for v in plugin.get("violations", []))
        counts[plugin["pluginName"]] = (acknowledged, open_findings)
    return counts


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
    reports = plugin_reports(cdk_out)
    findings = validation_findings(reports)
    unacknowledged = 0
    for plugin, (acknowledged, open_findings) in findings.items():
        print(f"{plugin}: {acknowledged} acknowledged, {open_findings} unacknowledged")
        unacknowledged += open_findings
    for plugin in reports:
        for violation in plugin.get("violations", []):
            for construct in violation["violatingConstructs"]:
                print(f"  {violation['ruleName']} {construct['constructPath']}: {violation['description']}")
    ok = unacknowledged == 0 and bool(templates) and bool(findings)
    print("synth gates: PASS" if ok else "synth gates: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
