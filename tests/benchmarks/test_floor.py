"""Part 8 of ``make bench``, Prefect's own cost of a task run: both sides do every step,
the figures and the table come out (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_the_floor_part_counts_every_step_on_both_sides_and_renders(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "floor", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    floor = results["figures"]["floor"]
    assert floor["failed"] == []
    assert floor["task_runs"] == floor["units"] * floor["steps"] == 5 * 12
    for key in ("bare_s", "prefect_s", "per_task_run_ms", "one_at_a_time_ms"):
        assert isinstance(floor[key], float), key
    # The API recorded every task run the flow ran (the completion check).
    assert floor["recorded_after_flow_s"] >= 0
    table = (out / "results.md").read_text()
    assert "**8. Prefect's own cost of a task run**" in table
    assert "ms** more" in table
