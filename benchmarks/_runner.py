"""Run one case in a fresh process with its own data dir and temporary Prefect home."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._api import API, wait_idle
from benchmarks._world import WorldSpec, prepare_world

__all__ = ["BenchDirs", "run_case", "run_part"]


class BenchDirs:
    """``var/bench`` layout: a shared test PKI, one folder per case."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pki = root / "pki"
        self.cases = root / "cases"
        self.root.mkdir(parents=True, exist_ok=True)

    def fresh(self, name: str) -> Path:
        folder = self.cases / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder


def _clean_env() -> dict[str, str]:
    """This process's environment without our ``PREFECT_*`` or ``BHXH_*`` settings (but the
    log level), plus the bench's API server when one runs (``benchmarks._api``)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "BHXH_")) or k == "PREFECT_LOGGING_LEVEL"
    }
    if API["url"]:
        env["PREFECT_API_URL"] = API["url"]
    return env


def _before_case() -> None:
    """A case starts once the bench's API has recorded the work of the one before."""
    if API["url"] and not wait_idle(API["url"]):
        print(
            "  the bench's API was still recording the case before after 300 s: "
            "this case is measured beside a busy API",
            file=sys.stderr,
            flush=True,
        )


def _env(case_dir: Path, data_dir: Path, extra: dict[str, str] | None) -> dict[str, str]:
    env = _clean_env()
    env.update(
        {
            # Without the bench's API server (benchmarks._api): a temporary local API
            # over SQLite under this home.
            "PREFECT_HOME": str(case_dir / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
            "BHXH_DATA_DIR": str(data_dir),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra or {})
    return env


def run_case(
    dirs: BenchDirs,
    name: str,
    world: WorldSpec | None,
    case: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 900,
) -> dict[str, Any]:
    """Prepare the world (not timed), run the case in a child process, return its result.

    The case's flow runs are tagged ``bench-<name>`` (its counts are its own on the bench's
    shared API)."""
    folder = dirs.fresh(name)
    data_dir = folder / "data"
    assert world is not None
    world = WorldSpec(**{**world.to_json(), "data_dir": str(data_dir), "pki_dir": str(dirs.pki)})
    world = WorldSpec.from_json(world.to_json())
    prep_started = time.perf_counter()
    rows = prepare_world(world)
    world_file = folder / "world.json"
    world_file.touch(mode=0o600)
    world_file.write_text(json.dumps(world.to_json()))
    units_file = folder / "units.json"
    units_file.write_text(json.dumps(rows))
    case = {
        **case,
        "world": world.to_json(),
        "world_file": str(world_file),
        "units_file": str(units_file),
        "out": str(folder / "result.json"),
        "tag": f"bench-{name}",
    }
    case_file = folder / "case.json"
    case_file.touch(mode=0o600)
    case_file.write_text(json.dumps(case))
    _before_case()
    started = time.perf_counter()
    with open(folder / "case.log", "wb") as log:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks._case", str(case_file)],
            env=_env(folder, data_dir, env),
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if proc.returncode != 0:
        tail = (folder / "case.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"case {name} failed (exit {proc.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads((folder / "result.json").read_text())
    result["process_seconds"] = time.perf_counter() - started
    result["prepare_seconds"] = started - prep_started
    return result


def run_part(root: Path, name: str, args: list[str], timeout: float = 900) -> dict[str, Any]:
    """Run ``python -m benchmarks.<name> *args --out FILE`` in a fresh process under
    ``root/cases/<name>`` (no ``PREFECT_*`` or ``BHXH_*`` of ours but the log level and
    the bench's API server: the part sets its own); returns the JSON it wrote.
    ``{folder}`` in ``args`` is that folder."""
    folder = root / "cases" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = _clean_env()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = folder / "result.json"
    argv = [sys.executable, "-m", f"benchmarks.{name}"]
    argv += [a.replace("{folder}", str(folder)) for a in args] + ["--out", str(out)]
    _before_case()
    with open(folder / "case.log", "wb") as log:
        subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
    if not out.exists():
        tail = (folder / "case.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the {name} case failed:\n{tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result
