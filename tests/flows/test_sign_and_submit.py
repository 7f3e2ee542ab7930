"""sign_and_submit and monthly_submission on the Prefect test harness, sandbox over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from prefect.flow_runs import aresume_flow_run

from bhxh.errors import DossierInvalid
from bhxh.pipeline import Step
from demo.scenario import many_units
from flows import ASK_AGAIN, STOP, monthly_submission, sign_and_submit
from flows.errors import SigningStopped, StoppedByOperator
from tests.flows.conftest import PERIOD, MakeWorld, World, wait_for_paused


async def test_business_dossier_takes_two_approvals_and_is_acknowledged(
    make_world: MakeWorld,
) -> None:
    (unit,) = units = many_units(1, prefix="two")
    world = await make_world(units)
    summary = await sign_and_submit(unit.block, period=PERIOD)
    assert [s.procedure for s in summary] == ["600"]
    assert world.count("approved", user=unit.username) == 2
    assert world.count("sign_request", user=unit.username) == 2
    (rec,) = world.records(unit)
    assert rec.has(Step.DECLARATIONS_SIGNED) and rec.has(Step.SUBMITTED)
    assert world.submissions() == {rec.id: 1}
    outbox = world.scenario.data_dir / "outbox" / unit.unit.code / "01-2026" / rec.id
    assert (outbox / "BHXHDienTu.xml").read_bytes().count(b"<SignatureValue>") == 1


async def test_per_unit_batching_holds_a_unit_to_two_approvals(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="batch")
    world = await make_world(units, dossiers=4)
    summary = await sign_and_submit(unit.block, period=PERIOD, batching="per_unit")
    assert len(summary) == 4
    assert world.count("approved", user=unit.username) == 2
    assert sorted(world.submissions().values()) == [1, 1, 1, 1]


async def test_per_dossier_batching_takes_two_approvals_per_dossier(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="perdos")
    world = await make_world(units, dossiers=2)
    await sign_and_submit(unit.block, period=PERIOD, batching="per_dossier")
    assert world.count("approved", user=unit.username) == 4
    assert sorted(world.submissions().values()) == [1, 1]


async def test_a_rerun_asks_for_nothing_and_submits_nothing_again(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="rerun")
    world = await make_world(units, dossiers=2)
    await sign_and_submit(unit.block, period=PERIOD)
    before = world.count("sign_request", user=unit.username)
    await sign_and_submit(unit.block, period=PERIOD)
    assert world.count("sign_request", user=unit.username) == before == 2
    assert sorted(world.submissions().values()) == [1, 1]


async def test_dry_run_signs_nothing(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="dry")
    world = await make_world(units, dossiers=2)
    summary = await sign_and_submit(unit.block, period=PERIOD, dry_run=True)
    assert len(summary) == 2
    assert world.count("sign_request") == 0
    assert world.submissions() == {}


async def test_invalid_dossier_fails_before_anything_is_signed(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="bad")
    world = await make_world(units)
    (folder,) = (world.scenario.data_dir / "inbox" / unit.unit.code / "01-2026").iterdir()
    decl = folder / "D02-TS-595.xml"
    # A required field of the real D02-TS left out (the file carries no unit header).
    decl.write_bytes(decl.read_bytes().replace(b"<TinhLai>0</TinhLai>", b"", 1))
    with pytest.raises(DossierInvalid, match=unit.unit.code) as info:
        await sign_and_submit(unit.block, period=PERIOD)
    assert "field TinhLai: missing, required" in str(info.value)
    assert world.count("sign_request") == 0
    assert not (world.scenario.data_dir / "store").exists() or not world.records(unit)


async def test_rejection_then_ask_again_through_run_input(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="reject")
    world = await make_world(units)
    world.set_policy(unit, "reject")
    run = asyncio.create_task(sign_and_submit(unit.block, period=PERIOD, interactive=True))
    flow_run_id = await wait_for_paused("sign_and_submit")
    assert world.count("rejected", user=unit.username) == 1
    world.set_policy(unit, "approve")
    await aresume_flow_run(flow_run_id, run_input={"action": ASK_AGAIN})
    summary = await asyncio.wait_for(run, 120)
    assert summary[0].acknowledgement and summary[0].so_ho_so
    assert world.count("approved", user=unit.username) == 2
    assert world.count("sign_request", user=unit.username) == 3


async def test_stop_after_rejection_keeps_state(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="stop")
    world = await make_world(units)
    world.set_policy(unit, "reject")
    run = asyncio.create_task(
        sign_and_submit(unit.block, period=PERIOD, interactive=True, return_state=True)
    )
    flow_run_id = await wait_for_paused("sign_and_submit")
    await aresume_flow_run(flow_run_id, run_input={"action": STOP})
    state = await asyncio.wait_for(run, 120)
    assert state.is_cancelled()  # a person's choice ends the run Cancelled, not Failed
    assert "người dùng đã chọn dừng" in (state.message or "").lower()
    with pytest.raises(StoppedByOperator, match="stopped by the operator"):
        await state.aresult()
    (rec,) = world.records(unit)
    assert rec.has(Step.PREPARED) and not rec.has(Step.DECLARATIONS_SIGNED)


async def test_expiry_in_a_scheduled_run_fails_after_bounded_attempts(
    make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BHXH_SCHEDULED_SIGNING_ATTEMPTS", "2")
    (unit,) = units = many_units(1, prefix="expire")
    world = await make_world(units, provider={"signing_deadline_seconds": 1})
    world.set_policy(unit, "expire")
    with pytest.raises(SigningStopped, match="2 request"):
        await sign_and_submit(unit.block, period=PERIOD, interactive=False)
    assert world.count("sign_request", user=unit.username) == 2
    assert world.count("expired", user=unit.username) == 2
    (rec,) = world.records(unit)
    assert rec.has(Step.PREPARED) and not rec.has(Step.SUBMITTED)
    # The next run continues from the store once the phone answers.
    world.set_policy(unit, "approve")
    await sign_and_submit(unit.block, period=PERIOD, interactive=False)
    assert world.submissions() == {rec.id: 1}


async def test_monthly_submission_reports_a_failing_unit_and_completes_the_others(
    make_world: MakeWorld,
) -> None:
    units = many_units(3, prefix="monthly")
    world = await make_world(units, provider={"signing_deadline_seconds": 2})
    world.set_policy(units[2], "reject")
    state = await monthly_submission(
        period=PERIOD, units=[u.block for u in units], return_state=True
    )
    assert state.is_failed()
    with pytest.raises(RuntimeError, match=units[2].block):
        await state.aresult()
    for unit in units[:2]:
        assert world.count("approved", user=unit.username) == 2
    assert len(world.submissions()) == 2


def _first(world: World, event: str, user: str) -> dt.datetime:
    return min(
        dt.datetime.fromisoformat(e["time"])
        for e in world.audit
        if e.get("event") == event and e.get("user") == user
    )


async def test_monthly_submission_waits_for_every_units_phone_at_the_same_time(
    make_world: MakeWorld,
) -> None:
    # Each phone approves 2 s after the request. Run one unit after the other and a unit's
    # first request would come after the previous unit's approval; run concurrently and
    # every unit's first request reaches the provider before any first approval.
    units = many_units(4, prefix="overlap", approve_after=2.0)
    world = await make_world(units)
    await monthly_submission(period=PERIOD, units=[u.block for u in units])
    requested = [_first(world, "sign_request", u.username) for u in units]
    approved = [_first(world, "approved", u.username) for u in units]
    assert max(requested) < min(approved), (requested, approved)
    assert world.per_user("approved") == {u.username: 2 for u in units}
