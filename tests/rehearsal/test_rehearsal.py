"""The rehearsal as part of `make test`: the synthesized dev stage deployed into moto passes the integration suite,
and the suite fails, naming the cause, when the template loses an output or a property it promises."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from localaws.rehearsal import RehearsalResult, rehearse
from tests.assembly import Synth

pytestmark = pytest.mark.slow
ENVIRONMENT = "dev"
# The binding checks run the smoke subset: everything that reads the deployed stack, without the data path.
SMOKE = ("-m", "smoke")


@pytest.fixture(scope="session")
def rehearse_dev(synth: Synth, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., RehearsalResult]:
    stack = synth.stage_stack(ENVIRONMENT)

    def run(template: dict[str, Any], *pytest_args: str) -> RehearsalResult:
        workdir: Path = tmp_path_factory.mktemp("rehearsal")
        return rehearse(
            template,
            stack_name=stack.name,
            environment=ENVIRONMENT,
            account=stack.account,
            region=stack.region,
            workdir=workdir,
            pytest_args=pytest_args,
        )

    return run


@pytest.fixture(scope="session")
def rehearsal(synth: Synth, rehearse_dev: Callable[..., RehearsalResult]) -> RehearsalResult:
    return rehearse_dev(synth.templates[ENVIRONMENT])


def test_the_dev_stage_passes_the_integration_suite(rehearsal: RehearsalResult) -> None:
    print(f"\nrehearsal: {rehearsal.total_seconds:.1f}s (deploy {rehearsal.deploy_seconds:.1f}s) {rehearsal.summary}")
    assert rehearsal.failed == 0, rehearsal.output
    assert rehearsal.passed >= 30, rehearsal.output  # every check of the suite (31 today) ran and passed


def test_every_part_of_the_suite_ran(rehearsal: RehearsalResult) -> None:
    for module in ("test_outputs", "test_ingestion", "test_database", "test_cache", "test_file_storage",
                   "test_service", "test_api", "test_data_path"):  # fmt: skip
        assert f"tests.integration.{module}" in rehearsal.report.read_text(), f"{module} did not run"


def test_a_renamed_output_fails_the_suite_naming_it(synth: Synth, rehearse_dev) -> None:
    template = copy.deepcopy(synth.templates[ENVIRONMENT])
    template["Outputs"]["StreamNameRenamed"] = template["Outputs"].pop("StreamName")
    result = rehearse_dev(template, *SMOKE)
    assert result.failed > 0
    assert "stack outputs missing: StreamName" in result.output, result.output


def test_storage_encryption_off_fails_the_suite_naming_it(synth: Synth, rehearse_dev) -> None:
    template = copy.deepcopy(synth.templates[ENVIRONMENT])
    (instance,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance"]
    instance["Properties"]["StorageEncrypted"] = False
    instance["Properties"].pop("KmsKeyId", None)
    result = rehearse_dev(template, *SMOKE)
    assert result.failed > 0
    assert "database storage encryption is off" in result.output, result.output
