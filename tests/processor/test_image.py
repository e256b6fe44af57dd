"""The container image, without a Docker engine: its Dockerfile's rules, and its install steps run for real.

The Dockerfile builds wheels with scripts/build-wheels.sh and installs them offline with
scripts/install-wheels.sh; this test runs those same two scripts into a fresh virtual environment and starts
both commands from it against the real servers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from localaws.processes import ProcessorProcess, wait_until
from localaws.servers import free_port, wait_for_port
from tests.processor.helpers import put_readings, reading, stored_count

PROCESSOR = Path(__file__).resolve().parents[2] / "services" / "processor"
DOCKERFILE = (PROCESSOR / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1] if " " in line else "")
        for line in joined.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_dockerfile_is_multi_stage_slim_non_root_with_a_healthcheck():
    steps = instructions()
    froms = [args for op, args in steps if op == "FROM"]
    assert len(froms) == 2 and froms[0].endswith("AS build")
    assert froms[1] == "${PYTHON_IMAGE}"
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert any(op == "HEALTHCHECK" and "processor" in args for op, args in steps)
    runs = " ".join(args for op, args in steps if op == "RUN")
    assert "scripts/build-wheels.sh" in runs and "install-wheels.sh" in runs
    assert ("ENTRYPOINT", '["processor"]') in steps


def test_base_image_is_pinned_on_ecr_public_and_nothing_comes_from_docker_hub():
    args = [args for op, args in instructions() if op == "ARG" and args.startswith("PYTHON_IMAGE=")]
    assert args == ["PYTHON_IMAGE=public.ecr.aws/docker/library/python:3.11.14-slim-bookworm"]
    assert re.fullmatch(r"PYTHON_IMAGE=public\.ecr\.aws/docker/library/python:3\.11\.\d+-slim-bookworm", args[0])
    # A `# syntax=` directive pulls its BuildKit frontend from Docker Hub; --chmod on ADD/COPY needs one.
    assert not re.search(r"^#\s*syntax\s*=", DOCKERFILE, re.MULTILINE | re.IGNORECASE)
    assert "--chmod" not in DOCKERFILE
    images = [args.split()[0] for op, args in instructions() if op == "FROM"] + [args[0].split("=", 1)[1]]
    for image in images:
        if image.startswith("$"):
            continue
        assert image.split("/")[0] == "public.ecr.aws", f"{image} would be pulled from Docker Hub"
    assert "docker.io" not in DOCKERFILE


def test_runtime_dependencies_are_pinned_exactly():
    lines = [line for line in (PROCESSOR / "requirements.txt").read_text().splitlines() if line and line[0] != "#"]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", line) for line in lines), lines


@pytest.mark.slow
def test_image_install_steps_produce_a_working_processor(tmp_path, kinesis, stream, db, processor_env):
    venv = tmp_path / "image"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin"}
    subprocess.run([str(PROCESSOR / "scripts/build-wheels.sh"), str(tmp_path / "wheels")], check=True, env=env)
    subprocess.run([str(PROCESSOR / "scripts/install-wheels.sh"), str(tmp_path / "wheels")], check=True, env=env)
    # Run from a directory without the source tree, so the installed package is what runs.
    put_readings(kinesis, stream, [reading("sensor-img", t) for t in range(5)])
    consume = ProcessorProcess("consume", processor_env, tmp_path / "consume.log", python=str(python))
    wait_until(lambda: stored_count(db) == 5, 60, message="image's consume stored readings")
    port = free_port()
    serve = ProcessorProcess("serve", {**processor_env, "PORT": str(port)}, tmp_path / "serve.log", str(python))
    wait_for_port(port, process=serve.process)
    assert httpx.get(f"http://127.0.0.1:{port}/sensors/sensor-img/latest").json()["sensorId"] == "sensor-img"
    healthcheck = subprocess.run(
        [str(venv / "bin" / "processor"), "healthcheck"],
        env={**processor_env, "PORT": str(port), "HEARTBEAT_FILE": str(tmp_path / "none")},
    )
    assert healthcheck.returncode == 0
    assert consume.terminate() == 0 and serve.terminate() == 0
    installed = subprocess.run(
        [str(python), "-c", "import processor, sys; print(processor.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert str(venv) in installed
