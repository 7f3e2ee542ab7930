"""The send window: the flow process killed after the provider received a sign request and
before the journal held its answer, then run again.

The kill comes the moment the provider logs the request, before it answers
(:class:`tests.reliability.send_window.SignRequestTrap`): the provider holds a request
(it goes to the phone, which approves it after 0.3 s), the journal only our reference.
Unit 0 is killed at its round-1 request, unit 1 at its round-2 request; each has two
dossiers with a PDF attachment.

- VNPT SmartCA and CA2 RemoteSigning (the client picks the transaction id, journalled
  before the send): the re-run finds the request under that id and continues it. 2
  approvals and 2 phone requests per unit: none repeated.
- MISA (the id comes only in the answer; no documented call finds a request by anything
  else: guide 3.5, 3.6, 1.3): the re-run cannot use the request, so it asks again, and it
  first tells the signer that the earlier request (its "Mã yêu cầu") is void: in the log,
  on the approval card and in the new request's description on the phone. At most one
  repeated approval per kill in the window.

Every dossier is submitted exactly once either way.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import pytest

from demo.scenario import many_units
from tests.reliability.conftest import (
    PERIOD,
    MakeWorld,
    finish_flow_process,
    prime_units,
    run_flow_process,
    start_flow_process,
)
from tests.reliability.send_window import (
    cards_of,
    counts,
    display_text,
    reference_of,
    sign_request_trap,
    sign_requests,
    submissions_of,
)

DOSSIERS = 2


def _lines_with(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if all(w in line for w in words)]


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["misa", "vnpt", "ca2"])
async def test_a_kill_between_the_send_and_its_journalled_answer_is_never_a_silent_repeat(
    provider: str, make_world: MakeWorld, tmp_path: Path
) -> None:
    units = many_units(2, prefix=f"win{provider}", approve_after=0.3, provider=provider)  # type: ignore[arg-type]
    world = await make_world(units, dossiers=DOSSIERS, setup=False, with_pdf=True)
    await prime_units(world, units)

    with sign_request_trap(world) as trap:
        procs = []
        for skip, unit in enumerate(units):  # unit 0: round 1's request; unit 1: round 2's
            proc = await start_flow_process(unit.block, PERIOD, {})
            trap.arm(unit.username, proc.pid, skip=skip)
            procs.append(proc)
        codes = await asyncio.gather(
            *(
                finish_flow_process(p, tmp_path / f"{u.block}-killed.log")
                for p, u in zip(procs, units, strict=True)
            )
        )
    for unit, code in zip(units, codes, strict=True):
        log = (tmp_path / f"{unit.block}-killed.log").read_text(errors="replace")[-3000:]
        assert code == -signal.SIGKILL, f"{unit.block}: exit {code}, not killed\n{log}"
    killed = {user: tx for user, tx, _ in trap.fired}
    for skip, unit in enumerate(units):
        # The provider holds the request; the journal has no id for it.
        assert sign_requests(world, unit)[skip] == killed[unit.username]
        assert counts(world, unit).orphans == (killed[unit.username],)

    await asyncio.sleep(1.0)  # the phone approves the requests the killed runs left (0.3 s)
    for unit in units:
        code = await run_flow_process(unit.block, PERIOD, {}, tmp_path / f"{unit.block}.log")
        log = (tmp_path / f"{unit.block}.log").read_text(errors="replace")
        assert code == 0, f"{unit.block}: re-run failed\n{log[-3000:]}"

    assert submissions_of(world, units) == Counter(
        {r.id: 1 for u in units for r in world.records(u)}
    )
    assert len(submissions_of(world, units)) == DOSSIERS * len(units)
    for unit in units:
        found = counts(world, unit)
        if provider in ("vnpt", "ca2"):
            # The re-run continued the request it had journalled: nothing asked twice.
            assert (found.requests, found.approvals, found.orphans) == (2, 2, ())
            continue
        # MISA: the killed request was approved on the phone and cannot be used: one
        # repeated approval, announced as such before the new request.
        assert (found.requests, found.approvals) == (3, 3)
        (orphan,) = found.orphans
        ref = reference_of(world, orphan)
        requests = sign_requests(world, unit)
        replacement = requests[requests.index(orphan) + 1]
        phone = display_text(world, replacement)
        assert _lines_with(phone.replace("<br>", "\n"), "Đã hủy", ref), phone
        log = (tmp_path / f"{unit.block}.log").read_text(errors="replace")
        assert _lines_with(log, ref, "void"), log[-3000:]
        cards = await cards_of(unit)
        assert any(_lines_with(card, ref, "void") for card in cards), cards
    print(
        f"\nSEND WINDOW {provider}: "
        + ", ".join(
            f"{u.block} requests={counts(world, u).requests} approvals={counts(world, u).approvals}"
            for u in units
        )
    )
