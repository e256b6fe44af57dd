"""Lead time from a push to prod: the order of every action (RunOrder per stage), the critical path, fail-early
placement of the gates, caching and compute per step, and cross-account keys only for a multi-account config
(the single-account variant is tests/app/test_single_account.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.codebuild import BUILD_CACHE_PATHS
from pipeline.lead_time import codebuild_projects, critical_path, run_orders
from tests.assembly import REPO_ROOT, Synth

# Every action of the pipeline and when it runs: stages one after the other, equal RunOrders side by side.
EXPECTED_ORDER = {
    "Source": {"example-org_iot-sensor-platform": 1},
    "Build": {"Synth": 1, "ProcessorTests": 1, "PreflightDev": 1, "PreflightStaging": 1},
    "UpdatePipeline": {"SelfMutate": 1},
    "Assets": {"DockerAssets": 1, "FileAssets": 1},
    # Every review first, side by side: a guarded change stops before anything deploys.
    "Dev": {
        "ReviewStaging": 1,
        "ReviewProd": 1,
        "IotPlatformAccountSettings.Deploy": 2,
        "Platform.Deploy": 3,
        "IntegrationTests": 4,
    },
    "Staging": {"IotPlatformAccountSettings.Deploy": 1, "Platform.Deploy": 2, "IntegrationTests": 3},
    "PromoteToProd": {"PromoteToProd": 1},
    "Prod": {"Preflight": 1, "IotPlatformAccountSettings.Deploy": 2, "Platform.Deploy": 3, "IntegrationTests": 4},
}
# CDK Pipelines' defaults on this app, with each review right before its environment (scripts/bench_pipeline.py builds
# and counts it).
DEFAULT_CRITICAL_PATH = 27


def _actions(synth: Synth) -> list[tuple[int, dict[str, Any]]]:
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    return [(index, a) for index, stage in enumerate(pipeline["Properties"]["Stages"]) for a in stage["Actions"]]


def _position(synth: Synth, name: str) -> tuple[int, int]:
    """(stage index, RunOrder) of the one action called ``name``."""
    (position,) = [(index, a["RunOrder"]) for index, a in _actions(synth) if a["Name"] == name]
    return position


def _projects(synth: Synth) -> dict[str, dict[str, Any]]:
    return {synth.path_of("pipeline", k): r for k, r in synth.resources("pipeline", "AWS::CodeBuild::Project").items()}


def test_run_order_of_every_action_is_pinned(synth: Synth) -> None:
    assert run_orders(synth.templates["pipeline"]) == EXPECTED_ORDER


def test_critical_path_is_a_third_shorter_than_the_defaults(synth: Synth) -> None:
    path = critical_path(synth.templates["pipeline"])
    assert len(path) == 17 and len(path) <= DEFAULT_CRITICAL_PATH * 2 / 3
    assert path[1] == ("Build", ("PreflightDev", "PreflightStaging", "ProcessorTests", "Synth"))
    assert ("Prod", ("Preflight",)) in path and not any(a == ("PromoteToProd",) for _, a in path)
    # The health conditions wait: they count, as the bake step they replace did.
    assert ("Staging", ("OnSuccess:UsersHurt-staging",)) in path and path[-1] == ("Prod", ("OnSuccess:UsersHurt-prod",))


def test_no_change_set_actions_every_stack_deployed_directly(synth: Synth) -> None:
    deploys = [a for _, a in _actions(synth) if a["ActionTypeId"]["Category"] == "Deploy"]
    assert [a["Name"] for a in deploys] == ["IotPlatformAccountSettings.Deploy", "Platform.Deploy"] * 3
    assert all(a["Configuration"]["ActionMode"] == "CREATE_UPDATE" for a in deploys)


def test_synth_gates_fail_before_any_asset_or_deployment(synth: Synth) -> None:
    """cdk-nag, CloudFormation validation and the unit tests all run in the Synth action, whose stage precedes every
    publish and deploy; only the pre-flights (read-only) run beside it."""
    (synth_stage,) = [index for index, a in _actions(synth) if a["Name"] == "Synth"]
    for index, action in _actions(synth):
        if action["Name"] not in ("Synth", "example-org_iot-sensor-platform"):
            assert index > synth_stage or action["Name"].startswith(("Preflight", "ProcessorTests")), action["Name"]
    (synth_project,) = [p for path, p in _projects(synth).items() if "/Build/Synth/" in path]
    buildspec = json.dumps(synth_project["Properties"]["Source"]["BuildSpec"])
    assert buildspec.index("make synth") < buildspec.index("pytest tests/unit")
    recipe = (REPO_ROOT / "mk" / "cdk.mk").read_text().split("\nsynth:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("$(CDK_SYNTH)") < recipe.index("scripts/synth_summary.py")  # the gates, then the summary


@pytest.mark.parametrize(
    ("environment", "preflight", "cloudformation"),
    [
        ("Dev", "PreflightDev", ["Dev/Platform.Deploy"]),
        ("Staging", "PreflightStaging", ["Staging/Platform.Deploy", "Dev/Platform.Deploy"]),
        ("Prod", "Preflight", ["Prod/Platform.Deploy"]),
    ],
)
def test_preflight_passes_before_cloudformation_is_called(
    synth: Synth, environment: str, preflight: str, cloudformation: list[str]
) -> None:
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    stages = pipeline["Properties"]["Stages"]
    index = {s["Name"]: i for i, s in enumerate(stages)}
    checked_at = _position(synth, preflight)
    for target in cloudformation:
        stage, action = target.split("/")
        (order,) = [a["RunOrder"] for a in stages[index[stage]]["Actions"] if a["Name"] == action]
        assert checked_at < (index[stage], order)
    project = next(p for path, p in _projects(synth).items() if f"/{preflight}/" in path)
    variables = {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}
    assert variables["ENVIRONMENT"] == environment.lower()


def test_pip_and_npm_download_caches_in_the_build_cache_bucket(synth: Synth) -> None:
    (bucket_id,) = [
        k
        for k in synth.resources("pipeline", "AWS::S3::Bucket")
        if synth.path_of("pipeline", k).startswith("Pipeline/BuildCache/")
    ]
    projects = _projects(synth)
    assert len(projects) == 16 and codebuild_projects(synth.templates["pipeline"]) == 13  # 3 beside the pipeline
    for path, project in projects.items():
        cache = project["Properties"]["Cache"]
        if path.startswith("Pipeline/PullRequests/Gates/"):  # pull requests: a bucket of their own
            assert bucket_id not in json.dumps(cache) and "PullRequestsBuildCache" in json.dumps(cache), path
            continue
        # Steps that assume an environment's role, and those on another image, restore nothing another one wrote.
        if any(step in path for step in ("Preflight", "IntegrationTests", "Review", "Drift", "PullRequests/Processor")):
            assert cache == {"Type": "NO_CACHE"}, path
            continue
        assert cache["Type"] == "S3", path
        assert json.dumps(cache["Location"]).count(bucket_id) == 1, path
        buildspec = project["Properties"]["Source"]["BuildSpec"]
        if isinstance(buildspec, str) and buildspec.endswith(".yaml"):  # the asset publisher's, in the assembly
            buildspec = (synth.outdir / buildspec).read_text()
        assert all(cache_path in json.dumps(buildspec) for cache_path in BUILD_CACHE_PATHS), path
    assert not any(".venv" in p or "node_modules" in p for p in BUILD_CACHE_PATHS)  # absolute paths differ per build
    bucket = synth.templates["pipeline"]["Resources"][bucket_id]["Properties"]
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 30


def test_compute_fits_each_step(synth: Synth) -> None:
    sizes = {path: p["Properties"]["Environment"]["ComputeType"] for path, p in _projects(synth).items()}
    assert {p: s for p, s in sizes.items() if s != "BUILD_GENERAL1_SMALL"} == {
        next(p for p in sizes if "/Build/Synth/" in p): "BUILD_GENERAL1_LARGE",
        # CDK Pipelines gives every asset publisher the same compute: the Docker build's.
        next(p for p in sizes if "/Assets/" in p and "Docker" in p): "BUILD_GENERAL1_MEDIUM",
        next(p for p in sizes if "/Assets/" in p and "File" in p): "BUILD_GENERAL1_MEDIUM",
        next(p for p in sizes if "/BesideSynth/ProcessorTests/" in p): "BUILD_GENERAL1_MEDIUM",  # PostgreSQL, Redis
        # Pull requests: the same gates and tests as the synth and the processor tests.
        next(p for p in sizes if "/PullRequests/Gates/" in p): "BUILD_GENERAL1_LARGE",
        next(p for p in sizes if "/PullRequests/ProcessorTests/" in p): "BUILD_GENERAL1_MEDIUM",
    }


def _artifact_key(synth: Synth) -> list[str]:
    return [
        k
        for k in synth.resources("pipeline", "AWS::KMS::Key")
        if "/Pipeline/ArtifactsBucketEncryptionKey" in synth.path_of("pipeline", k)
    ]


def test_multi_account_config_uses_cross_account_keys(synth: Synth) -> None:
    accounts = {synth.stage_stack(env).account for env in ("dev", "staging", "prod")}
    assert len(accounts) == 3 and synth.assembly.stack("Pipeline").account not in accounts
    (key,) = _artifact_key(synth)
    assert synth.templates["pipeline"]["Resources"][key]["Properties"]["EnableKeyRotation"] is True


def _action(name: str, category: str, run_order: int) -> dict[str, Any]:
    return {"Name": name, "ActionTypeId": {"Category": category}, "RunOrder": run_order}


def test_critical_path_counts_run_orders_and_skips_approvals() -> None:
    stages = [
        {"Name": "Source", "Actions": [_action("Repo", "Source", 1)]},
        {"Name": "Prod", "Actions": [_action("Approve", "Approval", 1), _action("Check", "Build", 2),
                                     _action("Warm", "Build", 2), _action("Deploy", "Deploy", 3)]},
        {"Name": "After", "Actions": [_action("Report", "Build", 1)]},
    ]  # fmt: skip
    template = {"Resources": {"P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {"Stages": stages}}}}
    assert critical_path(template) == [("Source", ("Repo",)), ("Prod", ("Check", "Warm")), ("Prod", ("Deploy",))]
    stages[1]["Actions"] = [_action("Approve", "Approval", 1)]  # nothing deploys: the whole pipeline counts
    assert [actions for _, actions in critical_path(template)] == [("Repo",), ("Report",)]
    assert codebuild_projects(template) == 0
