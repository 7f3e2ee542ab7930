"""``python -m benchmarks.floor [--units N] [--steps K] [--out FILE]``: what a task run
costs in Prefect itself, with none of the project's work in it.

Issue 29 asks the orchestration to cost at most 30 ms per dossier. A unit's run is a
fixed number of task runs (11 for a unit of four dossiers), so Prefect's own price of a
task run sets a floor under that figure that no change in this project can go below
except fewer task runs. This part measures the floor on this machine:

- **bare**: N units at once, each awaiting K steps in turn; a step hops to a worker
  thread and back (as every task of the project does: ``asyncio.to_thread``) with a
  small argument;
- **prefect**: the same inside one flow run, each step a Prefect task run (no cache, no
  persisted result, arguments quoted as ``tasks`` quotes them), on the API the monthly
  run's benchmark uses (``python -m benchmarks``: its one API server; run alone: a
  temporary local API, SQLite under a fresh ``PREFECT_HOME``, that this process starts);
  timed like the monthly run is (its last task returned, which is what the end-to-end
  figures compare), and then until the API has recorded every task run as completed (the
  states travel as events the server writes in batches, after the flow has moved on: a
  delay no figure above counts, reported beside);
- **one at a time**: one unit of K steps, so each task run waits for the one before
  (its latency, not the throughput of many).

Both sides do all their work: every step of every unit is counted as it finishes, and a
side that did not finish every step is reported as FAILED. The cost per task run is
``(prefect - bare) / (N * K)``.

Run in a fresh process (``python -m benchmarks`` does): it sets ``PREFECT_HOME`` for
itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, cast

__all__ = ["bench_floor", "main", "measure", "render_floor"]

#: Units at once and steps per unit: 50 x 12 is the monthly benchmark's realistic run.
UNITS, STEPS = 50, 12


def _touch(payload: tuple[str, ...]) -> int:
    return len(payload)


async def _step(done: list[int], payload: tuple[str, ...]) -> None:
    done.append(await asyncio.to_thread(_touch, payload))


async def _bare(units: int, steps: int) -> tuple[float, int]:
    done: list[int] = []

    async def unit(i: int) -> None:
        for k in range(steps):
            await _step(done, (f"unit-{i}", f"step-{k}"))

    started = time.perf_counter()
    await asyncio.gather(*(unit(i) for i in range(units)))
    return time.perf_counter() - started, len(done)


async def _recorded(flow_run_id: str, expected: int, within: float = 600) -> int:
    """Wait until the API has recorded ``expected`` completed task runs of the flow run
    (task-run states travel as events, which the server writes after the flow returns);
    returns how many it recorded (the API's count, one small request per look)."""
    from prefect import get_client

    deadline = time.monotonic() + within
    query = {
        "flow_runs": {"id": {"any_": [flow_run_id]}},
        "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
    }
    async with get_client() as client:
        while True:
            got = int((await client.request("POST", "/task_runs/count", json=query)).json())
            if got >= expected or time.monotonic() > deadline:
                return got
            await asyncio.sleep(0.05)


def _prefect_side(units: int, steps: int) -> tuple[float, float, int]:
    """(seconds inside the flow run, seconds until the API recorded every task run, steps
    done and recorded)."""
    from prefect import Task, flow
    from prefect.cache_policies import NONE
    from prefect.runtime import flow_run
    from prefect.utilities.annotations import quote

    step_task = cast(
        Callable[..., Coroutine[Any, Any, None]],
        Task(fn=_step, name="floor_step", cache_policy=NONE, persist_result=False),
    )
    done: list[int] = []
    inside: dict[str, float] = {}

    @flow(name="floor", validate_parameters=False)
    async def floor_run(units: int, steps: int) -> None:
        async def unit(i: int) -> None:
            for k in range(steps):
                await step_task(quote(done), quote((f"unit-{i}", f"step-{k}")))

        inside["started"] = time.perf_counter()
        await asyncio.gather(*(unit(i) for i in range(units)))
        inside["seconds"] = time.perf_counter() - inside["started"]
        ids["flow_run"] = str(flow_run.id)

    ids: dict[str, str] = {}
    asyncio.run(floor_run(units, steps))
    recorded = asyncio.run(_recorded(ids["flow_run"], units * steps))
    until_recorded = time.perf_counter() - inside["started"]
    return inside["seconds"], until_recorded, min(len(done), recorded)


def measure(units: int, steps: int) -> dict[str, Any]:
    """Bare first, then a warm-up flow run (the local API starts), then the two Prefect
    runs; in this process."""
    bare_s, bare_done = asyncio.run(_bare(units, steps))
    _prefect_side(1, 1)  # the temporary API starts and Prefect's imports settle
    many_s, many_recorded_s, many_done = _prefect_side(units, steps)
    one_bare_s, one_bare_done = asyncio.run(_bare(1, steps))
    one_s, _, one_done = _prefect_side(1, steps)
    expected = units * steps
    failed = [
        f"{side}: {got} of {want} steps done"
        for side, got, want in (
            ("bare", bare_done, expected),
            ("prefect", many_done, expected),
            ("bare, one unit", one_bare_done, steps),
            ("prefect, one unit", one_done, steps),
        )
        if got != want
    ]
    return {
        "units": units,
        "steps": steps,
        "task_runs": expected,
        "bare_s": bare_s,
        "prefect_s": many_s,
        "prefect_recorded_s": many_recorded_s,
        "per_task_run_ms": (many_s - bare_s) / expected * 1000,
        "recorded_after_flow_s": many_recorded_s - many_s,
        "one_unit_bare_s": one_bare_s,
        "one_unit_prefect_s": one_s,
        "one_at_a_time_ms": (one_s - one_bare_s) / steps * 1000,
        "failed": failed,
    }


def bench_floor(root: Path, quick: bool, full: bool = False) -> dict[str, Any]:
    """``make bench``'s part 8: this module in a fresh process under ``root``; 50 units in
    full mode, 25 by default (the API's recording after the flow grows with the task runs:
    58 s after 600 of them)."""
    from benchmarks._runner import run_part

    units = 5 if quick else (UNITS if full else UNITS // 2)
    args = ["--units", str(units), "--steps", str(STEPS), "--home", "{folder}/prefect"]
    return run_part(root, "floor", args)


def render_floor(fig: dict[str, Any], task_runs_per_dossier: float | None) -> list[str]:
    """Part 8 as markdown lines; ``task_runs_per_dossier`` from the end-to-end part."""
    lines = [
        f"**8. Prefect's own cost of a task run** ({fig['units']} units at once x "
        f"{fig['steps']} steps, each a thread hop; no project code)",
        "",
        "| side | seconds | per task run |",
        "|---|---|---|",
        f"| bare asyncio, {fig['task_runs']} steps | {fig['bare_s']:.2f} | |",
        f"| one flow run, {fig['task_runs']} task runs | {fig['prefect_s']:.2f} | "
        f"**{fig['per_task_run_ms']:.1f} ms** more |",
        f"| the API's record of every task run, after the flow | "
        f"+{fig['recorded_after_flow_s']:.2f} | |",
        f"| one unit, {fig['steps']} task runs one after another | "
        f"{fig['one_unit_prefect_s']:.2f} (bare {fig['one_unit_bare_s']:.3f}) | "
        f"{fig['one_at_a_time_ms']:.1f} ms more |",
        "",
    ]
    recorded_ms = fig["recorded_after_flow_s"] / fig["task_runs"] * 1000
    lines += [
        f"The API went on recording the task runs' states {fig['recorded_after_flow_s']:.1f} s "
        f"after the flow's last task returned: {recorded_ms:.0f} ms of the API's time per task "
        "run, on the same cores as the flow.",
        "",
    ]
    if task_runs_per_dossier:
        floor = task_runs_per_dossier * fig["per_task_run_ms"]
        lines += [
            f"At {task_runs_per_dossier:g} task runs per dossier (end to end, above), "
            f"Prefect alone costs **{floor:.0f} ms per dossier** in the flow, and "
            f"{task_runs_per_dossier * recorded_ms:.0f} ms more in the API: the floor under the "
            "zero-latency overhead that only fewer task runs can lower.",
            "",
        ]
    if fig.get("failed"):
        lines += [f"- FAILED: {f}" for f in fig["failed"]] + [""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor")
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--home", type=Path, default=None, help="PREFECT_HOME (temporary)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="bhxh-floor-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    result = measure(args.units, args.steps)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
