"""Lead-time figures of a synthesized pipeline template: the critical path of sequential actions and the CodeBuild
projects its actions run. Used by scripts/bench_pipeline.py and the unit tests.

CodePipeline runs its stages one after the other and, inside a stage, the actions of one RunOrder side by side and
the RunOrders one after the other; a stage's on-success condition (a health gate that watches alarms for a while) runs
after its actions. The critical path from the source to prod's last step is therefore one entry per RunOrder of every
stage up to the last one that deploys, plus one per on-success condition; the manual approval waits for a person, not
for the pipeline, so a RunOrder holding only approvals is not counted.
"""

from __future__ import annotations

import json
from typing import Any


def pipeline_stages(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The Stages of the template's one CodePipeline."""
    (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return stages


def run_orders(template: dict[str, Any]) -> dict[str, dict[str, int]]:
    """RunOrder of every action, by stage name and action name."""
    return {s["Name"]: {a["Name"]: a.get("RunOrder", 1) for a in s["Actions"]} for s in pipeline_stages(template)}


def critical_path(template: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """The sequential steps up to the last deploying stage: (stage, actions running side by side), in order."""
    stages = pipeline_stages(template)
    deploying = [i for i, s in enumerate(stages) if any(_category(a) == "Deploy" for a in s["Actions"])]
    last = deploying[-1] if deploying else len(stages) - 1
    path: list[tuple[str, tuple[str, ...]]] = []
    for stage in stages[: last + 1]:
        by_order: dict[int, list[str]] = {}
        for action in stage["Actions"]:
            if _category(action) != "Approval":
                by_order.setdefault(action.get("RunOrder", 1), []).append(action["Name"])
        path.extend((stage["Name"], tuple(sorted(by_order[order]))) for order in sorted(by_order))
        for condition in stage.get("OnSuccess", {}).get("Conditions", []):
            path.append((stage["Name"], tuple(f"OnSuccess:{rule['Name']}" for rule in condition["Rules"])))
    return path


def codebuild_projects(template: dict[str, Any]) -> int:
    """How many CodeBuild projects the pipeline's actions run (not those beside it: pull requests, drift detection)."""
    names = {
        json.dumps(action["Configuration"]["ProjectName"], sort_keys=True)
        for stage in pipeline_stages(template)
        for action in stage["Actions"]
        if action["ActionTypeId"].get("Provider") == "CodeBuild"
    }
    return len(names)


def _category(action: dict[str, Any]) -> str:
    category: str = action["ActionTypeId"]["Category"]
    return category
