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
