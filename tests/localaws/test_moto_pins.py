"""The moto internals localaws replaces, wraps or calls are those of the pinned moto: an upgrade that changes one fails
here, naming it and the localaws module to re-check (localaws/moto_pins.py)."""

from __future__ import annotations

import pytest

from localaws import moto_pins


def test_every_pinned_moto_internal_is_unchanged() -> None:
    assert moto_pins.problems() == []


def test_a_changed_internal_is_named_with_the_module_to_recheck(monkeypatch: pytest.MonkeyPatch) -> None:
    dotted = "moto.kinesis.models:KinesisBackend.get_records"
    monkeypatch.setitem(moto_pins.SOURCES, dotted, ("0" * 16, "localaws.kinesis_patches"))
    (problem,) = moto_pins.problems()
    assert problem.startswith(f"moto changed {dotted} (source ") and problem.endswith(
        "re-check localaws.kinesis_patches"
    )


def test_a_changed_signature_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    dotted = "moto.ecs.models:EC2ContainerServiceBackend.create_service"
    monkeypatch.setitem(moto_pins.SIGNATURES, dotted, (("cluster_str",), "localaws.models.ecs"))
    (problem,) = moto_pins.problems()
    assert f"moto changed the parameters of {dotted}" in problem
