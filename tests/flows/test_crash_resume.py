"""A flow process killed after the round-1 approval; the re-run asks for no new round 1."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

from prefect.settings import PREFECT_API_URL

from bhxh.pipeline import Step
from demo.scenario import many_units
from flows import sign_and_submit
from tests.flows.conftest import PERIOD, MakeWorld

_RUN = """
import asyncio, sys
from flows import sign_and_submit
asyncio.run(sign_and_submit(sys.argv[1], period=sys.argv[2], interactive=False))
"""


async def test_killed_after_round1_approval_then_rerun_submits_once(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="crash", approve_after=0.3)
    world = await make_world(units, dossiers=3)
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        # The killed run must not see the approval before it dies.
        "BHXH_POLL_INITIAL_SECONDS": "30",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _RUN,
        unit.block,
        PERIOD,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        # A fresh flow process under make test's load took over 60 s to its first
        # approval once (CI, beside the month over the pool): up to 300 s.
        deadline = time.monotonic() + 300
        while world.count("approved", user=unit.username) != 1:
            assert proc.returncode is None, "the flow process ended before the approval"
            assert time.monotonic() < deadline, "round 1 was never approved"
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
    records = world.records(unit)
    assert len(records) == 3
    assert all(
        r.has(Step.ROUND1_REQUESTED) and not r.has(Step.DECLARATIONS_SIGNED) for r in records
    )

    await sign_and_submit(unit.block, period=PERIOD, interactive=False)

    # One round-1 request (from the killed run), one round-2 request (from the re-run).
    assert world.count("sign_request", user=unit.username) == 2
    assert world.count("approved", user=unit.username) == 2
    assert sorted(world.submissions().values()) == [1, 1, 1]
    assert all(r.has(Step.SUBMITTED) for r in world.records(unit))
