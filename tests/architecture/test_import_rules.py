"""The shape of the house, checked: the import rules (import-linter contracts in
pyproject.toml), no import circle, package faces, module sizes, one time zone.

Each check reads the source as it is; the second test shows the contracts can fail.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "esign",
    "bhxh",
    "blocks",
    "tasks",
    "flows",
    "sandbox",
    "deployments",
    "demo",
    "benchmarks",
    "receiver",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: bhxh's subpackages (each has a face, its __init__) and its base layer's modules.
BHXH_PACKAGES = {p.name for p in (ROOT / "bhxh").iterdir() if (p / "__init__.py").is_file()}
#: Submodules meant to be imported by name from outside their package.
PUBLIC_SUBMODULES = {"bhxh.submission.conformance"}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every module named by an import in ``path`` (function-level ones too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, _ in _imports(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_broken_import_rule_fails_the_check(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "bhxh" / "intake" / "leak.py").write_text("import prefect\nimport bhxh.overview\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "bhxh.intake.leak -> prefect" in result.stdout
    assert "bhxh.intake.leak -> bhxh.overview" in result.stdout


def test_no_import_circle_between_project_modules() -> None:
    assert _circles(_graph()) == []


def test_the_circle_check_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_code_outside_a_bhxh_package_imports_its_face() -> None:
    offences = []
    for name, path in _modules().items():
        for target, line in _imports(path):
            parts = target.split(".")
            if parts[0] != "bhxh" or len(parts) < 3 or parts[1] not in BHXH_PACKAGES:
                continue
            inside = name.split(".")[:2] == ["bhxh", parts[1]]
            module = ".".join(parts[:3])
            if (
                not inside
                and module not in PUBLIC_SUBMODULES
                and (ROOT / "bhxh" / parts[1] / f"{parts[2]}.py").exists()
            ):
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offences == []


def test_private_modules_are_imported_only_inside_their_package() -> None:
    modules = _modules()
    offences = []
    for name, path in modules.items():
        for target, line in _imports(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            parts = target.split(".")
            private = [i for i, part in enumerate(parts) if part.startswith("_")]
            if private and name.split(".")[: private[0]] != parts[: private[0]]:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert offences == []


def test_bhxh_keeps_at_most_ten_modules_at_its_top() -> None:
    top = [p.name for p in (ROOT / "bhxh").glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= 10, top


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_800_lines(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert long == {}


def test_vietnam_time_zone_is_defined_once_outside_the_sandbox() -> None:
    places = [
        f"{path.relative_to(ROOT)}"
        for package in PACKAGES
        if package != "sandbox"
        for path in (ROOT / package).rglob("*.py")
        if 'ZoneInfo("Asia/Ho_Chi_Minh")' in path.read_text(encoding="utf-8")
    ]
    assert places == ["bhxh/periods.py"]


def test_the_extending_page_names_real_files() -> None:
    rows = [
        line
        for line in (ROOT / "docs" / "extending.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| [")
    ]
    assert len(rows) == 4  # a provider, a carrier, a provider callback, a store backend
    paths = [
        token
        for row in rows
        for token in re.findall(r"`([^`]+)`", row)
        if "/" in token and "<" not in token and " " not in token
    ]
    assert len(paths) >= 8
    assert [p for p in paths if not (ROOT / p).exists()] == []
