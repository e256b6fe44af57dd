"""Small readers of synthesized templates shared by the unit tests."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.assembly import Synth


def only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))


def text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def actions_of(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def policies_of(synth: Synth, env: str, role_path_part: str) -> list[dict[str, Any]]:
    """Every policy statement attached under a construct path that contains ``role_path_part``."""
    statements = []
    for logical_id, policy in synth.resources(env, "AWS::IAM::Policy").items():
        if role_path_part in synth.path_of(env, logical_id):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def is_subset(expected: Any, actual: Any) -> bool:
    """``expected`` is contained in ``actual``: dicts key by key (recursively), everything else equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and is_subset(v, actual[k]) for k, v in expected.items())
    return bool(expected == actual)


def buildspec(synth: Synth, project: dict[str, Any]) -> dict[str, Any]:
    """A CodeBuild project's buildspec (its resource), each CloudFormation token in it as TOKEN (the asset publishers'
    buildspecs are files in the assembly)."""
    spec = project["Properties"]["Source"]["BuildSpec"]
    if isinstance(spec, str) and spec.endswith(".yaml"):
        spec = (synth.outdir / spec).read_text()
    if isinstance(spec, dict):
        spec = "".join(p if isinstance(p, str) else "TOKEN" for p in spec["Fn::Join"][1])
    document: dict[str, Any] = yaml.safe_load(spec)
    return document
