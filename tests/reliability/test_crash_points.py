"""Crashes: the flow process killed (SIGKILL) at every step boundary, then run again.

Each crash point gets its own unit with two dossiers (each with a PDF attachment, signed
in round 1), in one sandbox. The flow process
is started with ``BHXH_TEST_CRASH_AT=<step>`` (the test hook ``tasks._runtime.crash_point``)
and kills itself right after that step is recorded; then one monthly_submission re-runs
every unit. From the sandbox audit: two approvals and two phone requests per unit (none
repeated), one submission per dossier, and every dossier submitted (nothing lost).
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import pytest

from bhxh.pipeline import DossierOutbox, Layout, Step, open_store, outbox_path
from demo.scenario import DemoUnit, many_units
from flows import monthly_submission
from sandbox.pki import TestPKI
from tests.bhxh.signing.pdf.pdf_support import Pdfsig
from tests.reliability.conftest import PERIOD, MakeWorld, World, prime_units, run_flow_process

#: Step boundary -> what the store shows for the unit's dossiers after the kill.
CRASH_POINTS: dict[str, Step | None] = {
    "r1-prepared": Step.PREPARED,  # templates and digests of round 1 on disk
    "r1-sending": Step.ROUND1_REQUESTED,  # request journalled, not sent yet
    "r1-requested": Step.ROUND1_REQUESTED,  # the provider's transaction id recorded
    "r1-approved": Step.ROUND1_REQUESTED,  # approved on the phone, nothing applied yet
    "r1-pdfs-signed": Step.ROUND1_REQUESTED,  # a dossier's PDF finished, its XML not yet
    "r1-applying": Step.DECLARATIONS_SIGNED,  # one dossier of two applied
    "envelopes-built": Step.DECLARATIONS_SIGNED,  # envelopes on disk
    "r2-prepared": Step.ENVELOPE_PREPARED,
    "r2-requested": Step.ROUND2_REQUESTED,
    "r2-approved": Step.ROUND2_REQUESTED,
    "r2-applying": Step.SIGNED,  # one dossier of two signed and in the outbox
    "submitting": Step.SUBMITTING,  # journalled, not sent
    "submit-acknowledged": Step.SUBMITTING,  # the gateway has it, the store does not
}
DOSSIERS = 2
PDF = "hop-dong-lao-dong.pdf"  # every dossier carries one, signed in round 1


def _unit_for(units: list[DemoUnit], step: str) -> DemoUnit:
    return units[list(CRASH_POINTS).index(step)]


def _assert_boundary(world: World, unit: DemoUnit, step: str) -> None:
    records = world.records(unit)
    assert len(records) == DOSSIERS
    expected = CRASH_POINTS[step]
    assert expected is not None
    assert any(r.has(expected) for r in records), f"{step}: no dossier reached {expected}"
    assert not any(r.has(Step.SUBMITTED) for r in records), f"{step}: submitted before the kill"
    if step == "r1-sending":
        assert world.count("sign_request", user=unit.username) == 0
    if step in ("r1-requested", "r1-approved"):
        assert world.count("sign_request", user=unit.username) == 1
    if step == "r1-pdfs-signed":
        assert not any(r.has(Step.DECLARATIONS_SIGNED) for r in records)
        signed_pdf = Layout.signed_attachment(PDF)
        assert sum(open_store().has_file(r, signed_pdf) for r in records) == 1
    if step.endswith("applying"):
        signed = Step.DECLARATIONS_SIGNED if step.startswith("r1") else Step.SIGNED
        assert sum(r.has(signed) for r in records) == 1, f"{step}: not in the middle"
    if step == "submit-acknowledged":
        assert sum(world.submissions()[r.id] for r in records) == 1


@pytest.mark.slow
async def test_a_flow_killed_at_any_step_boundary_completes_on_rerun_without_repeats(
    make_world: MakeWorld, tmp_path: Path, pki: TestPKI, store: str
) -> None:
    (tmp_path / "pdfsig").mkdir()
    pdfsig = Pdfsig.create(pki, tmp_path / "pdfsig")
    units = many_units(len(CRASH_POINTS), prefix="kill", approve_after=0.3)
    world = await make_world(units, dossiers=DOSSIERS, setup=False, with_pdf=True)
    await prime_units(world, units)

    async def crash(step: str) -> tuple[str, int]:
        unit = _unit_for(units, step)
        code = await run_flow_process(
            unit.block, PERIOD, {"BHXH_TEST_CRASH_AT": step}, tmp_path / f"{step}.log"
        )
        return step, code

    # Four flow processes at a time (each one imports Prefect: a few CPU seconds).
    steps = list(CRASH_POINTS)
    results: list[tuple[str, int]] = []
    for i in range(0, len(steps), 4):
        results += await asyncio.gather(*(crash(s) for s in steps[i : i + 4]))
    for step, code in results:
        log = (tmp_path / f"{step}.log").read_text(errors="replace")[-3000:]
        assert code == -signal.SIGKILL, f"{step}: exit {code}, not killed at the boundary\n{log}"
        _assert_boundary(world, _unit_for(units, step), step)

    # Let the phone act on requests the killed runs left pending (approve after 0.3 s).
    await asyncio.sleep(1.0)
    await monthly_submission(period=PERIOD, units=[u.block for u in units])

    every = {r.id for u in units for r in world.records(u)}
    assert len(every) == DOSSIERS * len(units)
    assert world.submissions() == Counter({d: 1 for d in every})  # none twice, none lost
    assert world.per_user("approved") == Counter({u.username: 2 for u in units})
    assert world.per_user("sign_request") == Counter({u.username: 2 for u in units})
    outbox = world.scenario.data_dir / "outbox"
    for u in units:
        for rec in world.records(u):
            assert rec.has(Step.SUBMITTED)
            folder = outbox_path(outbox, rec.unit_code, rec.period, rec.id)
            # The signed envelope and, beside it, the signed declarations and PDF it embeds;
            # the PDF finished after a kill is as valid as any (pdfsig, the independent check).
            declarations = {f.filename for f in rec.files if f.kind == "declaration"}
            assert {p.name for p in folder.iterdir()} == {"BHXHDienTu.xml", PDF, *declarations}
            assert pdfsig.all_valid((folder / PDF).read_bytes())
            journal = open_store()
            if isinstance(journal, DossierOutbox):  # the store's outbox: the same files
                kept = journal.read_outbox(rec.unit_code, rec.period, rec.id)
                assert kept == {p.name: p.read_bytes() for p in folder.iterdir()}
    assert isinstance(open_store(), DossierOutbox) == (store == "postgres")
    print(
        f"\nCRASH store={store} points={len(results)} "
        f"duplicates_at_gateway={world.count('duplicate')}"
    )
