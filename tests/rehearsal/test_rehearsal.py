"""The rehearsal as part of `make test`: the synthesized dev stage deployed into moto passes the integration suite, then
every day-2 and review scenario passes on the same emulated account (one rehearsal, played once per session); and
the suite fails, naming the cause, when the template loses an output or a property it promises."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from localaws.rehearsal import day2, review
from localaws.rehearsal.runner import RehearsalResult, rehearse
from localaws.rehearsal.scenarios import ScenarioResult
from localaws.rehearsal.suite import SMOKE
from tests.assembly import Synth

pytestmark = pytest.mark.slow
ENVIRONMENT = "dev"


@pytest.fixture(scope="session")
def rehearse_dev(synth: Synth, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., RehearsalResult]:
    def run(template: dict[str, Any] | None = None, *pytest_args: str, **scenarios: Any) -> RehearsalResult:
        return rehearse(
            synth.assembly,
            ENVIRONMENT,
            template=template,
            workdir=tmp_path_factory.mktemp("rehearsal"),
            pytest_args=pytest_args,
            **scenarios,
        )

    return run


@pytest.fixture(scope="session")
def rehearsal(rehearse_dev: Callable[..., RehearsalResult]) -> RehearsalResult:
    """The whole rehearsal, once: deploy, the integration suite, then every day-2 and review scenario."""
    result = rehearse_dev(day2=day2.scenarios, review=review.scenarios)
    print(f"\nrehearsal: {result.timings} {result.summary}")
    return result


def test_the_dev_stage_passes_the_integration_suite(rehearsal: RehearsalResult) -> None:
    assert rehearsal.failed == 0, rehearsal.output
    assert rehearsal.passed >= 35, rehearsal.output  # every check of the suite (38 today) ran and passed


def test_every_part_of_the_suite_ran(rehearsal: RehearsalResult) -> None:
    for module in (
        "test_outputs",
        "test_ingestion",
        "test_database",
        "test_cache",
        "test_file_storage",
        "test_service",
        "test_api",
        "test_data_path",
        "test_secrets",
        "test_secret_values",
    ):
        assert f"tests.integration.{module}" in rehearsal.suite.report.read_text(), f"{module} did not run"


def _scenario(results: list[ScenarioResult], name: str) -> ScenarioResult:
    found = [r for r in results if r.name == name]
    assert found, f"scenario {name} did not run (ran: {[r.name for r in results]})"
    return found[0]


@pytest.mark.parametrize("name", day2.NAMES)
def test_day2_scenario_passes(rehearsal: RehearsalResult, name: str) -> None:
    scenario = _scenario(rehearsal.day2, name)
    assert scenario.passed, f"{name}:\n" + "\n".join(scenario.proofs)


@pytest.mark.parametrize("name", review.NAMES)
def test_review_scenario_passes(rehearsal: RehearsalResult, name: str) -> None:
    scenario = _scenario(rehearsal.review, name)
    assert scenario.passed, f"{name}:\n" + "\n".join(scenario.proofs)


def test_the_last_line_counts_every_scenario(rehearsal: RehearsalResult) -> None:
    assert rehearsal.summary == (
        f"integration_passed={rehearsal.passed} integration_failed=0 day2_passed={len(day2.NAMES)} day2_failed=0 "
        f"review_passed={len(review.NAMES)} review_failed=0"
    )


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
