"""`rehearse`: one rehearsal from a fresh emulator to the last scenario; every server and process it starts is stopped
by it, by process id, in reverse order."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.api_gateway import ApiGatewayDataPlane
from localaws.rehearsal.account import Account
from localaws.rehearsal.database import LocalDatabase
from localaws.rehearsal.deploy import deploy_stage
from localaws.rehearsal.scenarios import ScenarioResult, summary
from localaws.rehearsal.stage import Stage
from localaws.rehearsal.suite import SuiteResult
from localaws.rehearsal.tasks import LocalEcs
from localaws.servers import MotoServer, RedisServer, aws_environment
from platform_config import load_config_file
from platform_config.assembly import CloudAssembly
from platform_config.naming import BOOTSTRAP_QUALIFIER, stack_name

Scenarios = Callable[[Stage], list[ScenarioResult]]
# What the rehearsal reads of the platform stack to play its servers, tasks and API.
NEEDED_OUTPUTS = (
    "DatabaseIdentifier",
    "DatabaseSecretArn",
    "RedisAuthTokenSecretArn",
    "ClusterName",
    "ConsumeServiceName",
    "ServeServiceName",
    "LoadBalancerDnsName",
)


class RehearsalStopped(RuntimeError):
    """The stage could not be played; the message says why."""


def summary_line(integration: tuple[int, int], day2: tuple[int, int], review: tuple[int, int]) -> str:
    """The rehearsal's last line from (passed, failed) of each part: what `make rehearse` ends with."""
    return (
        f"integration_passed={integration[0]} integration_failed={integration[1]} day2_passed={day2[0]} "
        f"day2_failed={day2[1]} review_passed={review[0]} review_failed={review[1]}"
    )


@dataclass
class RehearsalResult:
    """What the first integration suite reported, each scenario's result, where to look, and the timings."""

    suite: SuiteResult
    workdir: Path
    outputs: dict[str, str]
    day2: list[ScenarioResult] = field(default_factory=list)
    review: list[ScenarioResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> int:
        return self.suite.passed

    @property
    def failed(self) -> int:
        return self.suite.failed

    @property
    def output(self) -> str:
        return self.suite.output

    @property
    def summary(self) -> str:
        return summary_line((self.passed, self.failed), summary(self.day2), summary(self.review))

    @property
    def ok(self) -> bool:
        return self.suite.ok and all(r.passed for r in (*self.day2, *self.review))


@contextlib.contextmanager
def _started(server: Any) -> Iterator[Any]:
    server.start()
    try:
        yield server
    finally:
        server.close()


def rehearse(
    assembly: CloudAssembly,
    environment: str,
    *,
    template: dict[str, Any] | None = None,
    workdir: Path | None = None,
    pytest_args: tuple[str, ...] = (),
    day2: Scenarios | None = None,
    review: Scenarios | None = None,
) -> RehearsalResult:
    """Deploy ``environment``'s stage of ``assembly`` (its platform template replaced by ``template`` when given) into
    a fresh moto, run its services locally and the integration suite against it, then the ``day2`` and ``review``
    scenarios on the same account and servers."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="iot-rehearsal-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = load_config_file()
    settings = config.environment(environment)
    platform = assembly.stack(stack_name(environment))
    timings: dict[str, float] = {}
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        moto = stack.enter_context(_started(MotoServer(log_path=workdir / "moto.log")))
        database = LocalDatabase.start()
        stack.callback(database.close)
        pipeline = Account(
            aws_environment(moto.endpoint, platform.region), "pipeline", platform.region, BOOTSTRAP_QUALIFIER
        )
        account = Account(pipeline.env, platform.account, platform.region, BOOTSTRAP_QUALIFIER).assume("deploy")
        account.bootstrap()
        step = time.monotonic()
        deployed = template or platform.template
        outputs = deploy_stage(account, assembly, environment, {platform.name: deployed})[platform.name]
        timings["deploy"] = time.monotonic() - step
        missing = [name for name in NEEDED_OUTPUTS if not outputs.get(name)]
        if missing:
            raise RehearsalStopped(f"{platform.name} has no outputs {', '.join(missing)}: the stage cannot be played")

        database.play_instance(account, outputs["DatabaseIdentifier"], outputs["DatabaseSecretArn"])
        token = account.client("secretsmanager").get_secret_value(SecretId=outputs["RedisAuthTokenSecretArn"])
        redis = stack.enter_context(_started(RedisServer(password=token["SecretString"])))
        ecs = LocalEcs(account, workdir, database, redis)
        stack.callback(ecs.stop)
        step = time.monotonic()
        for service in ("ConsumeServiceName", "ServeServiceName"):
            ecs.reconcile(outputs["ClusterName"], outputs[service])
        timings["tasks"] = time.monotonic() - step
        targets = {outputs["LoadBalancerDnsName"]: ecs.serve_addresses}
        api = stack.enter_context(_started(ApiGatewayDataPlane(account.env, targets)))
        stage = Stage(
            assembly,
            config,
            settings,
            pipeline,
            account,
            database,
            redis,
            ecs,
            api,
            workdir,
            platform.name,
            deployed,
            outputs,
        )
        step = time.monotonic()
        suite = stage.suite("integration", *pytest_args)
        timings["integration"] = time.monotonic() - step
        result = RehearsalResult(suite, workdir, dict(outputs))
        for name, scenarios in (("day2", day2), ("review", review)):
            if scenarios is not None:
                step = time.monotonic()
                setattr(result, name, scenarios(stage))
                timings[name] = time.monotonic() - step
    timings["total"] = time.monotonic() - started
    result.timings = timings
    return result
