"""The review as people and tools read it: a Markdown report (the build log and the approver), JSON, a JUnit file for a
CodeBuild report group (one case per changed resource; a guard stop fails its case), and the one-line summary the
manual approval and its notification carry."""

from __future__ import annotations

import json
from dataclasses import asdict
from xml.etree import ElementTree as ET

from preflight.review.changes import MAYBE, YES, ResourceChange, StackChanges

SYMBOLS = {"Add": "+", "Remove": "-", "Modify": "~"}


def headline(name: str, changes: StackChanges) -> str:
    """The line an approver reads first, e.g. "prod: 0 added, 1 modified (0 replaced), 0 removed, 0 IAM/network"."""
    if changes.empty:
        return f"{name}: no change"
    return f"{name}: {changes.summary()}"


def _what(change: ResourceChange) -> str:
    if change.action != "Modify":
        return change.action.lower()
    text = "modify " + ", ".join(change.properties)
    if change.replacement in (YES, MAYBE):
        text += f"; {change.replacement.upper()} ({', '.join(change.causes)})"
    return text


def markdown(name: str, changes: StackChanges, stops: list[str]) -> str:
    lines = [f"# Change review: {headline(name, changes)}", "", f"Stack `{changes.stack}`.", ""]
    if stops:
        lines += ["## Stopped by the stateful-replacement guard", "", *(f"- {stop}" for stop in stops), ""]
    if changes.resources:
        lines += ["| | resource | type | change | IAM/network |", "|---|---|---|---|---|"]
        for change in changes.resources:
            flag = "yes" if change.security else ""
            lines.append(
                f"| {SYMBOLS[change.action]} | `{change.path}` | {change.resource_type} | {_what(change)} | {flag} |"
            )
        lines.append("")
    if changes.outputs:
        lines += ["Outputs: " + ", ".join(f"{SYMBOLS[a]}{n}" for n, a in changes.outputs.items()), ""]
    if changes.empty:
        lines += ["Nothing changes: the deployed stack is what this revision would deploy.", ""]
    return "\n".join(lines)


def as_json(name: str, changes: StackChanges, stops: list[str]) -> str:
    document = {
        "environment": name,
        "stack": changes.stack,
        "summary": headline(name, changes),
        "resources": [asdict(c) | {"security": c.security} for c in changes.resources],
        "outputs": changes.outputs,
        "stopped": stops,
    }
    return json.dumps(document, indent=2) + "\n"


def junit(name: str, changes: StackChanges, stops: list[str]) -> str:
    suite = ET.Element("testsuite", name=f"review {name}", tests=str(max(1, len(changes.resources))))
    stopped = {stop.split(" (")[0].split(": ", 1)[1]: stop for stop in stops}
    for change in changes.resources:
        case = ET.SubElement(suite, "testcase", classname=changes.stack, name=f"{change.path} {_what(change)}")
        if change.path in stopped:
            ET.SubElement(case, "failure", message=stopped[change.path])
    if not changes.resources:
        ET.SubElement(suite, "testcase", classname=changes.stack, name="no change")
    suite.set("failures", str(len(stops)))
    return ET.tostring(suite, encoding="unicode")
