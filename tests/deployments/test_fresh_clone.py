"""A fresh clone's commands start without warnings: Prefect creates its home folder when
first imported but not the folders above it, so each entry point creates it first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "module", ["flows", "demo.__main__", "benchmarks.__main__", "deployments.server"]
)
def test_the_entry_points_start_without_a_prefect_home_warning(tmp_path: Path, module: str) -> None:
    home = tmp_path / "clone" / "var" / "prefect"  # no var/ yet, as after `git clone`
    env = {**os.environ, "PREFECT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Failed to create the Prefect home directory" not in done.stderr
    assert "Warning" not in done.stderr, done.stderr
    assert home.is_dir()


def test_the_make_targets_create_prefect_home_first() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "bench", "server"):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert '@mkdir -p "$(PREFECT_HOME)"' in recipe, target
