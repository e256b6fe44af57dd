"""The app with every environment in the pipeline's account and prod in two regions (a configuration the committed
one cannot show): every gate passes, no cross-account keys, and the second region deploys side by side in prod's wave
with steps of its own."""

from __future__ import annotations

import json

from pipeline.lead_time import critical_path, run_orders
from platform_config.naming import integration_role_name
from tests.assembly import Synth
from tests.unit.pipeline.test_lead_time import EXPECTED_ORDER


def _artifact_keys(synth: Synth) -> list[str]:
    return [
        k
        for k in synth.resources("pipeline", "AWS::KMS::Key")
        if "/Pipeline/ArtifactsBucketEncryptionKey" in synth.path_of("pipeline", k)
    ]


def _project_env(synth: Synth, path_part: str) -> dict[str, str]:
    (project,) = [
        r
        for k, r in synth.resources("pipeline", "AWS::CodeBuild::Project").items()
        if path_part in synth.path_of("pipeline", k)
    ]
    return {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}


def _action_env(synth: Synth, action_name: str) -> dict[str, str]:
    """The environment variables a pipeline action passes to its project (CodePipeline variables among them)."""
    (pipeline,) = synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    (action,) = [a for s in pipeline["Properties"]["Stages"] for a in s["Actions"] if a["Name"] == action_name]
    return {v["name"]: v["value"] for v in json.loads(action["Configuration"].get("EnvironmentVariables", "[]"))}


def test_single_account_config_needs_no_cross_account_keys(single_account_synth: Synth) -> None:
    synth = single_account_synth
    pipeline_account = synth.assembly.stack("Pipeline").account
    assert {synth.stage_stack(d.name).account for d in synth.config.all_deployments} == {pipeline_account}
    assert _artifact_keys(synth) == [] and synth.resources("pipeline", "AWS::KMS::Alias") == {}
    assert {p["conclusion"] for p in synth.report["pluginReports"]} == {"success"}  # every gate passes here too
    for deployment in synth.config.all_deployments:
        # Same account: the step still runs the suite as the stage's own test role (it holds only AssumeRole).
        wave = "Prod" if deployment.requires_approval else deployment.name.capitalize()
        prefix = f"{deployment.name.capitalize()}." if deployment.name.startswith("prod") else ""
        path = f"/{wave}/{prefix}IntegrationTests/" if prefix else f"/{wave}/IntegrationTests/"
        role = f"arn:aws:iam::{pipeline_account}:role/{integration_role_name(deployment.name)}"
        assert _project_env(synth, path)["TEST_ROLE_ARN"] == role


def test_prod_regions_deploy_side_by_side_in_one_wave(single_account_synth: Synth) -> None:
    synth = single_account_synth
    orders = run_orders(synth.templates["pipeline"])
    same = ("Source", "Build", "UpdatePipeline", "Assets", "Dev", "PromoteToProd")
    assert {k: orders[k] for k in same} == {k: EXPECTED_ORDER[k] for k in same}
    # One account: its once-only settings deploy with dev alone, and again only in the second region.
    assert orders["Staging"] == {"Platform.Deploy": 1, "IntegrationTests": 2}
    assert orders["Prod"] == {
        "Prod.Preflight": 1,
        "Prod-eu-west-1.Preflight": 1,
        "Prod.Platform.Deploy": 2,
        "Prod-eu-west-1.IotPlatformAccountSettings.Deploy": 2,
        "Prod-eu-west-1.Platform.Deploy": 3,
        "Prod.IntegrationTests": 3,
        "Prod-eu-west-1.IntegrationTests": 4,
    }
    # A second region adds no sequential action the first account's settings did not already take.
    assert len(critical_path(synth.templates["pipeline"])) == 16
    # One review covers both regions; each region's pre-flight re-checks its own stack against it.
    for preflight in ("Prod.Preflight", "Prod-eu-west-1.Preflight"):
        assert _action_env(synth, preflight)["REVIEWED_BASE"] == "#{Dev@ReviewProd.REVIEW_BASE}"
    (prod,) = [s for s in synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()]
    prod_stage = next(s for s in prod["Properties"]["Stages"] if s["Name"] == "Prod")
    (condition,) = prod_stage["OnSuccess"]["Conditions"]
    assert sorted(rule["Region"] for rule in condition["Rules"]) == ["eu-west-1", "us-east-1"]  # both regions watched
    eu = synth.stage_stack("prod-eu-west-1")
    assert (eu.region, eu.name) == ("eu-west-1", "Prod-eu-west-1-Platform")
    variables = _project_env(synth, "/Prod/Prod-eu-west-1.IntegrationTests/")
    assert variables["AWS_REGION"] == "eu-west-1" and variables["PYTEST_MARKERS"] == "smoke"
    # Account-global names (dashboards; IAM roles are named only for cross-account tests) differ between the regions.
    dashboards = [
        {r["Properties"]["DashboardName"] for r in synth.resources(env, "AWS::CloudWatch::Dashboard").values()}
        for env in ("prod", "prod-eu-west-1")
    ]
    assert dashboards[0] and dashboards[1] and not dashboards[0] & dashboards[1]
    assert integration_role_name("prod-eu-west-1") != integration_role_name("prod")


def test_an_unchanged_prod_skips_its_approval_when_configured(single_account_synth: Synth) -> None:
    """`review.skip_approval_without_changes`: a native VariableCheck condition on entering the approval's stage skips
    it when prod's review counted no change (both regions), and only then."""
    (pipeline,) = single_account_synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()
    stages = {s["Name"]: s for s in pipeline["Properties"]["Stages"]}
    (review,) = [a for a in stages["Dev"]["Actions"] if a["Name"] == "ReviewProd"]
    assert stages["PromoteToProd"]["BeforeEntry"] == {
        "Conditions": [
            {
                "Result": "SKIP",
                "Rules": [
                    {
                        "Name": "AnythingToApprove",
                        "RuleTypeId": {"Category": "Rule", "Owner": "AWS", "Provider": "VariableCheck", "Version": "1"},
                        "Configuration": {
                            "Variable": f"#{{{review['Namespace']}.REVIEW_CHANGES}}",
                            "Operator": "NE",
                            "Value": "0",
                        },
                    }
                ],
            }
        ]
    }
    assert not any("BeforeEntry" in stage for name, stage in stages.items() if name != "PromoteToProd")
