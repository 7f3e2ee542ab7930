"""Part 7, ``pool``: a month over a work pool, units per minute with 1, 2 and 3 workers.

One pool (``deployments.pool``) measures every size: a Prefect server and the dossier
store on a throwaway PostgreSQL cluster, process workers each with its own empty data
folder (the most asked first, then stopped down to each smaller size), the month's
dossiers loaded into the store, the sandbox with the realistic latency model (provider
150 ms, gateway 300 ms, the phone approving after L seconds), and ``monthly_submission``
spreading one child run per unit of a group of its own over the pool. Timed from the
monthly run's start to its end; the work is checked from the sandbox's audit (every
dossier submitted once, at most two approvals per unit), a run that did not do all its
work is FAILED and gives no figure.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from demo.scenario import DemoUnit, many_units
from deployments.pool import POOL_WORKER_LIMIT, PoolStack, pool_stack, wait_final
from deployments.stack import run_deployment
from sandbox.audit import read_audit

__all__ = ["bench_pool", "render_pool"]

PERIOD = "01/2026"
WORKERS = (1, 2, 3)


def _measure(pool: PoolStack, units: list[DemoUnit]) -> dict[str, Any]:
    """One monthly run over ``units`` on the pool's running workers; its row."""
    workers = sum(1 for w in pool.workers if w.alive())
    started = time.perf_counter()
    run_id = run_deployment(
        pool.server, "monthly_submission/monthly", period=PERIOD, units=[u.block for u in units]
    )
    run = wait_final(pool.server, run_id, timeout=3600)
    wall = time.perf_counter() - started
    codes = {u.unit.code for u in units}
    users = {u.username for u in units}
    audit = read_audit(pool.sandbox.config.audit_path)
    submitted = Counter(
        str(e.get("dossier_id"))
        for e in audit
        if e.get("service") == "gateway"
        and e.get("event") == "submitted"
        and e.get("unit_code") in codes
    )
    approved = Counter(
        str(e.get("user")) for e in audit if e.get("event") == "approved" and e.get("user") in users
    )
    n = len(units)
    failed = []
    if run["state"]["type"] != "COMPLETED":
        failed.append(f"the monthly run ended {run['state']['type']}")
    if len(submitted) != n or set(submitted.values()) != {1}:
        failed.append(f"{len(submitted)} of {n} dossiers submitted once")
    if len(approved) != n or max(approved.values(), default=0) > 2:
        failed.append("approvals: not every unit approved, or more than two for one")
    out: dict[str, Any] = {"workers": workers, "units": n, "failed": failed}
    if not failed:
        out["wall_seconds"] = wall
        out["units_per_minute"] = n / wall * 60
    return out


def bench_pool(root: Path, pki: Path, quick: bool, full: bool = False) -> dict[str, Any]:
    """One pool (server, store, sandbox, the most workers asked) measures every size, the largest
    first: a monthly run over a group of units of its own, then workers are stopped down to
    the next size. Full mode: 24 units on 3, 2 and 1 workers; by default 3 units on 3 and 1
    workers (``--quick``: on 3, 2 and 1), to keep ``make bench`` short. Each size's row is
    printed and written to ``pool-rows.json`` as soon as it is measured."""
    units = 24 if full else 3
    sizes = sorted(WORKERS if quick or full else (1, 3), reverse=True)
    approve_after = 1.0 if quick else 5.0
    # One group of units per size, numbered apart (many_units: distinct codes and users).
    demo = many_units(units * len(sizes), prefix="pool", approve_after=approve_after)
    groups = [demo[i * units : (i + 1) * units] for i in range(len(sizes))]
    rows: list[dict[str, Any]] = []
    with pool_stack(
        root / "pool",
        demo,
        period=PERIOD,
        pki_dir=pki,
        workers=sizes[0],
        dossiers=1,
        worker_env={"BHXH_POLL_INITIAL_SECONDS": "1", "BHXH_POLL_MAX_SECONDS": "2"},
        provider_overrides={"faults": {"slow_seconds": 0.15}},
        gateway_overrides={"faults": {"slow_seconds": 0.30}},
    ) as pool:
        for n, group in zip(sizes, groups, strict=True):
            for extra in pool.workers[n:]:
                extra.stop()
            row = _measure(pool, group)
            rows.append(row)
            (root / "pool-rows.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False))
            said = (
                "FAILED: " + "; ".join(row["failed"])
                if row["failed"]
                else (
                    f"{row['wall_seconds']:.1f} s, {row['units_per_minute']:.1f} units per minute"
                )
            )
            print(f"  pool, {n} worker(s): {said}", file=sys.stderr, flush=True)
    return {
        "units": units,
        "approve_after_seconds": approve_after,
        "worker_limit": POOL_WORKER_LIMIT,
        "rows": sorted(rows, key=lambda r: int(r["workers"])),
    }


def render_pool(figures: dict[str, Any]) -> list[str]:
    lines = [
        f"**7. A month over a work pool**: {figures['units']} units x 1 dossier, one child run "
        "per unit, PostgreSQL server and store, each worker its own empty folder; realistic "
        f"latency, the phone approving after {figures['approve_after_seconds']:g} s; each "
        f"worker runs {figures.get('worker_limit', 'any number of')} flow runs at once",
        "",
        "| workers | wall | units per minute |",
        "|---|---|---|",
    ]
    for r in figures["rows"]:
        if r["failed"]:
            lines.append(f"| {r['workers']} | FAILED: {'; '.join(r['failed'])} | |")
        else:
            lines.append(
                f"| {r['workers']} | {r['wall_seconds']:.1f} s | {r['units_per_minute']:.1f} |"
            )
    lines.append("")
    return lines
