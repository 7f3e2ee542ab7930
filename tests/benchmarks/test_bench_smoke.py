"""Smoke run of ``python -m benchmarks --quick`` on its cheapest part (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_signing_bench_writes_results_with_the_expected_keys(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "signing", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    assert {"mode", "date", "machine", "total_seconds", "figures"} <= results.keys()
    assert results["mode"] == "quick"
    assert {"cpu_count", "memory_mib", "python", "prefect"} <= results["machine"].keys()
    rows = results["figures"]["signing"]["rows"]
    assert set(rows) == {"1", "100"}
    for row in rows.values():
        assert {"prepare_ms", "apply_ms", "two_phase_ms", "signxml_ms", "ratio"} <= row.keys()
        assert {"two_phase_rss_growth_mib", "signxml_rss_growth_mib"} <= row.keys()
    assert "4. Signing a D02-TS" in (out / "results.md").read_text()


def test_a_run_that_did_not_do_all_its_work_is_failed_and_gets_no_ratio(tmp_path: Path) -> None:
    # One dossier is taken out of the inbox before the Prefect run: it submits fewer
    # dossiers than it was given, so the case is FAILED, no ratio, and the bench exits 1.
    # The floor runs first on the bench's one API server: the end-to-end case counts its
    # own runs only, none of the floor's.
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "floor,end_to_end", "--models",
         "zero", "--repeat", "1", "--sabotage", "prefect-1", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    zero = results["figures"]["end_to_end"]["zero"]
    assert zero["failed"] and "5 of 6 dossiers submitted" in zero["failed"][0]
    assert "ratio" not in zero and "overhead_ms_per_dossier" not in zero
    assert results["figures"]["floor"]["task_runs"] > 0
    assert "floor_step" not in zero["task_runs_by_name"], zero["task_runs_by_name"]
    assert zero["flow_runs"] == 2  # the sabotaged run and the profiled one
    assert results["failed"]
    table = (out / "results.md").read_text()
    assert "**FAILED**" in table and "FAILED cases" in table
