"""Every tool every CodeBuild project of the pipeline runs is pinned: Node.js, the CDK CLI and cdk-assets at the
versions package.json pins, Python packages from pinned (hash-pinned, for the steps that reach an environment)
requirement files, base images from ECR Public by tag, and the processor's tests before any asset is published."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pipeline.steps.processor_tests import processor_base_image
from tests.assembly import REPO_ROOT, Synth
from tests.unit.templates import buildspec

PACKAGE = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]


def _projects(synth: Synth) -> dict[str, dict[str, Any]]:
    return {synth.path_of("pipeline", k): r for k, r in synth.resources("pipeline", "AWS::CodeBuild::Project").items()}


def _commands(spec: dict[str, Any]) -> list[str]:
    return [c for phase in spec.get("phases", {}).values() for c in phase.get("commands", [])]


def test_every_cdk_pipelines_project_runs_the_pinned_node(synth: Synth) -> None:
    major = PACKAGE["node"].split(".")[0]
    for path, project in _projects(synth).items():
        image = project["Properties"]["Environment"]["Image"]
        spec = buildspec(synth, project)
        if path.endswith("/ProcessorTests/Resource"):  # the processor's own base image, which needs no Node.js
            assert image == processor_base_image()
            continue
        assert image == "aws/codebuild/standard:7.0", path
        assert spec["phases"]["install"]["runtime-versions"]["nodejs"] == major, path


def test_self_mutation_and_asset_publishing_use_the_pinned_cli_versions(synth: Synth) -> None:
    commands = {path: _commands(buildspec(synth, p)) for path, p in _projects(synth).items()}
    (mutation,) = [c for path, c in commands.items() if "/UpdatePipeline/SelfMutation" in path]
    assert f"npm install -g aws-cdk@{PACKAGE['aws-cdk']}" in mutation
    publishers = [c for path, c in commands.items() if "/Assets/" in path]
    assert len(publishers) == 2
    for publisher in publishers:
        assert f"npm install -g cdk-assets@{PACKAGE['cdk-assets']}" in publisher
    installs = [c for cs in commands.values() for c in cs if "npm install" in c]
    assert all(re.search(r"@\d+\.\d+\.\d+$", c) for c in installs), installs  # never a range or "latest"


def test_python_packages_come_only_from_pinned_requirement_files(synth: Synth) -> None:
    for path, project in _projects(synth).items():
        for command in _commands(buildspec(synth, project)):
            if "pip install" in command:
                assert "--require-hashes" in command and " -r " in command, (path, command)
        # The steps that reach an environment's account install nothing another project could have cached.
        if any(step in path for step in ("Preflight", "IntegrationTests", "Review", "DriftDetection")):
            assert project["Properties"]["Cache"] == {"Type": "NO_CACHE"}, path
    for requirements in (
        "preflight/requirements.txt",
        "preflight/review/requirements.txt",
        "tests/integration/requirements.txt",
    ):
        entries = [line for line in (REPO_ROOT / requirements).read_text().splitlines() if re.match(r"^[a-z]", line)]
        assert entries and all(re.match(r"^[A-Za-z0-9_.-]+==[^ ]+ \\$", e) for e in entries), requirements


def test_images_come_from_ecr_public_pinned_by_tag() -> None:
    dockerfile = (REPO_ROOT / "services" / "processor" / "Dockerfile").read_text()
    image = processor_base_image()
    assert re.fullmatch(r"public\.ecr\.aws/docker/library/python:3\.11\.\d+-slim-bookworm", image)
    # No Docker Hub pull, not even a BuildKit frontend: tests/processor/test_image.py pins the Dockerfile's directives.
    froms = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert froms and all(f == "${PYTHON_IMAGE}" for f in froms)


def test_processor_tests_run_beside_the_synth_before_any_asset_is_published(synth: Synth) -> None:
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    stages = pipeline["Properties"]["Stages"]
    names = [s["Name"] for s in stages]
    build = stages[names.index("Build")]
    orders = {a["Name"]: a["RunOrder"] for a in build["Actions"]}
    assert orders["ProcessorTests"] == orders["Synth"]
    assert names.index("Build") < names.index("Assets")
    (project,) = [p for path, p in _projects(synth).items() if path.startswith("Pipeline/BesideSynth/ProcessorTests/")]
    commands = _commands(buildspec(synth, project))
    assert any(c.startswith(".venv/bin/python -m pytest tests/processor") for c in commands)


def test_package_json_pins_exact_versions() -> None:
    assert set(PACKAGE) == {"aws-cdk", "cdk-assets", "node"}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in PACKAGE.values())
    lock = json.loads(Path(REPO_ROOT / "package-lock.json").read_text())["packages"]
    for name, version in PACKAGE.items():
        assert lock[f"node_modules/{name}"]["version"] == version
