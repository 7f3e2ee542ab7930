"""Run one case in a fresh process with its own data dir and temporary Prefect home."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


def _env(case_dir: Path, data_dir: Path, extra: dict[str, str] | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "BHXH_")) or k == "PREFECT_LOGGING_LEVEL"
    }
    env.update(
        {
            # The embedded default: a temporary local API over SQLite under this home.
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
    database: str = "sqlite",
) -> dict[str, Any]:
    """Prepare the world (not timed), run the case in a child process, return its result.

    ``database="postgres"`` points the temporary local API at a throwaway PostgreSQL
    cluster (``deployments.postgres``) instead of SQLite under ``PREFECT_HOME``.
    """
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
    }
    case_file = folder / "case.json"
    case_file.touch(mode=0o600)
    case_file.write_text(json.dumps(case))
    with contextlib.ExitStack() as stack:
        extra = dict(env or {})
        if database == "postgres":
            from deployments.postgres import PostgresCluster

            cluster = stack.enter_context(PostgresCluster.create())
            extra["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = cluster.url
        elif database != "sqlite":
            raise ValueError(f"unknown database {database!r}: sqlite or postgres")
        started = time.perf_counter()
        with open(folder / "case.log", "wb") as log:
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks._case", str(case_file)],
                env=_env(folder, data_dir, extra),
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
    ``root/cases/<name>`` (no ``PREFECT_*`` or ``BHXH_*`` of ours but the log level: the
    part sets its own); returns the JSON it wrote. ``{folder}`` in ``args`` is that folder.
    """
    folder = root / "cases" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "BHXH_")) or k == "PREFECT_LOGGING_LEVEL"
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = folder / "result.json"
    argv = [sys.executable, "-m", f"benchmarks.{name}"]
    argv += [a.replace("{folder}", str(folder)) for a in args] + ["--out", str(out)]
    with open(folder / "case.log", "wb") as log:
        subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
    if not out.exists():
        tail = (folder / "case.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the {name} case failed:\n{tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result
