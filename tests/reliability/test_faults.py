"""Faults: monthly_submission for 20 units through provider and gateway faults.

Every dossier must end submitted exactly once and every unit must cost exactly its two
approvals; the counts come from the sandbox audit, not from the flows' own report.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bhxh.pipeline import Step
from demo.scenario import many_units
from flows import UNKNOWN_SENDS, monthly_submission, sign_and_submit
from flows.errors import SigningStopped
from tests.reliability.conftest import (
    PERIOD,
    MakeWorld,
    World,
    faults_of,
    prime_units,
    set_client_timeout,
    set_provider_faults,
)

UNITS = 20
DOSSIERS_PER_UNIT = 2
#: Provider faults: 429, 503 and timeouts on about a fifth of all API calls (7 % each),
#: and every password login's signing token dies after its first use.
PROVIDER_FAULTS = {
    "rate_429": 0.07,
    "rate_5xx": 0.07,
    "rate_timeout": 0.07,
    "timeout_seconds": 4.0,
    "retry_after_seconds": 0.2,
    "token_expires_early": True,
    "seed": 20260115,
}
#: Gateway faults: a burst of 503s at the start, 5 % 503s after it, and the first four
#: first-time submissions recorded by the gateway whose answer is then lost (dropped).
GATEWAY_FAULTS = {
    "burst_503": 25,
    "rate_503": 0.05,
    "seed": 7,
    "lose_response_after_record": {"count": 4, "mode": "drop"},
}


@pytest.mark.slow
async def test_twenty_units_through_faults_submit_each_dossier_once_with_two_approvals(
    make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Production-like polling (fewer task runs for the local SQLite API to write).
    monkeypatch.setenv("BHXH_POLL_INITIAL_SECONDS", "1")
    monkeypatch.setenv("BHXH_POLL_MAX_SECONDS", "2")
    units = many_units(UNITS, prefix="flt", approve_after=0.3)
    world = await make_world(
        units, dossiers=DOSSIERS_PER_UNIT, setup=False, gateway={"faults": GATEWAY_FAULTS}
    )
    await prime_units(world, units)
    # The client gives up well before a hung call answers, and well after a normal one.
    await set_client_timeout(units, 2.0)
    set_provider_faults(world, **PROVIDER_FAULTS)

    # Prefect's own local SQLite API may answer 503 under the burst of 20 units starting
    # at once; a unit failed by it is reported and continued by the next run, as an
    # operator would. Any other failure fails this test.
    runs = 0
    while runs < 3:
        runs += 1
        state = await monthly_submission(
            period=PERIOD, units=[u.block for u in units], return_state=True
        )
        if state.is_completed():
            break
        error = str(await state.aresult(raise_on_failure=False))
        units_failed = error.splitlines()[1:] or [error]
        assert all(_orchestrator_failure(line) for line in units_failed), error
    rows = await state.aresult()

    dossier_ids = {r.id for u in units for r in world.records(u)}
    assert len(dossier_ids) == UNITS * DOSSIERS_PER_UNIT
    assert {r.dossier for r in rows} == dossier_ids
    # Submitted exactly once each: one "submitted" per dossier at the gateway.
    assert world.submissions() == Counter({d: 1 for d in dossier_ids})
    assert all(r.has(Step.SUBMITTED) for u in units for r in world.records(u))
    # Two approvals per unit, and only two requests ever reached each phone.
    assert world.per_user("approved") == Counter({u.username: 2 for u in units})
    assert world.per_user("sign_request") == Counter({u.username: 2 for u in units})
    # The faults did happen.
    injected = faults_of(world)
    assert injected["provider:429"] > 0
    assert injected["provider:503"] > 0
    assert injected["provider:timeout"] > 0
    assert injected["gateway:503"] >= GATEWAY_FAULTS["burst_503"]
    assert injected["gateway:lost_response"] == 4
    assert world.count("token_refresh", ok=True) >= UNITS
    print(  # the figures of the README table (pytest -s)
        f"\nFAULTS injected={dict(injected)} refreshes={world.count('token_refresh', ok=True)} "
        f"duplicates={world.count('duplicate')} dossiers={len(dossier_ids)} "
        f"provider_calls={_provider_calls(world)} monthly_runs={runs}"
    )


def _orchestrator_failure(line: str) -> bool:
    """A unit failed by the Prefect API itself (503 from its database), not by this code."""
    return "503 Service Unavailable' for url" in line and "/api/" in line


def _provider_calls(world: World) -> int:
    """API calls the provider answered or faulted (each leaves one audit line)."""
    served = {"login", "login_failed", "two_factor", "token_refresh", "certificates", "status"}
    return sum(
        1
        for e in world.audit
        if (e["service"] == "misa" and e["event"] in served | {"sign_request"})
        or (e["service"] == "provider" and e["event"] == "fault")
    )


async def test_a_lost_sign_answer_is_replaced_and_the_orphan_request_is_never_used(
    make_world: MakeWorld,
) -> None:
    """The one window where the outcome is unknown: MISA recorded the request (the phone
    shows it) but the answer with its transaction id was lost."""
    units = many_units(1, prefix="lostsign", approve_after=0.3)
    (unit,) = units
    world = await make_world(units, dossiers=2, setup=False)
    await prime_units(world, units)
    set_provider_faults(world, lose_sign_response=1)

    await sign_and_submit(unit.block, period=PERIOD, interactive=False)

    requests = [
        e
        for e in world.audit
        if e.get("event") == "sign_request" and e.get("user") == unit.username
    ]
    assert len(requests) == 3  # the orphan, then round 1 and round 2
    orphan = requests[0]["transaction"]
    assert faults_of(world)["provider:lost_sign_answer"] == 1
    # The flow never read the orphan, never applied its signatures.
    assert world.count("status", transaction=orphan) == 0
    records = world.records(unit)
    for rec in records:
        signed = rec.last(Step.DECLARATIONS_SIGNED)
        assert signed is not None and signed.data["transaction_id"] != orphan
    assert sorted(world.submissions().values()) == [1, 1]
    assert all(r.has(Step.SUBMITTED) for r in records)


async def test_sign_answers_lost_again_and_again_stop_the_round_keeping_state(
    make_world: MakeWorld,
) -> None:
    units = many_units(1, prefix="lostmany", approve_after=0.3)
    (unit,) = units
    world = await make_world(units, dossiers=1, setup=False)
    await prime_units(world, units)
    set_provider_faults(world, lose_sign_response=UNKNOWN_SENDS)

    with pytest.raises(SigningStopped, match=f"{UNKNOWN_SENDS} sign requests in a row"):
        await sign_and_submit(unit.block, period=PERIOD, interactive=False)

    assert world.count("sign_request", user=unit.username) == UNKNOWN_SENDS
    assert world.submissions() == Counter()
    (rec,) = world.records(unit)
    assert rec.has(Step.PREPARED) and not rec.has(Step.DECLARATIONS_SIGNED)
    # Run again once the provider answers: one request per round, as usual.
    await sign_and_submit(unit.block, period=PERIOD, interactive=False)
    assert world.count("sign_request", user=unit.username) == UNKNOWN_SENDS + 2
    assert sorted(world.submissions().values()) == [1]
