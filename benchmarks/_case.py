"""``python -m benchmarks._case CASE.json``: measured runs in a fresh process.

The case file names the world (already prepared by the driver), the steps to run one
after the other (``monthly``, ``sign_and_submit``, ``setup`` or ``baseline``, each over
some unit groups) and where to write the result JSON. The sandbox runs in a child
process; Prefect (for the flow kinds) uses its temporary local API under the
``PREFECT_HOME`` the driver set, and is imported only by the flow kinds.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._sandbox import RunningSandbox

PERIOD = "01/2026"
CLIENT_ID = "prefect-bhxh-demo"  # demo.scenario.CLIENT_ID (not imported: it imports Prefect)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _prefect_counts() -> dict[str, Any]:
    """Flow and task runs in the API. Task runs reach the database through events, a
    little after they ran: read until the count stops moving."""
    from prefect import get_client

    names: Counter[str] = Counter()
    previous = -1
    async with get_client() as client:
        flow_runs = await client.count_flow_runs()
        for _ in range(60):
            names = Counter()
            offset = 0
            while True:
                batch = await client.read_task_runs(limit=200, offset=offset)
                names.update(t.name.rsplit("-", 1)[0] for t in batch)
                if len(batch) < 200:
                    break
                offset += len(batch)
            total = sum(names.values())
            if total == previous:
                break
            previous = total
            await asyncio.sleep(2)
    return {
        "flow_runs": flow_runs,
        "task_runs": sum(names.values()),
        "task_runs_by_name": dict(names.most_common()),
    }


async def _flow_step(step: dict[str, Any], blocks: list[str]) -> list[str]:
    """Run a flow step; returns what failed (a failed run is a figure, not a crash)."""
    kind = step["kind"]
    batching = step.get("batching", "per_unit")
    failures: list[str] = []
    if kind == "monthly":
        from flows import monthly_submission

        state = await monthly_submission(
            period=PERIOD, units=blocks, batching=batching, return_state=True
        )
        if not state.is_completed():
            failures.append(str(state.message)[:2000])
    elif kind in ("sign_and_submit", "setup"):
        from flows import setup_remote_signing, sign_and_submit

        for block in blocks:
            if kind == "setup":
                done = await setup_remote_signing(block, interactive=False, return_state=True)
                ok, message = done.is_completed(), done.message
            else:
                state = await sign_and_submit(
                    block, period=PERIOD, batching=batching, interactive=False, return_state=True
                )
                ok, message = state.is_completed(), state.message
            if not ok:
                failures.append(f"{block}: {str(message)[:500]}")
    else:
        raise ValueError(f"unknown step kind {kind!r}")
    return failures


async def _baseline_step(
    case: dict[str, Any], rows: list[dict[str, Any]], sb: RunningSandbox
) -> list[str]:
    from benchmarks.baseline import BaselineUnit, run_baseline
    from bhxh.models import UnitInfo

    world = case["world"]
    units = [
        BaselineUnit(UnitInfo(**r["unit"]), r["username"], world["password"], r["serial"])
        for r in rows
    ]
    try:
        await run_baseline(
            units, sb.misa_url, CLIENT_ID, world["client_key"], sb.gateway_url,
            world["gateway_key"], PERIOD,
        )  # fmt: skip
    except Exception as exc:
        return [f"{type(exc).__name__}: {exc}"[:2000]]
    return []


def _audit_counts(sb: RunningSandbox, users: list[str]) -> dict[str, Any]:
    approvals: Counter[str] = Counter()
    requests: Counter[str] = Counter()
    submitted = 0
    for e in sb.audit():
        if e.get("event") == "approved":
            approvals[str(e.get("user"))] += 1
        elif e.get("event") == "sign_request":
            requests[str(e.get("user"))] += 1
        elif e.get("service") == "gateway" and e.get("event") == "submitted":
            submitted += 1
    return {
        "approvals": {u: approvals.get(u, 0) for u in users},
        "sign_requests": {u: requests.get(u, 0) for u in users},
        "submitted_total": submitted,
    }


async def _run(case: dict[str, Any], rows: list[dict[str, Any]], sb: RunningSandbox) -> Any:
    uses_prefect = any(s["kind"] != "baseline" for s in case["steps"])
    if uses_prefect:
        from benchmarks._world import WorldSpec, save_blocks

        spec = WorldSpec.from_json(case["world"])
        await save_blocks(spec, rows, sb.misa_url, sb.gateway_url)
    results: dict[str, Any] = {}
    for step in case["steps"]:
        chosen = [r for r in rows if r["group"] in step["groups"]]
        before = _audit_counts(sb, [r["username"] for r in chosen])
        started = time.perf_counter()
        if step["kind"] == "baseline":
            failures = await _baseline_step(case, chosen, sb)
        else:
            failures = await _flow_step(step, [r["block"] for r in chosen])
        wall = time.perf_counter() - started
        await asyncio.sleep(0.2)  # let the sandbox write its last audit lines
        after = _audit_counts(sb, [r["username"] for r in chosen])
        results[step["name"]] = {
            "kind": step["kind"],
            "units": len(chosen),
            "dossiers": sum(r["dossiers"] for r in chosen),
            "wall_seconds": wall,
            "failures": failures,
            "max_rss_mib": _rss_mib(),
            "approvals": {u: n - before["approvals"][u] for u, n in after["approvals"].items()},
            "sign_requests": {
                u: n - before["sign_requests"][u] for u, n in after["sign_requests"].items()
            },
            "submitted": after["submitted_total"] - before["submitted_total"],
        }
    counts = await _prefect_counts() if uses_prefect and case.get("count_runs") else {}
    return results, counts


def main(argv: list[str]) -> int:
    case_path = Path(argv[0])
    case = json.loads(case_path.read_text())
    rows = json.loads(Path(case["units_file"]).read_text())
    with RunningSandbox(Path(case["world_file"]), case_path.parent / "sandbox.log") as sb:
        steps, counts = asyncio.run(_run(case, rows, sb))
    result = {"steps": steps, "max_rss_mib": _rss_mib(), **counts}
    Path(case["out"]).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
