"""API Gateway's account-level logging role is one per account and region, in a stack of its own deployed before the
platform there, never a resource of an environment's stack (lib/api_gateway_account.py, stages/platform_stage.py)."""

from __future__ import annotations

from platform_config.naming import ACCOUNT_SETTINGS_STACK
from tests.assembly import ENVIRONMENTS, Synth


def test_no_environment_stack_holds_the_account_setting(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        assert synth.resources(env, "AWS::ApiGateway::Account") == {}
        roles = synth.resources(env, "AWS::IAM::Role").values()
        assert not any("AmazonAPIGatewayPushToCloudWatchLogs" in str(r["Properties"]) for r in roles)


def test_each_account_and_region_has_one_settings_stack_retained(synth: Synth) -> None:
    stacks = [s for s in synth.assembly.stacks.values() if s.name == ACCOUNT_SETTINGS_STACK]
    places = sorted((s.account, s.region) for s in stacks)
    expected = sorted({(synth.stage_stack(e).account, synth.stage_stack(e).region) for e in ENVIRONMENTS})
    assert places == expected  # multi-account config: one per environment's account
    for stack in stacks:
        resources = stack.template["Resources"].values()
        (account,) = [r for r in resources if r["Type"] == "AWS::ApiGateway::Account"]
        (role,) = [r for r in resources if r["Type"] == "AWS::IAM::Role"]
        assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"  # it outlives any environment
        assert "AmazonAPIGatewayPushToCloudWatchLogs" in str(role["Properties"]["ManagedPolicyArns"])


def test_the_platform_stack_deploys_after_its_accounts_settings(synth: Synth) -> None:
    pipeline = next(iter(synth.resources("pipeline", "AWS::CodePipeline::Pipeline").values()))
    for stage in pipeline["Properties"]["Stages"]:
        orders = {a["Name"]: a["RunOrder"] for a in stage["Actions"]}
        if "Platform.Deploy" in orders and f"{ACCOUNT_SETTINGS_STACK}.Deploy" in orders:
            assert orders[f"{ACCOUNT_SETTINGS_STACK}.Deploy"] < orders["Platform.Deploy"], stage["Name"]
