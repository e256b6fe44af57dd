"""The self-mutating pipeline: V2, CodeConnections on main, one synth with every gate, dev -> staging -> prod."""

from __future__ import annotations

import json
from typing import Any

from pipeline.steps.buildspec import buildspec_document
from platform_config.naming import stage_id
from tests.assembly import Synth, cdk_context


def _pipeline(synth: Synth) -> dict[str, Any]:
    (pipeline,) = [
        r for r in synth.templates["pipeline"]["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    return pipeline["Properties"]


def _stages(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    return {stage["Name"]: stage["Actions"] for stage in _pipeline(synth)["Stages"]}


def test_pipeline_type_v2(synth: Synth) -> None:
    assert _pipeline(synth)["PipelineType"] == "V2"


def test_stage_order(synth: Synth) -> None:
    assert list(_stages(synth)) == [
        "Source", "Build", "UpdatePipeline", "Assets", "Dev", "Staging", "PromoteToProd", "Prod"
    ]  # fmt: skip


def test_source_is_codeconnections_main_on_push(synth: Synth) -> None:
    (source,) = _stages(synth)["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    config = source["Configuration"]
    platform = cdk_context()["platform"]["pipeline"]
    assert config["BranchName"] == "main"
    assert config["DetectChanges"] is True
    assert config["FullRepositoryId"] == platform["repository"]
    assert config["ConnectionArn"] == platform["connection_arn"]


def test_self_mutation(synth: Synth) -> None:
    (action,) = _stages(synth)["UpdatePipeline"]
    assert action["Name"] == "SelfMutate"
    assert action["ActionTypeId"]["Provider"] == "CodeBuild"


def test_assets_published_by_one_project(synth: Synth) -> None:
    assert [a["Name"] for a in _stages(synth)["Assets"]] == ["DockerAssets", "FileAssets"]  # one project per type
    projects = synth.resources("pipeline", "AWS::CodeBuild::Project")
    steps = [a for stage in _stages(synth).values() for a in stage if a["ActionTypeId"]["Provider"] == "CodeBuild"]
    # One project per CodeBuild action (synth, self-mutation, the asset publishers, one per step), and three beside the
    # pipeline: pull-request gates and processor tests, drift detection.
    assert len(projects) == len(steps) + 3
    assert len({json.dumps(a["Configuration"]["ProjectName"]) for a in steps}) == len(steps)


def test_manual_approval_only_before_prod_in_a_stage_of_its_own(synth: Synth) -> None:
    stages = _stages(synth)
    approvals = {
        name: [a["Name"] for a in actions if a["ActionTypeId"]["Category"] == "Approval"]
        for name, actions in stages.items()
    }
    assert {name: found for name, found in approvals.items() if found} == {"PromoteToProd": ["PromoteToProd"]}
    assert len(stages["PromoteToProd"]) == 1  # nothing else: a rollback of the Prod stage never re-asks
    names = list(stages)
    assert names.index("Staging") < names.index("PromoteToProd") < names.index("Prod")


def test_each_environment_deploys_to_its_account(synth: Synth) -> None:
    stages = _stages(synth)
    environments = cdk_context()["platform"]["environments"]
    for name, env in environments.items():
        deploys = [a for a in stages[stage_id(name)] if a["ActionTypeId"]["Category"] == "Deploy"]
        assert deploys
        for action in deploys:
            assert f":{env['account']}:" in json.dumps(action["RoleArn"])


def test_synth_runs_the_gated_synth_then_unit_tests_on_its_assembly(synth: Synth) -> None:
    resources = synth.templates["pipeline"]["Resources"]
    synth_project = next(
        r
        for k, r in resources.items()
        if r["Type"] == "AWS::CodeBuild::Project" and "/Build/Synth/" in synth.path_of("pipeline", k)
    )
    buildspec = json.dumps(synth_project["Properties"]["Source"]["BuildSpec"])
    assert "make synth" in buildspec
    assert "pytest tests/unit" in buildspec
    assert "--junitxml=reports/unit-tests.xml" in buildspec
    assert buildspec.index("make synth") < buildspec.index("pytest tests/unit")  # the tests read that cdk.out
    assert "JUNITXML" in buildspec
    (report_group,) = [
        r
        for k, r in resources.items()
        if r["Type"] == "AWS::CodeBuild::ReportGroup" and "/UnitTestReports/" in synth.path_of("pipeline", k)
    ]
    assert report_group["Properties"]["Type"] == "TEST"


def test_buildspec_binds_report_group() -> None:
    arn = "arn:aws:codebuild:us-east-1:111111111111:report-group/unit"
    spec = buildspec_document("synth", {"unit-tests": arn})
    assert list(spec["reports"]) == [arn]
    assert spec["reports"][arn]["file-format"] == "JUNITXML"


def test_no_placeholder_steps(synth: Synth) -> None:
    """Besides deployments and the approval, a stage runs only CodeBuild steps (test_integration_steps.py)."""
    for name in ("Dev", "Staging", "Prod"):
        for action in _stages(synth)[name]:
            category, provider = action["ActionTypeId"]["Category"], action["ActionTypeId"]["Provider"]
            assert category in {"Deploy", "Approval"} or (category in {"Build", "Test"} and provider == "CodeBuild")
