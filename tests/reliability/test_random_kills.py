"""Kill -9 at random moments, for each provider: a seeded plan, the same every run.

Two MISA units and two VNPT units, each with two dossiers carrying a PDF attachment, a
phone that approves after 0.3 s, in one sandbox. For each unit, ``sign_and_submit`` runs
in a child process (the crash-point harness) and is killed with SIGKILL, up to
``KILLS_PER_UNIT`` times, then runs until it completes. Each kill is drawn from the seeded
plan:

- half of them in the send window: the moment the provider logs the unit's next sign
  request (``tests.reliability.send_window.SignRequestTrap``), either before it answers or
  up to 30 ms after (racing the journal write of the answer);
- the others at a delay drawn uniformly over the whole run (``RUN_SECONDS`` from the
  start of the process: start-up, log-in, both rounds with their waits for the phone,
  submission).

Counted from the sandbox audit and the journals: sign requests and approvals per unit,
submissions per dossier, requests the provider received whose id no journal holds
("orphans").

- Every dossier is submitted, exactly once.
- VNPT (the client picks the transaction id): 2 phone requests and 2 approvals per unit,
  no orphan: nothing is ever asked twice.
- MISA (the provider picks it, only in its answer): the bound is one repeated approval
  per kill that lands in the send window (between the provider's receipt of the request
  and the journal's write of its answer): every approval beyond 2 is an orphan's, there
  are no more orphans than kills, and each orphan is named void ("Mã yêu cầu") in the log
  of a later run, on an approval card and in the phone description of a later request.

``-s`` prints the plan, the outcome and the send window measured (from the provider's log
of a request to the journal entry of its answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import random
import signal
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from bhxh.pipeline import Step
from demo.scenario import DemoUnit, many_units
from tests.reliability.conftest import (
    PERIOD,
    MakeWorld,
    World,
    finish_flow_process,
    prime_units,
    start_flow_process,
)
from tests.reliability.send_window import (
    SignRequestTrap,
    approved,
    cards_of,
    counts,
    display_text,
    reference_of,
    sign_request_trap,
    sign_requests,
    submissions_of,
)

SEED = 2025
DOSSIERS = 2
KILLS_PER_UNIT = 3
#: About one whole run of a unit on the test machine (four runs at a time), seconds.
RUN_SECONDS = 24.0
WINDOW_SHARE = 0.5
#: Runs after the last kill before a unit must be complete.
FINAL_RUNS = 2


@dataclass(frozen=True)
class Kill:
    """One planned kill: in the send window (``delay`` after the provider logs the
    request: 0 is before it answers) or ``delay`` seconds after the process starts."""

    window: bool
    delay: float

    def __str__(self) -> str:
        return f"window+{self.delay * 1000:.0f}ms" if self.window else f"t={self.delay:.1f}s"


@dataclass
class Attempt:
    unit: str
    kill: Kill | None
    code: int
    seconds: float


def plan(rng: random.Random) -> list[Kill]:
    kills = []
    for _ in range(KILLS_PER_UNIT):
        if rng.random() < WINDOW_SHARE:
            before_answer = rng.random() < 0.5
            kills.append(Kill(True, 0.0 if before_answer else rng.uniform(0.0, 0.03)))
        else:
            kills.append(Kill(False, rng.uniform(0.0, RUN_SECONDS)))
    return kills


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


async def _run(
    trap: SignRequestTrap, unit: DemoUnit, kill: Kill | None, log: Path
) -> tuple[int, float]:
    started = time.monotonic()
    proc = await start_flow_process(unit.block, PERIOD, {})
    timer = None
    if kill is not None and kill.window:
        trap.arm(unit.username, proc.pid, kill.delay)
    elif kill is not None:
        timer = asyncio.get_running_loop().call_later(kill.delay, _kill, proc.pid)
    try:
        code = await finish_flow_process(proc, log)
    finally:
        trap.disarm(unit.username)
        if timer is not None:
            timer.cancel()
    return code, time.monotonic() - started


async def _story(
    trap: SignRequestTrap, unit: DemoUnit, kills: list[Kill], logs: Path
) -> list[Attempt]:
    """Kill the unit's runs as planned (until one completes before its kill), then run it
    without a kill until it completes (a run of a complete unit must do nothing more)."""
    attempts: list[Attempt] = []
    planned: list[Kill | None] = [*kills]
    while planned:
        kill = planned.pop(0)
        log = logs / f"{unit.block}-{len(attempts)}.log"
        code, seconds = await _run(trap, unit, kill, log)
        assert code in (0, -signal.SIGKILL), (
            f"{unit.block} run {len(attempts)} ({kill}): exit {code}\n"
            + log.read_text(errors="replace")[-3000:]
        )
        attempts.append(Attempt(unit.block, kill, code, seconds))
        if kill is not None and (code == 0 or not planned):
            planned = [None] * FINAL_RUNS  # then runs without a kill
        elif kill is None and code == 0:
            break
    assert attempts[-1].code == 0, f"{unit.block}: not complete after {len(attempts)} runs"
    return attempts


def _logs(folder: Path, unit: DemoUnit) -> str:
    return "\n".join(
        p.read_text(errors="replace") for p in sorted(folder.glob(f"{unit.block}-*.log"))
    )


def _window_ms(world: World, unit: DemoUnit, trapped: set[str]) -> list[float]:
    """For each request answered in the run that sent it (none the trap killed on):
    milliseconds from the provider's log of the request to the journal entry holding its
    transaction id in the last of its dossiers (that entry's time is taken just before
    its write)."""
    logged = {
        str(e["transaction"]): dt.datetime.fromisoformat(e["time"])
        for e in world.audit
        if e.get("event") == "sign_request" and e.get("user") == unit.username
    }
    answered: dict[str, dt.datetime] = {}
    for record in world.records(unit):
        for entry in record.steps:
            tx = entry.data.get("transaction_id")
            if entry.step in (Step.ROUND1_REQUESTED, Step.ROUND2_REQUESTED) and tx in logged:
                answered[tx] = max(answered.get(tx, entry.at), entry.at)
    return [
        (answered[tx] - logged[tx]).total_seconds() * 1000 for tx in answered if tx not in trapped
    ]


@pytest.mark.slow
async def test_random_kills_never_submit_twice_nor_repeat_an_approval_silently(
    make_world: MakeWorld, tmp_path: Path, store: str
) -> None:
    rng = random.Random(SEED)
    units = [
        *many_units(2, prefix="rkmisa", approve_after=0.3, provider="misa"),
        *many_units(2, prefix="rkvnpt", approve_after=0.3, provider="vnpt", start=2),
    ]
    plans = {u.block: plan(rng) for u in units}
    for provider in ("misa", "vnpt"):  # the seed gives each provider kills before answers
        assert any(
            k.window and k.delay == 0 for u in units if u.provider == provider
            for k in plans[u.block]
        )  # fmt: skip
    world = await make_world(units, dossiers=DOSSIERS, setup=False, with_pdf=True)
    await prime_units(world, units)

    with sign_request_trap(world) as trap:
        stories = await asyncio.gather(*(_story(trap, u, plans[u.block], tmp_path) for u in units))
    fired = Counter(user for user, _, _ in trap.fired)

    every = {r.id for u in units for r in world.records(u)}
    assert len(every) == DOSSIERS * len(units)
    assert submissions_of(world, units) == Counter({d: 1 for d in every})  # none twice, none lost
    for u in units:
        assert all(r.has(Step.SUBMITTED) for r in world.records(u))

    lines = []
    for u, story in zip(units, stories, strict=True):
        found = counts(world, u)
        kills = sum(a.code == -signal.SIGKILL for a in story)
        ran = " ".join(f"{a.kill or 'run'}:{'killed' if a.code else 'ok'}" for a in story)
        lines.append(
            f"{u.block} [{u.provider}] runs={len(story)} kills={kills} "
            f"window_kills={fired[u.username]} requests={found.requests} "
            f"approvals={found.approvals} orphans={len(found.orphans)} :: {ran}"
        )
        if u.provider == "vnpt":
            assert (found.requests, found.approvals, found.orphans) == (2, 2, ()), lines[-1]
            continue
        # MISA: every approval beyond the two needed is an orphan's; at most one per kill,
        # or per answer the run lost on its own and said so (a timeout on a loaded
        # machine: seen once in `make test`, 4 orphans for 3 kills). Each is named void.
        approved_orphans = [o for o in found.orphans if o in approved(world, u)]
        assert found.approvals - 2 == len(approved_orphans), lines[-1]
        logs = _logs(tmp_path, u)
        lost = logs.count("may have reached the phone but its answer was lost")
        assert found.requests - 2 == len(found.orphans) <= kills + lost, f"{lines[-1]} {lost=}"
        cards = await cards_of(u)
        requests = sign_requests(world, u)
        for orphan in found.orphans:
            ref = reference_of(world, orphan)
            later = requests[requests.index(orphan) + 1 :]
            assert any(
                "Đã hủy" in line and ref in line
                for tx in later
                for line in display_text(world, tx).split("<br>")
            ), f"{u.block}: {ref} never named void on the phone"
            assert any(ref in line and "void" in line for line in logs.splitlines()), ref
            assert any(ref in line and "void" in line for c in cards for line in c.splitlines())

    trapped = {tx for _, tx, _ in trap.fired}
    widths = [w for u in units for w in _window_ms(world, u, trapped)]
    repeated = {
        p: sum(counts(world, u).approvals - 2 for u in units if u.provider == p)
        for p in ("misa", "vnpt")
    }
    killed = sum(a.code == -signal.SIGKILL for s in stories for a in s)
    print(
        f"\nRANDOM KILLS store={store} seed={SEED} kills={killed}"
        f" (in the send window: {sum(fired.values())})"
        f" repeated approvals: misa={repeated['misa']} vnpt={repeated['vnpt']}; send window"
        f" (provider's log of a request -> journal entry of its answer): median"
        f" {statistics.median(widths):.1f} ms, max {max(widths):.1f} ms over {len(widths)}"
        " requests\n" + "\n".join(lines)
    )
