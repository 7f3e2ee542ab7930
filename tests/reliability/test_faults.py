"""Faults: monthly_submission for 20 units through provider and gateway faults.

Every dossier must end submitted exactly once and every unit must cost exactly its two
approvals; the counts come from the sandbox audit, not from the flows' own report.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bhxh.store import Step
from demo.scenario import many_units
from flows import monthly_submission, sign_and_submit
from tests.reliability.conftest import (
    PERIOD,
    MakeWorld,
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

    rows = await monthly_submission(period=PERIOD, interactive=False)

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
        f"duplicates={world.count('duplicate')} dossiers={len(dossier_ids)}"
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
