"""The hash-pinned requirements of the boto3-only steps: preflight/ and tests/integration/requirements.txt.

CodeBuild installs each with `pip install --require-hashes --no-cache-dir -r <file>` and runs its step from the source
tree without installing the repository. So every line must be pinned with `==` and carry its hashes, the versions must
agree with the rest of the repository (the processor's boto3, the CDK app's pydantic, the dev tools' pytest and
requests), and `python -m preflight` and `python -m pytest tests/integration` may import only the standard library,
what their file installs, and the repository's own `platform_config` and `preflight` (and the suite, `tests`).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCKED = {"preflight": REPO / "preflight", "integration": REPO / "tests" / "integration"}
PINNED = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s\\;]+)(?P<hashes>( --hash=sha256:[0-9a-f]{64})+)"
)
SIMPLE_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>\S+)")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(text: str) -> list[str]:
    """The requirement lines as pip reads them: comments dropped, backslash continuations joined, blanks skipped."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        current = (current + line.strip()).strip()
        if current:
            lines.append(current)
        current = ""
    return lines


def pin_problems(text: str) -> list[str]:
    """Every line that is not one package pinned with == and at least one sha256 hash."""
    return [line for line in logical_lines(text) if not PINNED.fullmatch(line)]


def pins(text: str) -> dict[str, str]:
    """Package name (normalized) -> pinned version, of the lines pinned with ==."""
    found = (SIMPLE_PIN.match(line) for line in logical_lines(text))
    return {_normalized(m["name"]): m["version"] for m in found if m}


def _locked(step: str) -> str:
    return (LOCKED[step] / "requirements.txt").read_text()


def test_pin_problems_flags_what_pip_would_not_verify() -> None:
    digest = "0" * 64
    text = (
        "--index-url https://pypi.org/simple\n"
        f"boto3==1.44.8 \\\n    --hash=sha256:{digest}\n    # via -r requirements.in\n"
        "pydantic==2.14.4\n"
        f"requests>=2.34 \\\n    --hash=sha256:{digest}\n"
        f"pytest==9.2.0 --hash=md5:{'0' * 32}\n"
    )
    assert pin_problems(text) == [
        "--index-url https://pypi.org/simple",
        "pydantic==2.14.4",
        f"requests>=2.34 --hash=sha256:{digest}",
        f"pytest==9.2.0 --hash=md5:{'0' * 32}",
    ]
    assert pins(text) == {"boto3": "1.44.8", "pydantic": "2.14.4", "pytest": "9.2.0"}


@pytest.mark.parametrize("step", LOCKED)
def test_every_line_is_pinned_with_its_hashes(step: str) -> None:
    text = _locked(step)
    assert pin_problems(text) == [], f"{step}/requirements.txt: lines pip --require-hashes refuses (run make lock)"
    assert len(pins(text)) == len(logical_lines(text)) > 0


@pytest.mark.parametrize("step", LOCKED)
def test_compiled_from_its_requirements_in(step: str) -> None:
    wanted = pins((LOCKED[step] / "requirements.in").read_text())
    locked = pins(_locked(step))
    assert wanted, f"{step}/requirements.in pins nothing"
    assert {name: locked.get(name) for name in wanted} == wanted, f"{step}/requirements.txt is stale: run make lock"


def test_versions_agree_with_the_rest_of_the_repository() -> None:
    processor = pins((REPO / "services" / "processor" / "requirements.txt").read_text())
    app = pins((REPO / "requirements.txt").read_text())
    dev = pins((REPO / "requirements-dev.txt").read_text())
    assert "pydantic" in app, "requirements.txt (the CDK app's, which runs platform_config) does not pin pydantic"
    expected = {"boto3": processor["boto3"], "botocore": processor["botocore"], "pydantic": app["pydantic"]}
    for step in LOCKED:
        locked = pins(_locked(step))
        assert {name: locked.get(name) for name in expected} == expected, f"{step}/requirements.txt"
    integration = pins(_locked("integration"))
    assert {n: integration.get(n) for n in ("pytest", "requests")} == {n: dev[n] for n in ("pytest", "requests")}


def _imports(path: Path) -> set[str]:
    """Absolute names a module imports (`from a.b import c` gives a.b and a.b.c), outside `if TYPE_CHECKING:`."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing file's package
                package = path.relative_to(REPO).parent.parts
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return names


def _module_file(name: str) -> Path | None:
    base = REPO.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def third_party_imports(entries: Iterable[Path], first_party: set[str]) -> tuple[set[str], set[Path]]:
    """Top-level names of everything outside the standard library and ``first_party`` that ``entries`` import,
    following the first-party modules they import (and their packages' __init__); and the files walked."""
    todo, walked, outside = list(entries), set[Path](), set[str]()
    while todo:
        path = todo.pop()
        if path in walked:
            continue
        walked.add(path)
        for name in _imports(path):
            top = name.split(".")[0]
            if top in first_party:
                parts = name.split(".")
                todo.extend(f for i in range(1, len(parts) + 1) if (f := _module_file(".".join(parts[:i]))))
            elif top not in sys.stdlib_module_names and top != "__future__":
                outside.add(top)
    return outside, walked


def installed_by(step: str) -> set[str]:
    """Top-level modules of the distributions ``step``'s requirements.txt installs (as installed in this venv)."""
    locked = set(pins(_locked(step)))
    return {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if any(_normalized(d) in locked for d in distributions)
    }


def test_the_import_walk_follows_the_repositorys_packages_to_what_they_import(tmp_path: Path) -> None:
    step = tmp_path / "step.py"
    step.write_text("import json\nimport yaml\nfrom platform_config import contract\n")
    outside, walked = third_party_imports([step], {"platform_config", "preflight"})
    assert REPO / "platform_config" / "contract.py" in walked
    assert REPO / "platform_config" / "settings.py" in walked  # through platform_config/__init__.py
    assert outside == {"yaml", "processor", "pydantic"}  # processor: what platform_config.contract re-exports


def test_preflight_needs_nothing_beyond_boto3_and_pydantic() -> None:
    entries = sorted((REPO / "preflight").glob("*.py"))
    outside, walked = third_party_imports(entries, {"platform_config", "preflight"})
    assert REPO / "platform_config" / "__init__.py" in walked
    assert outside <= {"boto3", "botocore", "pydantic"}, f"python -m preflight imports {sorted(outside)}"
    assert outside <= installed_by("preflight")


def test_the_integration_suite_imports_only_what_its_file_installs() -> None:
    entries = [REPO / "tests" / "__init__.py", REPO / "tests" / "conftest.py"]
    entries += sorted((REPO / "tests" / "integration").glob("*.py"))
    outside, walked = third_party_imports(entries, {"platform_config", "preflight", "tests"})
    missing = outside - installed_by("integration")
    assert not missing, f"tests/integration imports {sorted(missing)}, which tests/integration/requirements.txt lacks"
    assert {"boto3", "pytest", "requests"} <= outside
    assert REPO / "tests" / "assembly.py" in walked  # tests/conftest.py, which pytest loads for tests/integration
