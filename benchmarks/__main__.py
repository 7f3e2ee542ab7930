"""``python -m benchmarks [--quick] [--only PART,...]``: the five measurements of issue 8.

1. approvals   approvals per unit per run (audit ``approved`` events), per_unit / per_dossier
2. end_to_end  50 units x 4 dossiers x 3 declarations, monthly_submission vs the bare
               baseline, with a realistic latency model and with zero latency
3. overlap     N = 10, 50, 200 units, the phone approving after L = 5 s
4. signing     prepare + apply vs signxml's sign() for D02-TS of 1 .. 10,000 workers
5. memory      peak RSS of the monthly run at 200 units (and of the baseline)

Every Prefect run happens in a fresh process on the embedded local API (SQLite under a
temporary ``PREFECT_HOME`` inside ``var/bench/cases/<case>/``); the sandbox runs in its own
process. Results: ``var/bench/results.json`` and ``var/bench/results.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._runner import BenchDirs, run_case
from benchmarks._world import UnitSpec, WorldSpec

PARTS = ("approvals", "end_to_end", "overlap", "signing", "memory")

#: The realistic latency model of the issue.
PROVIDER_SLOW = 0.15
GATEWAY_SLOW = 0.30


def _log(message: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {message}", flush=True)


#: Where the temporary local API keeps its data: "sqlite" (the default) or "postgres".
DATABASE = {"name": "sqlite"}


def _case(dirs: BenchDirs, name: str, world: WorldSpec, case: dict[str, Any], **kw: Any) -> Any:
    return run_case(dirs, name, world, case, database=DATABASE["name"], **kw)


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


# ---------------------------------------------------------------------------- 2 end to end
def bench_end_to_end(dirs: BenchDirs, quick: bool) -> dict[str, Any]:
    units, dossiers = (3, 2) if quick else (50, 4)
    group = (UnitSpec(units, "e2e", dossiers=dossiers, declarations=3),)
    out: dict[str, Any] = {
        "units": units,
        "dossiers_per_unit": dossiers,
        "declarations_per_dossier": 3,
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
        walls = {}
        for kind in ("baseline", "monthly"):
            name = f"e2e-{model}-{'prefect' if kind == 'monthly' else 'baseline'}"
            _log(f"end_to_end: {name}")
            result = _case(
                dirs,
                name,
                _world(group, **latency),
                {
                    "steps": [{"name": "run", "kind": kind, "groups": ["e2e"]}],
                    "count_runs": kind == "monthly",
                },
            )
            step = result["steps"]["run"]
            walls[kind] = step["wall_seconds"]
            out[f"{model}_{'prefect' if kind == 'monthly' else 'baseline'}"] = {
                "wall_seconds": step["wall_seconds"],
                "submitted": step["submitted"],
                "failures": step["failures"],
                "max_approvals_per_unit": max(step["approvals"].values(), default=0),
                "flow_runs": result.get("flow_runs"),
                "task_runs": result.get("task_runs"),
                "task_runs_by_name": result.get("task_runs_by_name"),
            }
        n_dossiers = units * dossiers
        out[f"{model}_ratio"] = walls["monthly"] / walls["baseline"]
        out[f"{model}_overhead_ms_per_dossier"] = (
            (walls["monthly"] - walls["baseline"]) / n_dossiers * 1000
        )
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


def bench_overlap(dirs: BenchDirs, quick: bool) -> dict[str, Any]:
    sizes = (2, 4, 8) if quick else (10, 50, 200)
    wait = 1.0 if quick else 5.0
    small, big = sizes[:-1], sizes[-1]
    out: dict[str, Any] = {"approve_after_seconds": wait, "sizes": list(sizes)}
    for kind in ("monthly", "baseline"):
        label = "prefect" if kind == "monthly" else "baseline"
        walls: dict[int, dict[str, Any]] = {}
        # The largest N runs alone in its process: its peak RSS is part 5.
        for batch in (small, (big,)):
            name = f"overlap-{label}-{'-'.join(map(str, batch))}"
            _log(f"overlap: {name}")
            groups = tuple(UnitSpec(n, f"ov{n}") for n in batch)
            result = _case(
                dirs,
                name,
                _world(groups, approve_after=wait),
                {
                    "steps": [{"name": str(n), "kind": kind, "groups": [f"ov{n}"]} for n in batch],
                    "count_runs": kind == "monthly" and batch == (big,),
                },
            )
            for n in batch:
                step = result["steps"][str(n)]
                walls[n] = {
                    "wall_seconds": step["wall_seconds"],
                    "sequential_seconds": 2 * wait * n,
                    "ratio_to_sequential": step["wall_seconds"] / (2 * wait * n),
                    "submitted": step["submitted"],
                    "failures": step["failures"],
                }
            if batch == (big,):
                out[f"{label}_memory"] = {
                    "units": big,
                    "max_rss_mib": result["max_rss_mib"],
                    "task_runs": result.get("task_runs"),
                    "flow_runs": result.get("flow_runs"),
                }
        a, b = _fit([(n, w["wall_seconds"]) for n, w in walls.items()])
        out[label] = {
            "runs": {str(n): walls[n] for n in sizes},
            "fit_intercept_seconds": a,
            "fit_per_unit_ms": b * 1000,
        }
    return out


# ---------------------------------------------------------------------------- 4 signing
def bench_signing(dirs: BenchDirs, quick: bool) -> dict[str, Any]:
    from benchmarks.signing import run_signing

    sizes = (1, 100) if quick else (1, 100, 1000, 10_000)
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
            "baseline",
            "",
            "| latency model | baseline s | Prefect s | ratio | overhead ms/dossier | task runs |",
            "|---|---|---|---|---|---|",
        ]
        for model, text in (
            (
                "realistic",
                f"provider {lat['provider_slow'] * 1000:.0f} ms, gateway "
                f"{lat['gateway_slow'] * 1000:.0f} ms, approval {lat['approve_after']:g} s",
            ),
            ("zero", "zero latency, immediate approval"),
        ):
            p, b = e[f"{model}_prefect"], e[f"{model}_baseline"]
            fail = " (failed)" if p["failures"] else ""
            lines.append(
                f"| {text} | {_f(b['wall_seconds'])} | {_f(p['wall_seconds'])}{fail} | "
                f"{_f(e[f'{model}_ratio'])} | {_f(e[f'{model}_overhead_ms_per_dossier'], 1)} | "
                f"{_f(p['task_runs'])} |"
            )
        lines.append("")
    if "overlap" in figs:
        o = figs["overlap"]
        wait = o["approve_after_seconds"]
        lines += [
            f"**3. Overlapping approval waits** (approval after L = {wait:g} s, 1 dossier "
            "per unit)",
            "",
            "| units | sequential 2L x N s | Prefect s | ratio | baseline s |",
            "|---|---|---|---|---|",
        ]
        for n in o["sizes"]:
            p, b = o["prefect"]["runs"][str(n)], o["baseline"]["runs"][str(n)]
            fail = " (failed)" if p["failures"] else ""
            lines.append(
                f"| {n} | {_f(p['sequential_seconds'], 0)} | {_f(p['wall_seconds'])}{fail} | "
                f"{_f(p['ratio_to_sequential'], 3)} | {_f(b['wall_seconds'])} |"
            )
        lines += [
            f"| fit a + b·N | | a = {_f(o['prefect']['fit_intercept_seconds'])} s, "
            f"b = {_f(o['prefect']['fit_per_unit_ms'], 1)} ms/unit | | "
            f"a = {_f(o['baseline']['fit_intercept_seconds'])} s, "
            f"b = {_f(o['baseline']['fit_per_unit_ms'], 1)} ms/unit |",
            "",
        ]
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
            f"**5. Peak memory of the monthly run at {mem['units']} units** (max RSS of the "
            "run's process; the Prefect API server and the sandbox run in other processes)",
            "",
            "| run | peak RSS MiB |",
            "|---|---|",
            f"| monthly_submission | {_f(mem['prefect_max_rss_mib'], 0)} |",
            f"| bare baseline | {_f(mem['baseline_max_rss_mib'], 0)} |",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke runs)")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    parser.add_argument("--out", type=Path, default=Path("var/bench"), help="output folder")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the Prefect API's database: SQLite under a temporary PREFECT_HOME (default, "
        "the embedded local API) or a throwaway local PostgreSQL cluster",
    )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {sorted(unknown)}; choose from {', '.join(PARTS)}")
    DATABASE["name"] = args.database
    dirs = BenchDirs(args.out.resolve())
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    for part in parts:
        part_started = time.perf_counter()
        _log(f"{part} ...")
        if part == "approvals":
            figures[part] = bench_approvals(dirs, args.quick)
        elif part == "end_to_end":
            figures[part] = bench_end_to_end(dirs, args.quick)
        elif part == "overlap" or (part == "memory" and "overlap" not in figures):
            figures["overlap"] = bench_overlap(dirs, args.quick)
        elif part == "signing":
            figures[part] = bench_signing(dirs, args.quick)
        if part == "memory":
            o = figures["overlap"]
            figures["memory"] = {
                "units": o["prefect_memory"]["units"],
                "prefect_max_rss_mib": o["prefect_memory"]["max_rss_mib"],
                "baseline_max_rss_mib": o["baseline_memory"]["max_rss_mib"],
                "prefect_task_runs": o["prefect_memory"]["task_runs"],
            }
            if "overlap" not in parts:
                del figures["overlap"]
        figures.setdefault(part, {})["seconds"] = time.perf_counter() - part_started
        _log(f"{part} done in {time.perf_counter() - part_started:.0f} s")
    results = {
        "mode": "quick" if args.quick else "full",
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
