"""``python -m benchmarks [--quick | --full] [--only PART,...]``: the measurements of issue 8.

By default (``make bench``) every part runs once per side at smaller sizes (under ten
minutes on two cores; docs/performance.md gives the run): end_to_end at 10 units x 4
dossiers, overlap at 10 and 30 units, signing up to 1,000 workers, callbacks at 1/8 of
the defaults' clock, the pool at 3 units on 3 and 1 workers, the floor at 25 units.
``--full`` (``make bench-full``) is the set the README's figures come from: the sizes
below, three runs of each side per case.

1. approvals   approvals per unit per run (audit ``approved`` events), per_unit / per_dossier
2. end_to_end  50 units x 4 dossiers x 3 declarations, monthly_submission vs the bare
               baseline, with a realistic latency model and with zero latency
3. overlap     N = 10, 50, 200 units, the phone approving after L = 5 s
4. signing     prepare + apply vs signxml's sign() for D02-TS of 1 .. 10,000 workers
5. memory      peak RSS of the monthly run at 200 units (and of the baseline)
6. callbacks   status calls per approval and approval -> next step, callbacks vs polling
               (``benchmarks.callbacks``; issue 24)
7. pool        a month over a work pool: units per minute with 1, 2 and 3 workers
               (``benchmarks.pool``; issue 26)
8. floor       Prefect's own cost of a task run, with no project code in it
               (``benchmarks.floor``; issue 29)

Every case runs in a fresh process; the parts that use Prefect share one API server that
this run starts first (``benchmarks._api``: SQLite under ``var/bench/cases/api/``, or
PostgreSQL with ``--database postgres``), each case waiting until it is idle and counting
its own tagged runs; the sandbox runs in its own process. Results:
``var/bench/results.json`` and ``var/bench/results.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._api import API, shared_api
from benchmarks._runner import BenchDirs, run_case
from benchmarks._world import PERIODS, UnitSpec, WorldSpec
from benchmarks.callbacks import bench_callbacks, callback_goal, render_callbacks
from benchmarks.floor import bench_floor, render_floor
from benchmarks.pool import bench_pool, render_pool

PARTS = (
    "approvals",
    "end_to_end",
    "overlap",
    "signing",
    "memory",
    "callbacks",
    "pool",
    "floor",
)

#: The realistic latency model of the issue.
PROVIDER_SLOW = 0.15
GATEWAY_SLOW = 0.30


def _log(message: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {message}", flush=True)


#: ``--full``: the README's full set (larger end-to-end case, 10,000-worker signing).
FULL = {"on": False}


#: ``--sabotage RUN``: the harness test's way to make one run unable to do all its work.
SABOTAGE: dict[str, str | None] = {"run": None}


def _case(dirs: BenchDirs, name: str, world: WorldSpec, case: dict[str, Any], **kw: Any) -> Any:
    if SABOTAGE["run"]:
        case = {**case, "sabotage": SABOTAGE["run"]}
    return run_case(dirs, name, world, case, **kw)


def _world(groups: tuple[UnitSpec, ...], **kw: Any) -> WorldSpec:
    return WorldSpec(data_dir="", pki_dir="", groups=groups, **kw)


# ---------------------------------------------------------------------------- 1 approvals
def bench_approvals(dirs: BenchDirs, quick: bool) -> dict[str, Any]:
    many = 2 if quick else 4
    groups = (
        UnitSpec(1, "ap1u", dossiers=1),
        UnitSpec(1, "apmu", dossiers=many),
        UnitSpec(1, "ap1d", dossiers=1),
        UnitSpec(1, "apmd", dossiers=many),
        UnitSpec(1, "aptu", kind="token", dossiers=many),
        UnitSpec(1, "aptd", kind="token", dossiers=many),
        UnitSpec(1, "apn", kind="unregistered", dossiers=0),
    )
    steps = [
        ("business, 1 dossier", "sign_and_submit", ["ap1u"], "per_unit", 2),
        (f"business, {many} dossiers", "sign_and_submit", ["apmu"], "per_unit", 2),
        ("business, 1 dossier", "sign_and_submit", ["ap1d"], "per_dossier", 2),
        (f"business, {many} dossiers", "sign_and_submit", ["apmd"], "per_dossier", 2 * many),
        ("registration only: 05 change (setup)", "setup", ["aptu", "aptd"], "-", 1),
        ("registration only: 04 register (setup)", "setup", ["apn"], "-", 1),
        (f"business after the 05, {many} dossiers", "sign_and_submit", ["aptu"], "per_unit", 2),
        (
            f"business after the 05, {many} dossiers",
            "sign_and_submit",
            ["aptd"],
            "per_dossier",
            2 * many,
        ),
    ]
    case = {
        "steps": [
            {"name": f"{i}", "kind": kind, "groups": g, "batching": b if b != "-" else "per_unit"}
            for i, (_, kind, g, b, _) in enumerate(steps)
        ]
    }
    # Counting, not timing: poll the phone often so the part runs quickly.
    fast = {"BHXH_POLL_INITIAL_SECONDS": "0.2", "BHXH_POLL_MAX_SECONDS": "0.5"}
    result = _case(dirs, "approvals", _world(groups, approve_after=0.3), case, env=fast)
    rows = []
    for i, (label, _, _, batching, expected) in enumerate(steps):
        step = result["steps"][str(i)]
        per_unit = sorted(step["approvals"].values())
        rows.append(
            {
                "run": label,
                "batching": batching,
                "approvals_per_unit": per_unit,
                "expected": expected,
                "ok": all(n == expected for n in per_unit) and not step["failures"],
                "failures": step["failures"],
            }
        )
    return {"rows": rows}


# ---------------------------------------------------------------------------- verdicts
def verdict(step: dict[str, Any], expected_dossiers: int, approvals: int) -> str | None:
    """Why a measured run did not do all its work, or None when it did.

    A run counts only if nothing failed, the gateway received every dossier it was given
    exactly once, and every unit used exactly the expected approvals.
    """
    reasons = []
    if step["failures"]:
        reasons.append("failed: " + "; ".join(step["failures"])[:300])
    if step["submitted"] != expected_dossiers:
        reasons.append(f"{step['submitted']} of {expected_dossiers} dossiers submitted")
    if step.get("submitted_twice"):
        reasons.append(f"{len(step['submitted_twice'])} dossier(s) submitted twice")
    wrong = {u: n for u, n in step["approvals"].items() if n != approvals}
    if wrong:
        reasons.append(
            f"{len(wrong)} unit(s) used other than {approvals} approvals "
            f"(e.g. {next(iter(wrong.values()))})"
        )
    return "; ".join(reasons) or None


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _kind_label(kind: str) -> str:
    return "prefect" if kind == "monthly" else "baseline"


def _measured(
    result: dict[str, Any], names: list[str], expected: int, approvals: int
) -> dict[str, Any]:
    """The repetitions of one side: each run's figures, its verdict, and the spread."""
    runs, failed = [], []
    for name in names:
        step = result["steps"][name]
        why = verdict(step, expected, approvals)
        runs.append(
            {
                "name": name,
                "period": step["period"],
                "wall_seconds": step["wall_seconds"],
                "cpu_seconds": step["cpu_seconds"],
                "submitted": step["submitted"],
                "failed": why,
                "api_requests": step["api_requests"],
                "api_requests_by_endpoint": step["api_requests_by_endpoint"],
            }
        )
        if why:
            failed.append(f"{name}: {why}")
    out: dict[str, Any] = {"runs": runs, "failed": failed}
    if not failed:
        out["wall_seconds"] = spread([r["wall_seconds"] for r in runs])
        out["cpu_seconds"] = spread([r["cpu_seconds"] for r in runs])
    return out


def _interleaved_steps(groups: list[str], repeat: int, first_period: int = 0) -> list[Any]:
    """baseline, Prefect, baseline, Prefect...: each run on its own period (fresh dossiers)."""
    steps = []
    n = first_period
    for r in range(repeat):
        for kind in ("baseline", "monthly"):
            steps.append(
                {
                    "name": f"{_kind_label(kind)}-{r + 1}",
                    "kind": kind,
                    "groups": groups,
                    "period": PERIODS[n],
                }
            )
            n += 1
    return steps


# ---------------------------------------------------------------------------- 2 end to end
def bench_end_to_end(
    dirs: BenchDirs, quick: bool, repeat: int, only_models: tuple[str, ...] = ("realistic", "zero")
) -> dict[str, Any]:
    units, dossiers = (3, 2) if quick else ((50, 4) if FULL["on"] else (10, 4))
    periods = 2 * repeat + 1  # and one for the profiled run
    group = (UnitSpec(units, "e2e", dossiers=dossiers, declarations=3, periods=periods),)
    n_dossiers = units * dossiers
    out: dict[str, Any] = {
        "units": units,
        "dossiers_per_unit": dossiers,
        "declarations_per_dossier": 3,
        "repeat": repeat,
    }
    models = {
        "realistic": {
            "approve_after": 1.0 if quick else 5.0,
            "provider_slow": PROVIDER_SLOW,
            "gateway_slow": GATEWAY_SLOW,
        },
        "zero": {"approve_after": 0.0, "provider_slow": 0.0, "gateway_slow": 0.0},
    }
    for model, latency in models.items():
        if model not in only_models:
            continue
        steps = _interleaved_steps(["e2e"], repeat)
        if model == "zero":
            # Where the flow process spends its CPU: one more Prefect run, under cProfile
            # (slower: not one of the timed runs).
            steps.append(
                {
                    "name": "prefect-profiled",
                    "kind": "monthly",
                    "groups": ["e2e"],
                    "period": PERIODS[2 * repeat],
                    "profile": True,
                }
            )
        name = f"e2e-{model}"
        _log(f"end_to_end: {name} ({len(steps)} runs)")
        result = _case(dirs, name, _world(group, **latency), {"steps": steps, "count_runs": True})
        sides = {
            label: _measured(
                result,
                [s["name"] for s in steps if s["name"].startswith(f"{label}-")
                 and not s.get("profile")],
                n_dossiers,
                2,
            )
            for label in ("baseline", "prefect")
        }  # fmt: skip
        entry: dict[str, Any] = {**sides, "failed": sides["baseline"]["failed"] + sides[
            "prefect"]["failed"]}  # fmt: skip
        if not entry["failed"]:
            b = sides["baseline"]["wall_seconds"]["median"]
            p = sides["prefect"]["wall_seconds"]["median"]
            entry["ratio"] = p / b
            entry["overhead_ms_per_dossier"] = (p - b) / n_dossiers * 1000
            requests = [r["api_requests"] for r in sides["prefect"]["runs"]]
            entry["api_requests_per_unit"] = statistics.median(requests) / units
            by_endpoint: dict[str, int] = sides["prefect"]["runs"][0]["api_requests_by_endpoint"]
            entry["api_requests_per_unit_by_endpoint"] = {
                k: round(v / units, 2) for k, v in by_endpoint.items()
            }
        if model == "zero":
            profiled = result["steps"]["prefect-profiled"]
            entry["profile"] = profiled["profile"]
            entry["profile_verdict"] = verdict(profiled, n_dossiers, 2)
        entry["task_runs"] = result.get("task_runs")
        prefect_runs = sum(1 for s in steps if s["name"].startswith("prefect-"))
        if entry["task_runs"]:
            entry["task_runs_per_dossier"] = entry["task_runs"] / (prefect_runs * n_dossiers)
        entry["task_runs_by_name"] = result.get("task_runs_by_name")
        entry["flow_runs"] = result.get("flow_runs")
        out[model] = entry
    out["latency_model"] = models["realistic"]
    return out


# ---------------------------------------------------------------------------- 3 overlap / 5 memory
def _fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares ``wall = a + b * n``; returns (a, b)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return my - b * mx, b


def bench_overlap(dirs: BenchDirs, quick: bool, repeat: int) -> dict[str, Any]:
    sizes = (2, 4, 8) if quick else ((10, 50, 200) if FULL["on"] else (10, 30))
    wait = 1.0 if quick else 5.0
    out: dict[str, Any] = {"approve_after_seconds": wait, "sizes": list(sizes), "repeat": repeat}
    for n in sizes:
        # One process per size, baseline and Prefect interleaved; the largest size's peak
        # RSS is part 5 (the baseline's in a process of its own, for a clean figure).
        group = (UnitSpec(n, f"ov{n}", periods=2 * repeat),)
        steps = _interleaved_steps([f"ov{n}"], repeat)
        _log(f"overlap: {n} units ({len(steps)} runs)")
        result = _case(
            dirs,
            f"overlap-{n}",
            _world(group, approve_after=wait),
            {"steps": steps, "count_runs": n == sizes[-1]},
        )
        entry = {
            label: _measured(
                result, [s["name"] for s in steps if s["name"].startswith(f"{label}-")], n, 2
            )
            for label in ("baseline", "prefect")
        }
        entry["sequential_seconds"] = 2 * wait * n  # type: ignore[assignment]
        out[str(n)] = entry
        if n == sizes[-1]:
            out["prefect_memory"] = {
                "units": n,
                "max_rss_mib": result["max_rss_mib"],
                "task_runs": result.get("task_runs"),
                "flow_runs": result.get("flow_runs"),
            }
    if not quick:
        # The baseline's peak RSS at the largest size, alone in its process.
        n = sizes[-1]
        group = (UnitSpec(n, f"ovm{n}"),)
        _log(f"memory: the baseline at {n} units, alone")
        result = _case(
            dirs,
            "memory-baseline",
            _world(group, approve_after=wait),
            {"steps": [{"name": "baseline-1", "kind": "baseline", "groups": [f"ovm{n}"],
                        "period": PERIODS[0]}]},
        )  # fmt: skip
        out["baseline_memory"] = {"units": n, "max_rss_mib": result["max_rss_mib"]}
    for label in ("baseline", "prefect"):
        if all(not out[str(n)][label]["failed"] for n in sizes):
            a, b = _fit([(n, out[str(n)][label]["wall_seconds"]["median"]) for n in sizes])
            out[f"{label}_fit"] = {"intercept_seconds": a, "per_unit_ms": b * 1000}
    out["failed"] = [
        f"{n} units, {label}: {why}"
        for n in sizes
        for label in ("baseline", "prefect")
        for why in out[str(n)][label]["failed"]
    ]
    return out


# ---------------------------------------------------------------------------- 4 signing
def bench_signing(dirs: BenchDirs, quick: bool) -> dict[str, Any]:
    from benchmarks.signing import run_signing

    sizes = (1, 100) if quick else ((1, 100, 1000, 10_000) if FULL["on"] else (1, 100, 1000))
    return {"rows": run_signing(dirs.root / "signing", dirs.pki, sizes, 0.5 if quick else 2.0)}


# ---------------------------------------------------------------------------- report
def _machine() -> dict[str, Any]:
    import prefect

    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "memory_mib": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "prefect": prefect.__version__,
    }


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _spread(s: dict[str, float]) -> str:
    return f"{s['median']:.2f} [{s['min']:.2f}-{s['max']:.2f}]"


def render(results: dict[str, Any]) -> str:
    """The results as markdown tables."""
    m = results["machine"]
    lines = [
        f"Machine: {m['cpu_count']} CPU, {m['memory_mib']} MiB, Python {m['python']}, "
        f"Prefect {m['prefect']} on {results.get('database', 'sqlite')}; {results['date']} "
        f"({results['mode']} mode, "
        f"{results['total_seconds']:.0f} s)",
        "",
    ]
    figs = results["figures"]
    if "approvals" in figs:
        lines += [
            "**1. Approvals per unit per run** (sandbox audit, `approved` events)",
            "",
            "| run | batching | approvals per unit | goal |",
            "|---|---|---|---|",
        ]
        for r in figs["approvals"]["rows"]:
            got = ", ".join(map(str, r["approvals_per_unit"]))
            mark = "" if r["ok"] else " (not met)"
            lines.append(f"| {r['run']} | {r['batching']} | {got} | {r['expected']}{mark} |")
        lines.append("")
    if "end_to_end" in figs:
        e = figs["end_to_end"]
        lat = e["latency_model"]
        lines += [
            f"**2. End to end**: {e['units']} units x {e['dossiers_per_unit']} dossiers x "
            f"{e['declarations_per_dossier']} declarations, monthly_submission vs the bare "
            f"baseline (the same pipeline without Prefect); {e['repeat']} runs each, "
            "interleaved, median [min-max]",
            "",
            "| latency model | baseline s | Prefect s | ratio | overhead ms/dossier "
            "| Prefect API requests/unit | task runs |",
            "|---|---|---|---|---|---|---|",
        ]
        for model, text in (
            (
                "realistic",
                f"provider {lat['provider_slow'] * 1000:.0f} ms, gateway "
                f"{lat['gateway_slow'] * 1000:.0f} ms, approval {lat['approve_after']:g} s",
            ),
            ("zero", "zero latency, immediate approval"),
        ):
            if model not in e:
                continue
            m = e[model]
            if m["failed"]:
                lines.append(f"| {text} | **FAILED**: {'; '.join(m['failed'])[:400]} | | | | | |")
                continue
            lines.append(
                f"| {text} | {_spread(m['baseline']['wall_seconds'])} | "
                f"{_spread(m['prefect']['wall_seconds'])} | {_f(m['ratio'])} | "
                f"{_f(m['overhead_ms_per_dossier'], 1)} | {_f(m['api_requests_per_unit'], 1)} | "
                f"{_f(m['task_runs'])} |"
            )
        lines.append("")
        zero = e.get("zero", {})
        if zero.get("api_requests_per_unit_by_endpoint"):
            lines += [
                "Prefect API requests per unit, by endpoint (zero latency, one run):",
                "",
                "| endpoint | per unit |",
                "|---|---|",
            ]
            for endpoint, n in list(zero["api_requests_per_unit_by_endpoint"].items())[:12]:
                lines.append(f"| `{endpoint}` | {n:g} |")
            lines.append("")
        prof = zero.get("profile")
        if prof:
            lines += [
                f"Where the flow process spends its CPU (zero latency, one run under cProfile: "
                f"{prof['cpu_seconds']:.1f} s of own time):",
                "",
                "| package | own s |",
                "|---|---|",
            ]
            lines += [f"| {k} | {v:.2f} |" for k, v in list(prof["by_package"].items())[:10]]
            lines += ["", "| function | own s | cum s | calls |", "|---|---|---|---|"]
            lines += [
                f"| `{f['function']}` | {f['own_s']:.2f} | {f['cum_s']:.2f} | {f['calls']} |"
                for f in prof["top_functions"][:12]
            ]
            lines.append("")
    if "overlap" in figs:
        o = figs["overlap"]
        wait = o["approve_after_seconds"]
        lines += [
            f"**3. Overlapping approval waits** (approval after L = {wait:g} s, 1 dossier "
            f"per unit; {o['repeat']} runs each, interleaved, median [min-max])",
            "",
            "| units | sequential 2L x N s | baseline s | Prefect s | Prefect / sequential |",
            "|---|---|---|---|---|",
        ]
        for n in o["sizes"]:
            row = o[str(n)]
            b, pf = row["baseline"], row["prefect"]
            bs = _spread(b["wall_seconds"]) if not b["failed"] else "**FAILED**"
            ps = _spread(pf["wall_seconds"]) if not pf["failed"] else "**FAILED**"
            ratio = (
                _f(pf["wall_seconds"]["median"] / row["sequential_seconds"], 3)
                if not pf["failed"]
                else "-"
            )
            lines.append(f"| {n} | {_f(row['sequential_seconds'], 0)} | {bs} | {ps} | {ratio} |")
        fits = []
        for label in ("baseline", "prefect"):
            fit = o.get(f"{label}_fit")
            if fit:
                fits.append(
                    f"{label}: a = {_f(fit['intercept_seconds'])} s, "
                    f"b = {_f(fit['per_unit_ms'], 1)} ms/unit"
                )
        lines += ["", "Fit wall = a + b·N: " + "; ".join(fits), ""]
        for failed in o["failed"]:
            lines.append(f"- FAILED {failed}")
        lines.append("")
    if "signing" in figs:
        lines += [
            "**4. Signing a D02-TS**: prepare + RSA + apply vs signxml `sign()` (local key)",
            "",
            "| workers | KiB | prepare ms | apply ms | two-phase ms | signxml ms | ratio "
            "| peak RSS growth MiB (two-phase / signxml) | tracemalloc peak MiB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in figs["signing"]["rows"].values():
            lines.append(
                f"| {r['workers']} | {_f(r['document_kib'], 0)} | {_f(r['prepare_ms'])} | "
                f"{_f(r['apply_ms'])} | {_f(r['two_phase_ms'])} | {_f(r['signxml_ms'])} | "
                f"{_f(r['ratio'])} | {_f(r['two_phase_rss_growth_mib'], 1)} / "
                f"{_f(r['signxml_rss_growth_mib'], 1)} | "
                f"{_f(r['two_phase_traced_peak_mib'], 1)} / "
                f"{_f(r['signxml_traced_peak_mib'], 1)} |"
            )
        lines.append("")
    if "memory" in figs:
        mem = figs["memory"]
        lines += [
            f"**5. Peak memory at {mem['units']} units** (max RSS of the run's process; the "
            "Prefect API server and the sandbox run in other processes)",
            "",
            "| run | peak RSS MiB |",
            "|---|---|",
            f"| monthly_submission (its process also ran the baseline's interleaved runs) | "
            f"{_f(mem['prefect_max_rss_mib'], 0)} |",
            f"| bare baseline, alone | {_f(mem['baseline_max_rss_mib'], 0)} |",
            "",
        ]
    if "approvals" in figs.get("callbacks", {}).get("polling", {}):
        lines += render_callbacks(figs["callbacks"])
    if "rows" in figs.get("pool", {}):
        lines += render_pool(figs["pool"])
    if "per_task_run_ms" in figs.get("floor", {}):
        per_dossier = figs.get("end_to_end", {}).get("zero", {}).get("task_runs_per_dossier")
        lines += render_floor(figs["floor"], per_dossier)
    if results.get("goals"):
        lines += ["**Goals**", "", "| goal | measured | met |", "|---|---|---|"]
        for g in results["goals"]:
            mark = "yes" if g["met"] else ("no" if g["met"] is False else "-")
            lines.append(f"| {g['goal']} | {g['measured']} | {mark} |")
        lines.append("")
    if results.get("failed"):
        lines += ["**FAILED cases** (no ratio computed from them):", ""]
        lines += [f"- {f}" for f in results["failed"]]
        lines.append("")
    return "\n".join(lines)


def goals(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Every goal of the performance issue, with the measured figure and whether it is met
    (None: not measured in this run)."""
    out: list[dict[str, Any]] = []

    def add(goal: str, measured: str, met: bool | None) -> None:
        out.append({"goal": goal, "measured": measured, "met": met})

    e = figures.get("end_to_end")
    size = f"{e['units']} x {e['dossiers_per_unit']}" if e else ""
    if e and "realistic" in e:
        r = e["realistic"]
        if r["failed"]:
            add(f"{size} realistic: Prefect <= 1.25x the baseline", "FAILED", False)
        else:
            add(
                f"{size} realistic: Prefect <= 1.25x the baseline, both complete",
                f"{r['ratio']:.2f}x",
                r["ratio"] <= 1.25,
            )
    if e and "zero" in e:
        z = e["zero"]
        if z["failed"]:
            add("zero latency: overhead <= 30 ms per dossier", "FAILED", False)
        else:
            add(
                "zero latency: overhead <= 30 ms per dossier",
                f"{z['overhead_ms_per_dossier']:.1f} ms",
                z["overhead_ms_per_dossier"] <= 30,
            )
    o = figures.get("overlap")
    if o and o.get("prefect_fit"):
        per_unit = o["prefect_fit"]["per_unit_ms"]
        big = str(o["sizes"][-1])
        add(
            f"{'/'.join(str(n) for n in o['sizes'])} units waiting: marginal cost <= 100 ms "
            "per unit",
            f"{per_unit:.1f} ms",
            per_unit <= 100,
        )
        wall = o[big]["prefect"]["wall_seconds"]["median"]
        limit = 2 * o["approve_after_seconds"] + 30
        add(f"{big} units within 2L + 30 s ({limit:g} s)", f"{wall:.1f} s", wall <= limit)
    s = figures.get("signing")
    if s:
        rows = s["rows"]
        top = rows[max(rows, key=int)]
        add(
            f"signing: two-phase <= 1.5x signxml at {top['workers']} workers",
            f"{top['ratio']:.2f}x",
            top["ratio"] <= 1.5,
        )
        add(
            f"signing: peak memory not above signxml's ({top['workers']} workers)",
            f"{top['two_phase_rss_growth_mib']:.0f} vs {top['signxml_rss_growth_mib']:.0f} MiB",
            top["two_phase_rss_growth_mib"] <= top["signxml_rss_growth_mib"],
        )
    if "polling" in figures.get("callbacks", {}):
        add(*callback_goal(figures["callbacks"]))
    return out


def _failures(figures: dict[str, Any]) -> list[str]:
    failed = []
    for row in figures.get("approvals", {}).get("rows", []):
        if not row["ok"]:
            failed.append(f"approvals, {row['run']} ({row['batching']}): {row['failures']}")
    e = figures.get("end_to_end")
    if e:
        for model in ("realistic", "zero"):
            if model in e:
                failed += [f"end_to_end {model}: {f}" for f in e[model]["failed"]]
    o = figures.get("overlap")
    if o:
        failed += [f"overlap: {f}" for f in o["failed"]]
    for row in figures.get("pool", {}).get("rows", []):
        failed += [f"pool, {row['workers']} worker(s): {f}" for f in row["failed"]]
    failed += [f"floor: {f}" for f in figures.get("floor", {}).get("failed", [])]
    return failed


#: The parts that talk to a Prefect API (the bench's shared server); signing uses none,
#: the pool starts its own stacks.
API_PARTS = frozenset(PARTS) - {"signing", "pool"}


def _run_part(
    part: str, parts: list[str], figures: dict[str, Any], dirs: BenchDirs, args: argparse.Namespace
) -> None:
    part_started = time.perf_counter()
    _log(f"{part} ...")
    if part == "approvals":
        figures[part] = bench_approvals(dirs, args.quick)
    elif part == "end_to_end":
        figures[part] = bench_end_to_end(
            dirs, args.quick, args.repeat, tuple(m.strip() for m in args.models.split(","))
        )
    elif part == "overlap" or (part == "memory" and "overlap" not in figures):
        figures["overlap"] = bench_overlap(dirs, args.quick, args.repeat)
    elif part == "signing":
        figures[part] = bench_signing(dirs, args.quick)
    elif part == "callbacks":
        figures[part] = bench_callbacks(dirs.root, args.quick, FULL["on"], dirs.pki)
    elif part == "pool":
        figures[part] = bench_pool(dirs.root, dirs.pki, args.quick, FULL["on"])
    elif part == "floor":
        figures[part] = bench_floor(dirs.root, args.quick, FULL["on"])
    if part == "memory":
        o = figures["overlap"]
        figures["memory"] = {
            "units": o["prefect_memory"]["units"],
            "prefect_max_rss_mib": o["prefect_memory"]["max_rss_mib"],
            "baseline_max_rss_mib": o.get("baseline_memory", {}).get("max_rss_mib"),
            "prefect_task_runs": o["prefect_memory"]["task_runs"],
        }
        if "overlap" not in parts:
            del figures["overlap"]
    figures.setdefault(part, {})["seconds"] = time.perf_counter() - part_started
    _log(f"{part} done in {time.perf_counter() - part_started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke runs)")
    parser.add_argument(
        "--full",
        action="store_true",
        help="the full set (the README's figures): 50 units x 4 dossiers end to end, signing "
        "up to 10,000 workers, 3 runs of each side per case (about 30 minutes)",
    )
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    parser.add_argument("--out", type=Path, default=Path("var/bench"), help="output folder")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the database of the bench's Prefect API server: SQLite (default, "
        "under var/bench/cases/api/) or a throwaway local PostgreSQL cluster",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of each side per case (default 1; 3 with --full)",
    )
    parser.add_argument(
        "--models",
        default="realistic,zero",
        help="end_to_end latency models to run (default realistic,zero)",
    )
    parser.add_argument(
        "--sabotage",
        metavar="RUN",
        default=None,
        help="harness test: remove one dossier from the inbox before the named run "
        "(e.g. prefect-1), so that run cannot do all its work",
    )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {sorted(unknown)}; choose from {', '.join(PARTS)}")
    FULL["on"] = bool(args.full)
    if args.repeat is None:
        args.repeat = 3 if args.full else 1
    SABOTAGE["run"] = args.sabotage
    dirs = BenchDirs(args.out.resolve())
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    # One API server for the parts that use Prefect's API (benchmarks._api); the pool
    # runs last, on stacks of its own, once that server is stopped.
    ordered = sorted(parts, key=lambda p: p == "pool")
    with contextlib.ExitStack() as api:
        for part in ordered:
            if part == "pool":
                api.close()
            elif part in API_PARTS and not API["url"]:
                _log(f"the bench's Prefect API server ({args.database}) ...")
                api.enter_context(shared_api(dirs.fresh("api"), args.database))
            _run_part(part, parts, figures, dirs, args)
    failed = _failures(figures)
    results = {
        "failed": failed,
        "goals": goals(figures),
        "mode": "quick" if args.quick else ("full" if args.full else "default"),
        "database": args.database,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "total_seconds": time.perf_counter() - started,
        "figures": figures,
    }
    (dirs.root / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    table = render(results)
    (dirs.root / "results.md").write_text(table + "\n")
    print()
    print(table)
    print(f"\nWritten: {dirs.root / 'results.json'}, {dirs.root / 'results.md'}")
    if failed:
        print(f"\n{len(failed)} case(s) FAILED: see above; no ratio was computed from them.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
