"""ECS played for the platform's services: each task of a service is its task definition's containers run as local
processes of the processor (`python -m processor <command>`), in ECS's order.

- A container another one `dependsOn` runs first; with condition SUCCESS it must exit 0 (COMPLETE: exit at all,
  START: be started) before its dependents start, else the task stops, as ECS stops it ("dependency condition not
  met"). So `db-setup` (the init container) runs to completion, then `consume` or `serve`.
- Each container gets its definition's environment and its `secrets` resolved from Secrets Manager as ECS resolves
  them (`<arn>` for the whole value, `<arn>:<json-key>:<stage>:<version>` for one key); only the network differs: the
  database and Redis endpoints are the local servers (no TLS on loopback), `serve` listens on a free port, DATA_DIR is
  a local directory (the EFS mount). AWS credentials are the rehearsal's, in place of the task role's.
- Each task is registered with ECS (RunTask, group `service:<name>`) and stopped with its processes (StopTask), so
  `describe_services` counts what really runs (localaws.models.ecs); what each container prints reaches its log group
  (localaws.rehearsal.awslogs).
- `reconcile` is ECS's service scheduler: it starts tasks until a service runs its desired count.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.processes import ProcessorProcess
from localaws.rehearsal.account import Account
from localaws.rehearsal.awslogs import AwsLogs
from localaws.rehearsal.database import LocalDatabase
from localaws.servers import LOOPBACK, RedisServer, free_port, wait_for_port

INIT_TIMEOUT_SECONDS = 120


class TaskFailed(RuntimeError):
    """A task stopped before its essential container ran (an init container failed)."""


@dataclass
class LocalTask:
    service: str
    command: str  # the essential container's command
    task_arn: str = ""
    processes: list[ProcessorProcess] = field(default_factory=list)  # every container started, in order
    address: str = ""  # serve: 127.0.0.1:<port>

    @property
    def main(self) -> ProcessorProcess:
        return self.processes[-1]


class LocalEcs:
    """The tasks of one cluster's services, run locally."""

    def __init__(self, account: Account, workdir: Path, database: LocalDatabase, redis: RedisServer) -> None:
        self.account, self.workdir, self.database, self.redis = account, workdir, database, redis
        self.ecs = account.client("ecs")
        self.awslogs = AwsLogs(account.client("logs"))
        self.tasks: list[LocalTask] = []
        self.serve_addresses: list[str] = []  # what the load balancer targets (the API data plane reads it)
        self.data_dir = workdir / "efs"
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def _secret(self, value_from: str) -> str:
        """An ECS secret reference resolved as ECS resolves it."""
        parts = value_from.split(":")
        arn, key = ":".join(parts[:7]), parts[7] if len(parts) > 7 else ""
        stage = parts[8] if len(parts) > 8 and parts[8] else "AWSCURRENT"
        text = self.account.client("secretsmanager").get_secret_value(SecretId=arn, VersionStage=stage)["SecretString"]
        return str(json.loads(text)[key]) if key else text

    def _environment(self, container: dict[str, Any], name: str) -> dict[str, str]:
        env = {item["name"]: item["value"] for item in container.get("environment", [])}
        env.update({item["name"]: self._secret(item["valueFrom"]) for item in container.get("secrets", [])})
        if "DB_HOST" in env:  # the VPC's database endpoint is the local server
            env.update(DB_HOST=LOOPBACK, DB_PORT=str(self.database.port), DB_SSLMODE="disable")
        if "REDIS_HOST" in env:
            env.update(REDIS_HOST=LOOPBACK, REDIS_PORT=str(self.redis.port), REDIS_TLS="false")
        if "DATA_DIR" in env:
            env["DATA_DIR"] = str(self.data_dir)
        if "PORT" in env:
            env["PORT"] = str(free_port())
        env["HEARTBEAT_FILE"] = str(self.workdir / f"{name}.heartbeat")
        return {**self.account.env, **env}

    def _start(self, task: LocalTask, container: dict[str, Any], index: int) -> ProcessorProcess:
        name = f"{task.command}-{index}-{container['name']}"
        env = self._environment(container, name)
        process = ProcessorProcess(container["command"][0], env, self.workdir / f"{name}.log")
        task.processes.append(process)
        self.awslogs.follow(process.log_path, container, task.task_arn)
        if "PORT" in env and container.get("essential", True):
            wait_for_port(int(env["PORT"]), timeout=60, process=process.process)
            task.address = f"{LOOPBACK}:{env['PORT']}"
        return process

    def _run_dependencies(
        self, task: LocalTask, containers: dict[str, Any], container: dict[str, Any], index: int
    ) -> None:
        for dependency in container.get("dependsOn", []):
            needed, condition = containers[dependency["containerName"]], dependency["condition"]
            self._run_dependencies(task, containers, needed, index)
            process = self._start(task, needed, index)
            if condition == "START":
                continue
            code = process.wait(INIT_TIMEOUT_SECONDS)
            if condition == "SUCCESS" and code != 0:
                tail = process.output()[-2000:]
                raise TaskFailed(
                    f"{task.service}: container {needed['name']} exited {code}, so {container['name']} "
                    f"never started (dependency condition SUCCESS not met):\n{tail}"
                )

    def run(self, cluster: str, service: dict[str, Any]) -> LocalTask:
        """One task of ``service``: registered with ECS, its init containers run to completion, then the essential
        container started."""
        definition = self.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        containers = {c["name"]: c for c in definition["containerDefinitions"]}
        essential = next(c for c in containers.values() if c.get("essential", True))
        task = LocalTask(service["serviceName"], essential["command"][0])
        task.task_arn = self.ecs.run_task(
            cluster=cluster,
            taskDefinition=service["taskDefinition"],
            launchType="FARGATE",
            group=f"service:{service['serviceName']}",
            startedBy=service["deployments"][0]["id"] if service.get("deployments") else "rehearsal",
            networkConfiguration=service["networkConfiguration"],
        )["tasks"][0]["taskArn"]
        self.tasks.append(task)  # stopped by stop() even if what follows fails
        index = len(self.tasks)
        self._run_dependencies(task, containers, essential, index)
        self._start(task, essential, index)
        if task.address:
            self.serve_addresses.append(task.address)
        return task

    def running(self, service_name: str) -> list[LocalTask]:
        return [t for t in self.tasks if t.service == service_name and t.main.process.poll() is None]

    def reconcile(self, cluster: str, service_name: str) -> list[LocalTask]:
        """ECS's service scheduler: start tasks until the service runs its desired count; returns those started."""
        service = self.ecs.describe_services(cluster=cluster, services=[service_name])["services"][0]
        return [self.run(cluster, service) for _ in range(service["desiredCount"] - len(self.running(service_name)))]

    def stop(self) -> None:
        for task in reversed(self.tasks):
            for process in reversed(task.processes):
                process.terminate()
            with contextlib.suppress(Exception):
                self.ecs.stop_task(cluster=self._cluster_of(task), task=task.task_arn, reason="rehearsal finished")
        self.tasks.clear()
        self.awslogs.stop()

    @staticmethod
    def _cluster_of(task: LocalTask) -> str:
        # arn:aws:ecs:<region>:<account>:task/<cluster>/<id>
        return task.task_arn.split(":task/", 1)[-1].split("/", 1)[0]
