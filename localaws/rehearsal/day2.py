"""Day 2: what a real account does to the deployed stage in its first month, each a pass/fail scenario on the same
emulated account and local servers, each proving that its fault really happened.

1. Rotation: the application secret rotated twice as Secrets Manager's alternating-users rotation does
   (localaws.rotation) while readings flow through Kinesis and `serve` is polled. After each rotation every session of
   the application users is ended (as a failover or a pool recycle ends them), so both processes must log in again
   with credentials they no longer hold. Proven: the secret's AWSCURRENT moved to the other user and back, the
   password the processes started with is refused after the second rotation, both processes re-read the secret, no
   reading was lost (rows counted), neither process restarted (same PIDs), every poll of `serve` answered 200.
2. Scale-out: the serve service's desired count set to its scalable target's maximum through ECS, as target tracking
   sets it, and the extra tasks started by ECS's scheduler (localaws.rehearsal.tasks); the smoke suite passes.
3. The next push: the stage's template with an alarm threshold changed and a new output, deployed with UpdateStack:
   the alarm's threshold and the output really changed, no stateful resource's physical id changed, the full suite
   passes again, and an update with nothing to change fails with CloudFormation's "No updates are to be performed.".
4. RDS's automatic minor upgrade: the instance moved to the automatic-upgrade target of its version (through
   ModifyDBInstance, checked against the region's upgrade targets); pre-flight (`python -m preflight --env <env>`)
   and the smoke suite still pass.
5. The pipeline's health gates: localaws.rehearsal.gates.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import requests
from botocore.exceptions import ClientError

from localaws.processes import wait_until
from localaws.rehearsal import gates
from localaws.rehearsal.scenarios import ScenarioResult, check, play
from localaws.rehearsal.stage import Stage
from localaws.rehearsal.suite import SMOKE
from platform_config.loader import REPO_ROOT
from preflight.review.guard import STATEFUL_TYPES

SENSORS = 10


def _readings(prefix: str, second: int, start: datetime) -> list[dict[str, Any]]:
    ts = (start + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")
    return [
        {"sensorId": f"{prefix}-{n:02d}", "timestamp": ts, "temperature": 20.0 + n, "humidity": 50.0}
        for n in range(SENSORS)
    ]


def _stored(stage: Stage, prefix: str) -> int:
    with stage.database.master() as conn:
        return int(
            conn.execute("SELECT count(*) FROM readings WHERE sensor_id LIKE %s", (f"{prefix}-%",)).fetchone()[0]
        )


def _end_app_sessions(stage: Stage, base_user: str) -> int:
    """pg_terminate_backend of every session of the application users; how many were ended."""
    with stage.database.master() as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN (%s, %s)",
            (base_user, f"{base_user}_clone"),
        ).fetchall()
    return sum(1 for (ended,) in rows if ended)


def rotation(stage: Stage) -> list[str]:
    from localaws.rotation import rotate_multi_user

    secrets = stage.account.client("secretsmanager")
    arn = stage.outputs["DatabaseAppSecretArn"]
    original = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    tasks = [t for t in stage.ecs.tasks if t.main.process.poll() is None]
    check(
        {"consume", "serve"} <= {t.command for t in tasks}, f"consume and serve must run: {[t.command for t in tasks]}"
    )
    pids = {t.task_arn: t.main.process.pid for t in tasks}
    prefix, start = f"rotation-{int(time.time())}", datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    produced, answers, errors, stop = [0], [], [], threading.Event()

    def produce() -> None:
        kinesis = stage.account.session().client("kinesis")
        for second in itertools.count():
            if stop.is_set():
                return
            batch = _readings(prefix, second, start)
            records = [{"Data": json.dumps(r).encode(), "PartitionKey": r["sensorId"]} for r in batch]
            answer = kinesis.put_records(StreamName=stage.outputs["StreamName"], Records=records)
            if answer["FailedRecordCount"]:
                errors.append(f"Kinesis refused {answer['FailedRecordCount']} records")
                return
            produced[0] += len(batch)
            time.sleep(0.05)

    def poll() -> None:
        with requests.Session() as http:
            while not stop.is_set():
                for address in list(stage.ecs.serve_addresses):
                    for path in ("/health/live", f"/sensors/{prefix}-00/readings?limit=1"):
                        try:
                            answers.append(http.get(f"http://{address}{path}", timeout=10).status_code)
                        except requests.RequestException as error:
                            answers.append(0)
                            errors.append(f"serve did not answer {path}: {error}")
                time.sleep(0.05)

    threads = [threading.Thread(target=produce, daemon=True), threading.Thread(target=poll, daemon=True)]
    threads[0].start()
    users = []
    try:
        wait_until(lambda: _stored(stage, prefix) > 0, 60, message="readings flowing before the rotation")
        threads[1].start()  # serve answers for the sensor once it has readings
        wait_until(lambda: len(answers) > 4, 30, message="serve answering before the rotation")
        for number in (1, 2):
            with stage.database.master() as admin:
                rotate_multi_user(secrets, arn, admin, connect=stage.database.connect)
            users.append(json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["username"])
            ended = _end_app_sessions(stage, original["username"])
            check(ended >= 2, f"rotation {number}: only {ended} application sessions to end (consume's and serve's)")
            before = _stored(stage, prefix)
            wait_until(lambda b=before: _stored(stage, prefix) > b, 60, message=f"progress after rotation {number}")
        time.sleep(1.0)  # serve keeps being polled after the last rotation
    finally:
        stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(30)
    wait_until(lambda: _stored(stage, prefix) == produced[0], 120, message=f"all {produced[0]} readings stored")

    clone = f"{original['username']}_clone"
    check(users == [clone, original["username"]], f"AWSCURRENT's user after each rotation: {users}")
    refused = ""
    try:
        stage.database.connect(original["username"], original["password"]).close()
    except psycopg.OperationalError as error:
        refused = str(error)
    check("password authentication failed" in refused, "the password both processes started with still works")
    check(not errors, f"while the rotations ran: {errors[:3]}")
    check({t.task_arn: t.main.process.pid for t in tasks} == pids, "a process was restarted")
    check(all(t.main.process.poll() is None for t in tasks), "a process died during the rotation")
    reread = "database credentials re-read after an authentication failure"
    check(all(reread in t.main.output() for t in tasks), "a process did not re-read the rotated secret")
    check(len(answers) > 20 and set(answers) == {200}, f"serve answered {sorted(set(answers))} ({len(answers)} polls)")
    return [
        f"AWSCURRENT moved {original['username']} -> {users[0]} -> {users[1]}; the first password is refused",
        f"{produced[0]} readings sent, {produced[0]} stored; consume and serve kept PIDs {sorted(pids.values())}",
        f"both processes re-read the secret; serve answered {len(answers)} polls, all 200",
    ]


def scale_out(stage: Stage) -> list[str]:
    cluster, service = stage.cluster, stage.outputs["ServeServiceName"]
    target = stage.account.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{cluster}/{service}"]
    )["ScalableTargets"][0]
    maximum = target["MaxCapacity"]
    check(maximum == stage.settings.service.serve_max_tasks, f"scalable target's maximum is {maximum}")
    check(maximum > len(stage.ecs.running(service)), f"serve already runs {maximum} tasks: nothing to scale")
    stage.account.client("ecs").update_service(cluster=cluster, service=service, desiredCount=maximum)
    started = stage.ecs.reconcile(cluster, service)
    described = stage.account.client("ecs").describe_services(cluster=cluster, services=[service])["services"][0]
    check(
        described["desiredCount"] == described["runningCount"] == maximum,
        f"serve: desired {described['desiredCount']}, running {described['runningCount']}, maximum {maximum}",
    )
    suite = stage.suite("day2-scale-out", *SMOKE)
    check(
        suite.ok,
        f"smoke suite at {maximum} serve tasks: {suite.passed} passed, {suite.failed} failed\n{suite.output[-3000:]}",
    )
    return [
        f"serve scaled to its maximum {maximum} ({len(started)} task(s) started, {described['runningCount']} running)",
        f"smoke suite: {suite.passed} passed, 0 failed",
    ]


def _stateful_ids(stage: Stage) -> dict[str, str]:
    resources = stage.account.client("cloudformation").list_stack_resources(StackName=stage.stack_name)
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources["StackResourceSummaries"]
        if r["ResourceType"] in STATEFUL_TYPES
    }


def next_push_template(template: dict[str, Any]) -> tuple[dict[str, Any], str, float]:
    """The next push: the first named alarm's threshold doubled, and a new output. Returns the template, the alarm's
    name and its new threshold."""
    changed = copy.deepcopy(template)
    alarm = next(
        r["Properties"]
        for r in changed["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and "AlarmName" in r.get("Properties", {})
    )
    alarm["Threshold"] = float(alarm["Threshold"]) * 2
    topic = next(k for k, r in changed["Resources"].items() if r["Type"] == "AWS::SNS::Topic")
    changed["Outputs"]["AlarmTopicArn"] = {"Description": "The platform's alarm topic", "Value": {"Ref": topic}}
    return changed, alarm["AlarmName"], alarm["Threshold"]


def next_push(stage: Stage) -> list[str]:
    before = _stateful_ids(stage)
    template, alarm_name, threshold = next_push_template(stage.template)
    outputs = stage.deploy(template)
    alarm = stage.account.client("cloudwatch").describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]
    check(alarm["Threshold"] == threshold, f"{alarm_name}'s threshold is {alarm['Threshold']}, not {threshold}")
    check(outputs.get("AlarmTopicArn", "").startswith("arn:"), f"the new output is missing: {sorted(outputs)}")
    after = _stateful_ids(stage)
    replaced = {k: (v, after.get(k)) for k, v in before.items() if after.get(k) != v}
    check(len(before) >= 8 and not replaced, f"stateful resources replaced: {replaced}")
    suite = stage.suite("day2-next-push")
    check(
        suite.ok, f"full suite after the update: {suite.passed} passed, {suite.failed} failed\n{suite.output[-3000:]}"
    )
    refused = ""
    try:
        stage.deploy(template)
    except ClientError as error:
        refused = error.response["Error"].get("Message", "")
    check(refused == "No updates are to be performed.", f"an update without changes answered {refused!r}")
    return [
        f"UpdateStack applied: {alarm_name} threshold {threshold:.12g}, new output AlarmTopicArn",
        f"{len(before)} stateful resources kept their physical ids",
        f"full suite: {suite.passed} passed, 0 failed; a no-change update: {refused!r}",
    ]


def minor_upgrade(stage: Stage) -> list[str]:
    rds, identifier = stage.account.client("rds"), stage.outputs["DatabaseIdentifier"]
    running = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["EngineVersion"]
    versions = rds.describe_db_engine_versions(Engine="postgres", EngineVersion=running)["DBEngineVersions"]
    target = next(
        t["EngineVersion"]
        for v in versions
        for t in v["ValidUpgradeTarget"]
        if t["AutoUpgrade"] and not t["IsMajorVersionUpgrade"]
    )
    rds.modify_db_instance(DBInstanceIdentifier=identifier, EngineVersion=target, ApplyImmediately=True)
    now = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["EngineVersion"]
    check(now == target != running, f"{identifier} runs {now}, expected the upgrade {running} -> {target}")
    preflight = subprocess.run(
        [sys.executable, "-m", "preflight", "--env", stage.settings.name],
        cwd=REPO_ROOT,
        env={**_clean_env(), **stage.account.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    (stage.workdir / "day2-preflight.log").write_text(preflight.stdout + preflight.stderr)
    check(
        preflight.returncode == 0,
        f"pre-flight after the upgrade exited {preflight.returncode}:\n{preflight.stdout}{preflight.stderr}",
    )
    suite = stage.suite("day2-minor-upgrade", *SMOKE)
    check(suite.ok, f"smoke suite on {target}: {suite.passed} passed, {suite.failed} failed\n{suite.output[-3000:]}")
    version_line = next((line for line in preflight.stdout.splitlines() if "postgres-version" in line), "")
    return [
        f"RDS upgraded {identifier} {running} -> {target}",
        f"pre-flight passed: {version_line}",
        f"smoke suite: {suite.passed} passed, 0 failed",
    ]


def _clean_env() -> dict[str, str]:
    """This process's environment without its own AWS settings (the account's are passed explicitly)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


NAMES = (
    "day2-1 credentials rotate while readings flow",
    "day2-2 serve scales out to its maximum",
    "day2-3 the next push updates the stack in place",
    "day2-4 RDS upgrades the minor version",
    "day2-5 health gates as CodePipeline evaluates them",
)


def scenarios(stage: Stage) -> list[ScenarioResult]:
    """Every day-2 scenario, in the order a month brings them."""
    plays = (rotation, scale_out, next_push, minor_upgrade, gates.health_gates)
    return [play(name, lambda scenario=scenario: scenario(stage)) for name, scenario in zip(NAMES, plays, strict=True)]
