"""The rehearsal: deploy a synthesized stage into moto as `cdk deploy` would, run the processor on it, run the suite.

Steps, each stopped by the process that started it (by process id, in reverse order):
1. moto (localaws.moto_server) on a free 127.0.0.1 port.
2. As the pipeline would, assume the stage account's CDK deploy role (`cdk-<qualifier>-deploy-role-...`) and
   bootstrap the account like `cdk bootstrap`: the `/cdk-bootstrap/<qualifier>/version` SSM parameter, the assets
   bucket and the container-assets repository.
3. `create_stack` with the stage's template, wait for CREATE_COMPLETE, write the flat outputs file.
4. The ECS services' tasks, played locally: for each service, `desiredCount` processes of the task definition's
   command with the task definition's environment and the deployed secrets (database user and password, Redis AUTH
   token); only the network endpoints point at the local PostgreSQL and Redis (started with those credentials) and
   DATA_DIR at a local directory (the EFS mount). Each process is registered as a task of its service (RunTask) and
   stopped with it (StopTask). What a process prints goes to the log group its task definition names, as ECS's
   awslogs driver sends it (`_AwsLogs`).
5. The API's data plane (`api_gateway.ApiGatewayDataPlane`), with the NLB's DNS name resolved to `serve`.
6. The integration suite (`tests/integration`) in a child pytest with the standard AWS environment; its JUnit report
   gives the counts.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import psycopg
from botocore.credentials import ReadOnlyCredentials

from localaws.api_gateway import ApiGatewayDataPlane
from localaws.processes import ProcessorProcess
from localaws.servers import (
    LOOPBACK,
    MotoServer,
    PostgresServer,
    RedisServer,
    aws_environment,
    free_port,
    wait_for_port,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP_VERSION = "33"  # the version the pinned aws-cdk CLI's bootstrap template writes
STACK_TIMEOUT_SECONDS = 120


@dataclass
class RehearsalResult:
    """What the suite reported, and where to look."""

    passed: int
    failed: int
    report: Path
    output: str
    outputs: dict[str, str] = field(default_factory=dict)
    deploy_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def summary(self) -> str:
        return f"integration_passed={self.passed} integration_failed={self.failed}"


def _qualifier(template: dict[str, Any]) -> str:
    default = template.get("Parameters", {}).get("BootstrapVersion", {}).get("Default", "/cdk-bootstrap/hnb659fds/")
    return default.split("/")[2]


def _assume_deploy_role(tooling: dict[str, str], account: str, region: str, qualifier: str) -> dict[str, str]:
    """Credentials of the stage account's CDK deploy role, through STS as the CDK CLI gets them."""
    sts = boto3.client(
        "sts",
        endpoint_url=tooling["AWS_ENDPOINT_URL"],
        region_name=region,
        aws_access_key_id=tooling["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=tooling["AWS_SECRET_ACCESS_KEY"],
    )
    role = f"arn:aws:iam::{account}:role/cdk-{qualifier}-deploy-role-{account}-{region}"
    credentials = sts.assume_role(RoleArn=role, RoleSessionName="rehearsal")["Credentials"]
    return {
        **tooling,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def _session(env: dict[str, str]) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        region_name=env["AWS_REGION"],
    )


def bootstrap(env: dict[str, str], account: str, region: str, qualifier: str, version: str = BOOTSTRAP_VERSION) -> None:
    """What `cdk bootstrap` leaves behind that a deployment reads: the version parameter and the asset stores."""
    session, endpoint = _session(env), env["AWS_ENDPOINT_URL"]
    session.client("ssm", endpoint_url=endpoint).put_parameter(
        Name=f"/cdk-bootstrap/{qualifier}/version", Value=version, Type="String", Overwrite=True
    )
    session.client("s3", endpoint_url=endpoint).create_bucket(Bucket=f"cdk-{qualifier}-assets-{account}-{region}")
    session.client("ecr", endpoint_url=endpoint).create_repository(
        repositoryName=f"cdk-{qualifier}-container-assets-{account}-{region}"
    )


def deploy(env: dict[str, str], stack_name: str, template: dict[str, Any]) -> dict[str, str]:
    """create_stack, wait for CREATE_COMPLETE; returns the flat outputs."""
    cloudformation = _session(env).client("cloudformation", endpoint_url=env["AWS_ENDPOINT_URL"])
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.monotonic() + STACK_TIMEOUT_SECONDS
    while True:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"{stack_name} ended {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs", [])}


class _AwsLogs:
    """ECS's awslogs log driver, played for local processes: each line a task prints becomes a log event in the
    group its container's `logConfiguration` names, in stream `<prefix>/<container>/<task id>`."""

    def __init__(self, logs_client: Any) -> None:
        self.logs = logs_client
        self.streams: list[tuple[Path, str, str, int]] = []  # file, group, stream, bytes already sent
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="awslogs", daemon=True)

    def follow(self, path: Path, container: dict[str, Any], task_arn: str) -> None:
        options = container.get("logConfiguration", {}).get("options", {})
        if "awslogs-group" not in options:
            return
        group = options["awslogs-group"]
        stream = f"{options.get('awslogs-stream-prefix', 'ecs')}/{container['name']}/{task_arn.rsplit('/', 1)[-1]}"
        self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        self.streams.append((path, group, stream, 0))
        if not self._thread.is_alive():
            self._thread.start()

    def _send_new_lines(self) -> None:
        for index, (path, group, stream, sent) in enumerate(self.streams):
            data = path.read_bytes()[sent:] if path.exists() else b""
            complete = data[: data.rfind(b"\n") + 1]
            lines = [line for line in complete.decode(errors="replace").splitlines() if line.strip()]
            if lines:
                now = int(time.time() * 1000)
                events = [{"timestamp": now, "message": line} for line in lines]
                for start in range(0, len(events), 1000):
                    self.logs.put_log_events(
                        logGroupName=group, logStreamName=stream, logEvents=events[start : start + 1000]
                    )
            self.streams[index] = (path, group, stream, sent + len(complete))

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._send_new_lines()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._send_new_lines()


class _Tasks:
    """The services' tasks, run as local processes and registered with ECS as their tasks."""

    def __init__(self, env: dict[str, str], workdir: Path, postgres: PostgresServer) -> None:
        self.env, self.workdir, self.postgres = env, workdir, postgres
        self.ecs = _session(env).client("ecs", endpoint_url=env["AWS_ENDPOINT_URL"])
        self.secrets = _session(env).client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"])
        self.awslogs = _AwsLogs(_session(env).client("logs", endpoint_url=env["AWS_ENDPOINT_URL"]))
        self.running: list[tuple[ProcessorProcess, str, str]] = []  # process, cluster, task ARN
        self.redis: RedisServer | None = None
        self.serve_addresses: list[str] = []

    def _secret(self, value_from: str) -> str:
        """An ECS secret reference (`<secret-arn>[:<json-key>:<stage>:<version>]`) resolved like ECS does."""
        parts = value_from.split(":")
        arn, key = ":".join(parts[:7]), parts[7] if len(parts) > 7 else ""
        text = self.secrets.get_secret_value(SecretId=arn)["SecretString"]
        return json.loads(text)[key] if key else text

    def _container_env(self, task_definition: dict[str, Any]) -> dict[str, str]:
        container = task_definition["containerDefinitions"][0]
        env = {item["name"]: item["value"] for item in container.get("environment", [])}
        env.update({item["name"]: self._secret(item["valueFrom"]) for item in container.get("secrets", [])})
        return env

    def start(self, cluster: str, service_names: list[str]) -> None:
        services = self.ecs.describe_services(cluster=cluster, services=service_names)["services"]
        definitions = {
            s["serviceName"]: self.ecs.describe_task_definition(taskDefinition=s["taskDefinition"])["taskDefinition"]
            for s in services
        }
        first = self._container_env(next(iter(definitions.values())))
        self.redis = RedisServer(password=first["REDIS_AUTH_TOKEN"])
        self.redis.start()
        with psycopg.connect(**self.postgres.conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE \"{first['DB_USER']}\" LOGIN PASSWORD '{first['DB_PASSWORD']}'")
            conn.execute(f'CREATE DATABASE "{first["DB_NAME"]}" OWNER "{first["DB_USER"]}"')
        data_dir = self.workdir / "efs"
        data_dir.mkdir(exist_ok=True)
        for service in services:
            definition = definitions[service["serviceName"]]
            container = definition["containerDefinitions"][0]
            command = container["command"][0]
            for index in range(service["desiredCount"]):
                env = {
                    **self.env,
                    **self._container_env(definition),
                    # The network: the VPC's endpoints are these local servers.
                    "DB_HOST": LOOPBACK,
                    "DB_PORT": str(self.postgres.port),
                    "DB_SSLMODE": "disable",
                    "REDIS_HOST": LOOPBACK,
                    "REDIS_PORT": str(self.redis.port),
                    "REDIS_TLS": "false",
                    "HEARTBEAT_FILE": str(self.workdir / f"{command}-{index}.heartbeat"),
                }
                if command == "consume":
                    env["DATA_DIR"] = str(data_dir)
                if command == "serve":
                    env["PORT"] = str(free_port())
                process = ProcessorProcess(command, env, self.workdir / f"{command}-{index}.log")
                entry = (process, cluster, "")
                self.running.append(entry)  # stopped by stop() even if what follows fails
                if command == "serve":
                    wait_for_port(int(env["PORT"]), timeout=60, process=process.process)
                    self.serve_addresses.append(f"{LOOPBACK}:{env['PORT']}")
                task = self.ecs.run_task(
                    cluster=cluster,
                    taskDefinition=service["taskDefinition"],
                    launchType="FARGATE",
                    group=f"service:{service['serviceName']}",
                    startedBy=service["deployments"][0]["id"] if service.get("deployments") else "rehearsal",
                    networkConfiguration=service["networkConfiguration"],
                )["tasks"][0]
                self.running[self.running.index(entry)] = (process, cluster, task["taskArn"])
                self.awslogs.follow(process.log_path, container, task["taskArn"])

    def stop(self) -> None:
        for process, cluster, task_arn in reversed(self.running):
            process.terminate()
            if task_arn:
                with contextlib.suppress(Exception):
                    self.ecs.stop_task(cluster=cluster, task=task_arn, reason="rehearsal finished")
        self.running.clear()
        self.awslogs.stop()
        if self.redis is not None:
            self.redis.close()


def _count(report: Path) -> tuple[int, int]:
    if not report.exists():
        return 0, 1
    suites = ET.parse(report).getroot()
    suites = [suites] if suites.tag == "testsuite" else list(suites)
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed + skipped  # a skipped check is not a passed one


@contextlib.contextmanager
def _started(server: Any) -> Iterator[Any]:
    server.start()
    try:
        yield server
    finally:
        server.close()


def rehearse(
    template: dict[str, Any],
    stack_name: str,
    environment: str,
    account: str,
    region: str,
    workdir: Path | None = None,
    pytest_args: tuple[str, ...] = (),
) -> RehearsalResult:
    """Deploy `template` into a fresh moto, run the processor on it and the integration suite against it."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="iot-rehearsal-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started_at = time.monotonic()
    with contextlib.ExitStack() as stack:
        moto = stack.enter_context(_started(MotoServer(log_path=workdir / "moto.log")))
        postgres = stack.enter_context(_started(PostgresServer()))
        env = _assume_deploy_role(aws_environment(moto.endpoint, region), account, region, _qualifier(template))
        bootstrap(env, account, region, _qualifier(template))
        deploy_started = time.monotonic()
        outputs = deploy(env, stack_name, template)
        deploy_seconds = time.monotonic() - deploy_started
        outputs_file = workdir / "cfn-outputs" / "flat-outputs.json"
        outputs_file.parent.mkdir(parents=True, exist_ok=True)
        outputs_file.write_text(json.dumps(outputs, indent=2) + "\n")

        tasks = _Tasks(env, workdir, postgres)
        stack.callback(tasks.stop)
        cluster = outputs.get("ClusterName")
        service_names = [outputs[n] for n in ("ConsumeServiceName", "ServeServiceName") if outputs.get(n)]
        if cluster and service_names:
            tasks.start(cluster, service_names)
        credentials = ReadOnlyCredentials(
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]
        )
        targets = {outputs.get("LoadBalancerDnsName", ""): tasks.serve_addresses[0]} if tasks.serve_addresses else {}
        api = stack.enter_context(_started(ApiGatewayDataPlane(env, targets, credentials)))

        report = workdir / "integration.xml"
        suite_env = {
            **os.environ,
            **env,
            "OUTPUTS_FILE": str(outputs_file),
            "ENVIRONMENT": environment,
            "DATA_DIR": str(workdir / "efs"),
            "AWS_ENDPOINT_URL_EXECUTE_API": api.endpoint,
        }
        suite_env.pop("STACK_NAME", None)
        result = subprocess.run(
            [
                sys.executable, "-m", "pytest", "tests/integration", "-p", "no:cacheprovider",
                "-q", "-rfE", "--no-header", f"--junitxml={report}", *pytest_args,
            ],
            cwd=REPO_ROOT,
            env=suite_env,
            capture_output=True,
            text=True,
            timeout=900,
        )  # fmt: skip
        passed, failed = _count(report)
        (workdir / "integration.log").write_text(result.stdout + result.stderr)
    return RehearsalResult(
        passed=passed,
        failed=failed,
        report=report,
        output=result.stdout + result.stderr,
        outputs=outputs,
        deploy_seconds=deploy_seconds,
        total_seconds=time.monotonic() - started_at,
    )
