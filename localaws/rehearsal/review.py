"""Review (issue #12): the lead's `preflight.review` and `preflight.drift` run against the deployed stage, as the
pipeline runs them (read-only, as the account's CDK lookup role), each a pass/fail scenario.

a. The template deployed now, reviewed again: no change.
b. A template that changes one alarm's threshold: one modification, of that property, no replacement.
c. A template that changes the database's create-only `DBInstanceIdentifier`, reviewed with the guard on (as staging
   and prod run it; dev's own config turns it off): the guard stops it with one sentence naming the resource and the
   property, and the deploy step (played as the pipeline orders it: guard, then deploy only without a stop) never
   calls CloudFormation: the stack's LastUpdatedTime, template and the database's physical id are unchanged.
d. The stream's retention changed through the Kinesis API, outside CloudFormation: drift detection (modelled in
   localaws.models.drift) reports that resource and property with the expected and actual values; it reported no
   drift before the change, and none once the retention is set back.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from localaws.rehearsal.deploy import deploy_stack
from localaws.rehearsal.scenarios import ScenarioResult, check, play
from localaws.rehearsal.stage import Stage
from platform_config import EnvironmentSettings
from platform_config.assembly import CloudAssembly, StackArtifact
from preflight.drift import describe as describe_drift
from preflight.drift import detect
from preflight.review.__main__ import review
from preflight.review.changes import NO, StackChanges


def assembly_with(stage: Stage, template: dict[str, Any], name: str) -> CloudAssembly:
    """A cloud assembly whose platform stack has ``template`` (a revision the pipeline would review)."""
    directory = stage.workdir / "review" / name
    directory.mkdir(parents=True, exist_ok=True)
    template_file = directory / "platform.template.json"
    template_file.write_text(json.dumps(template))
    platform = stage.assembly.stack(stage.stack_name)
    artifact = StackArtifact(platform.name, platform.path, platform.account, platform.region, template_file)
    return CloudAssembly(Path(directory), {artifact.path: artifact})


def _review(
    stage: Stage, template: dict[str, Any], name: str, settings: EnvironmentSettings
) -> tuple[StackChanges, list[str]]:
    lookup = stage.as_role("lookup", "review")
    reviewed = review(
        settings, stage.settings.name, assembly_with(stage, template, name), lookup.client("cloudformation")
    )
    return reviewed.changes, reviewed.stops


def _guarded(settings: EnvironmentSettings) -> EnvironmentSettings:
    return settings.model_copy(update={"review": settings.review.model_copy(update={"guard": True})})


def unchanged(stage: Stage) -> list[str]:
    changes, stops = _review(stage, stage.template, "unchanged", _guarded(stage.settings))
    check(changes.empty and not stops, f"the deployed template reviewed again: {changes.summary()}, stops {stops}")
    return [f"{stage.stack_name} against its own template: no change"]


def alarm_threshold(stage: Stage) -> list[str]:
    template = copy.deepcopy(stage.template)
    logical_id, alarm = next(
        (k, r["Properties"])
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and "AlarmName" in r["Properties"]
    )
    alarm["Threshold"] = float(alarm["Threshold"]) + 1
    changes, stops = _review(stage, template, "alarm-threshold", _guarded(stage.settings))
    (change,) = changes.resources or [None]
    check(
        change is not None and len(changes.resources) == 1 and not changes.outputs,
        f"one modification expected: {changes.summary()} {changes.outputs}",
    )
    check(
        change.logical_id == logical_id and change.action == "Modify" and change.properties == ("Threshold",),
        f"the change is {change}",
    )
    check(change.replacement == NO and not changes.replaced and not stops, f"replacement {change.replacement}: {stops}")
    return [f"{change.path}: modify Threshold, no replacement ({changes.summary()})"]


def _database(template: dict[str, Any]) -> dict[str, Any]:
    return next(r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance")


def create_only_guarded(stage: Stage) -> list[str]:
    cloudformation = stage.account.client("cloudformation")
    before = cloudformation.describe_stacks(StackName=stage.stack_name)["Stacks"][0]
    physical_before = _database_physical_id(stage)
    database = stage.outputs["DatabaseIdentifier"]
    template = copy.deepcopy(stage.template)
    _database(template)["DBInstanceIdentifier"] = f"{database}-renamed"
    changes, stops = _review(stage, template, "create-only", _guarded(stage.settings))
    if not stops:  # the pipeline's order: the guard, then the deploy only when nothing was stopped
        deploy_stack(stage.account, stage.stack_name, template)
    after = cloudformation.describe_stacks(StackName=stage.stack_name)["Stacks"][0]
    check(len(stops) == 1, f"the guard stopped {len(stops)} change(s): {stops} ({changes.summary()})")
    stop = stops[0]
    check(
        "Database/Instance" in stop and "DBInstanceIdentifier" in stop and stop.count(". ") == 0,
        f"the guard's sentence does not name the resource and property: {stop}",
    )
    check(after.get("LastUpdatedTime") == before.get("LastUpdatedTime"), "the stack was updated anyway")
    deployed = cloudformation.get_template(StackName=stage.stack_name)["TemplateBody"]
    check(
        _database(deployed if isinstance(deployed, dict) else json.loads(deployed))["DBInstanceIdentifier"] == database,
        "the deployed template changed",
    )
    check(_database_physical_id(stage) == physical_before == database, "the database's physical id changed")
    instances = stage.account.client("rds").describe_db_instances()["DBInstances"]
    check([i["DBInstanceIdentifier"] for i in instances] == [database], f"databases now: {instances}")
    return [
        f"guard: {stop}",
        f"{stage.stack_name} not updated (LastUpdatedTime {before.get('LastUpdatedTime')}); the database's physical "
        f"id is still {database}, the one database",
    ]


def _database_physical_id(stage: Stage) -> str:
    resources = stage.account.client("cloudformation").list_stack_resources(StackName=stage.stack_name)
    (physical,) = [
        r["PhysicalResourceId"]
        for r in resources["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::RDS::DBInstance"
    ]
    return str(physical)


def drift(stage: Stage) -> list[str]:
    lookup = stage.as_role("lookup", "drift")
    cloudformation, kinesis = lookup.client("cloudformation"), stage.account.client("kinesis")
    stream, configured = stage.outputs["StreamName"], stage.settings.stream.retention_hours

    def detected() -> list[Any]:
        return detect(cloudformation, stage.stack_name, sleep=lambda _: None)

    check(detected() == [], "drift reported before anything changed")
    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=configured * 2)
    try:
        drifts = detected()
    finally:
        kinesis.decrease_stream_retention_period(StreamName=stream, RetentionPeriodHours=configured)
    text = describe_drift(stage.settings.name, stage.stack_name, drifts)
    check(len(drifts) == 1, f"drift detection found {len(drifts)} drifted resources:\n{text}")
    (found,) = drifts
    expected = f"RetentionPeriodHours: expected {configured}, actual {configured * 2}"
    check(
        found.resource_type == "AWS::Kinesis::Stream"
        and found.status == "MODIFIED"
        and found.differences == (expected,),
        f"drift reported:\n{text}",
    )
    check(detected() == [], "drift still reported after the retention was set back")
    return [line.strip() for line in text.splitlines()]


NAMES = (
    "review-a an unchanged template: no change",
    "review-b an alarm threshold: one modification, no replacement",
    "review-c a create-only change of the database: stopped",
    "review-d a change outside CloudFormation: drift detected",
)


def scenarios(stage: Stage) -> list[ScenarioResult]:
    """Every review scenario; the drift scenario last (it changes the stream, then sets it back)."""
    plays = (unchanged, alarm_threshold, create_only_guarded, drift)
    return [play(name, lambda scenario=scenario: scenario(stage)) for name, scenario in zip(NAMES, plays, strict=True)]
