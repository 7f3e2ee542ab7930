"""soHoSo, dot, promised dates and scripted outcomes after the configured delay."""

from __future__ import annotations

import re
from collections.abc import Callable

from sandbox.gateway.config import OutcomesConfig
from tests.sandbox.gateway.gateway_support import UNIT, Certs, Gateway, envelope

Start = Callable[..., Gateway]


async def test_dossiers_of_one_unit_procedure_and_period_count_dots(
    start_gateway: Start, certs: Certs
) -> None:
    gateway = start_gateway()
    for n in (1, 2):
        await gateway.client.submit(
            f"TZ9001A-600-{n}", UNIT.code, "envelope", envelope(certs.token)
        )
    other_period = envelope(certs.token, period="02/2026")
    await gateway.client.submit("TZ9001A-600-3", UNIT.code, "envelope", other_period)
    first, second, third = [await gateway.client.status(f"TZ9001A-600-{n}") for n in (1, 2, 3)]
    assert [first.dot, second.dot, third.dot] == [1, 2, 1]
    numbers = [s.so_ho_so or "" for s in (first, second, third)]
    assert all(re.fullmatch(r"\d{5}/\d{4}/07906", n) for n in numbers), numbers
    assert [int(n[:5]) for n in numbers] == [1, 2, 3]
    assert first.promised_date is not None and first.promised_date > first.received_at.date()
    assert first.status == "accepted" and first.final and first.completed_date is not None


async def test_scripted_outcomes_show_in_the_status_after_the_delay(
    start_gateway: Start, certs: Certs
) -> None:
    outcomes = OutcomesConfig(
        by_dossier={
            "d-rejected": "rejected",
            "d-supplement": "supplement",
            "d-refused": "rejected_at_receipt",
        },
        default="accepted",
    )
    gateway = start_gateway(outcomes=outcomes, result_delay_seconds=600, numbering_delay_seconds=60)
    ids = ["d-accepted", "d-rejected", "d-supplement", "d-refused"]
    for dossier_id in ids:
        await gateway.client.submit(dossier_id, UNIT.code, "envelope", envelope(certs.token))

    early = [await gateway.client.status(i) for i in ids]
    assert {s.status for s in early} == {"received"}
    assert all(s.so_ho_so is None and s.outcome is None for s in early)

    gateway.clock.advance(61)
    numbered = {i: await gateway.client.status(i) for i in ids}
    assert numbered["d-accepted"].status == "numbered" and numbered["d-accepted"].so_ho_so
    assert numbered["d-refused"].status == "rejected_at_receipt"
    assert numbered["d-refused"].so_ho_so is None

    gateway.clock.advance(600)
    final = {i: await gateway.client.status(i) for i in ids}
    assert {i: (s.status, s.outcome) for i, s in final.items()} == {
        "d-accepted": ("accepted", "accepted"),
        "d-rejected": ("rejected", "rejected"),
        "d-supplement": ("supplement_requested", "supplement"),
        "d-refused": ("rejected_at_receipt", "rejected_at_receipt"),
    }
    assert all(s.final and s.messages for s in final.values())
    assert [final[i].dot for i in ids[:3]] == [1, 2, 3]


async def test_outcomes_can_be_scripted_per_unit(start_gateway: Start, certs: Certs) -> None:
    gateway = start_gateway(outcomes=OutcomesConfig(by_unit={UNIT.code: "supplement"}))
    await gateway.client.submit("d-1", UNIT.code, "envelope", envelope(certs.token))
    assert (await gateway.client.status("d-1")).status == "supplement_requested"
