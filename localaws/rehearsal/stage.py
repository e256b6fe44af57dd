"""The deployed stage every scenario plays on: the emulated account (as the pipeline's deploy role, and as the pipeline
itself), the local servers standing in for RDS and ElastiCache, the services' local tasks, the API's data plane, and
the platform stack as last deployed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.api_gateway import ApiGatewayDataPlane
from localaws.rehearsal.account import Account
from localaws.rehearsal.database import LocalDatabase
from localaws.rehearsal.deploy import deploy_stack
from localaws.rehearsal.suite import SuiteResult, run_suite
from localaws.rehearsal.tasks import LocalEcs
from localaws.servers import RedisServer
from platform_config import EnvironmentSettings, PlatformConfig
from platform_config.assembly import CloudAssembly


@dataclass
class Stage:
    assembly: CloudAssembly
    config: PlatformConfig
    settings: EnvironmentSettings
    pipeline: Account  # the pipeline's own (tooling) credentials
    account: Account  # the stage account, as its CDK deploy role
    database: LocalDatabase
    redis: RedisServer
    ecs: LocalEcs
    api: ApiGatewayDataPlane
    workdir: Path
    stack_name: str
    template: dict[str, Any]  # the platform stack's template as deployed now
    outputs: dict[str, str]
    suites: list[SuiteResult] = field(default_factory=list)

    @property
    def cluster(self) -> str:
        return self.outputs["ClusterName"]

    @property
    def outputs_file(self) -> Path:
        return self.workdir / "cfn-outputs" / "flat-outputs.json"

    def write_outputs(self) -> None:
        self.outputs_file.parent.mkdir(parents=True, exist_ok=True)
        self.outputs_file.write_text(json.dumps(self.outputs, indent=2) + "\n")

    def suite(self, name: str, *pytest_args: str) -> SuiteResult:
        """The integration suite against the stage's current outputs (JUnit report `<name>.xml` in the workdir)."""
        self.write_outputs()
        env = {
            **self.account.env,
            "OUTPUTS_FILE": str(self.outputs_file),
            "ENVIRONMENT": self.settings.name,
            "DATA_DIR": str(self.ecs.data_dir),
            "AWS_ENDPOINT_URL_EXECUTE_API": self.api.endpoint,
        }
        result = run_suite(env, self.workdir / f"{name}.xml", *pytest_args)
        self.suites.append(result)
        return result

    def as_role(self, kind: str, session_name: str) -> Account:
        """The stage account as one of its CDK bootstrap roles (lookup, deploy...), assumed by the pipeline."""
        account = Account(self.pipeline.env, self.account.account, self.account.region, self.account.qualifier)
        return account.assume(kind, session_name)

    def deploy(self, template: dict[str, Any]) -> dict[str, str]:
        """Update the platform stack with ``template`` (the next push); the stage's outputs follow."""
        self.outputs = deploy_stack(self.account, self.stack_name, template)
        self.template = template
        return self.outputs
