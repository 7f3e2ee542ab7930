"""Idempotency, lost answers, 503 bursts, authentication: the client and gateway together."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bhxh.submission import (
    DossierNotFound,
    GatewayAuthFailed,
    GatewayClient,
    GatewayUnavailable,
    IdempotencyConflict,
)
from sandbox.gateway import messages as m
from sandbox.gateway.config import FaultsConfig, LoseResponseConfig
from tests.sandbox.gateway.gateway_support import UNIT, Certs, Gateway, envelope, set_text

Start = Callable[..., Gateway]


async def test_the_same_dossier_twice_returns_the_first_acknowledgement(
    start_gateway: Start, certs: Certs
) -> None:
    gateway = start_gateway()
    content = envelope(certs.token)
    first = await gateway.client.submit("TZ9001A-600-1", UNIT.code, "envelope", content)
    again = await gateway.client.submit("TZ9001A-600-1", UNIT.code, "envelope", content)
    assert not first.duplicate and again.duplicate
    assert (again.transaction_id, again.received_at) == (first.transaction_id, first.received_at)
    assert gateway.submitted("TZ9001A-600-1") == 1
    assert len(gateway.events("duplicate", dossier_id="TZ9001A-600-1")) == 1


async def test_the_same_id_with_other_bytes_is_a_conflict(
    start_gateway: Start, certs: Certs
) -> None:
    gateway = start_gateway()
    first = envelope(certs.token)
    other = envelope(certs.token, mutate=set_text("NoiDung/ThongTinDonVi/DienThoai", "0999"))
    await gateway.client.submit("TZ9001A-600-1", UNIT.code, "envelope", first)
    with pytest.raises(IdempotencyConflict) as info:
        await gateway.client.submit("TZ9001A-600-1", UNIT.code, "envelope", other)
    record = gateway.core.status("TZ9001A-600-1")
    assert record is not None
    import hashlib

    digest = hashlib.sha256(first).hexdigest()
    assert info.value.message == m.CONFLICT(dossier_id="TZ9001A-600-1", first=digest).message
    assert gateway.submitted("TZ9001A-600-1") == 1


@pytest.mark.parametrize("mode", ["drop", "502"])
async def test_a_lost_answer_is_recovered_from_the_status_without_a_duplicate(
    start_gateway: Start, certs: Certs, mode: str
) -> None:
    lose = LoseResponseConfig(dossier_ids=["TZ9001A-600-1"], mode=mode)  # type: ignore[arg-type]
    gateway = start_gateway(faults=FaultsConfig(lose_response_after_record=lose))
    ack = await gateway.client.submit("TZ9001A-600-1", UNIT.code, "envelope", envelope(certs.token))
    assert ack.duplicate  # recovered from the gateway's record, not from a second receipt
    assert gateway.submitted("TZ9001A-600-1") == 1
    assert len(gateway.events("fault", fault="lost_response")) == 1
    assert gateway.events("status", dossier_id="TZ9001A-600-1"), "the client asked first"
    status = await gateway.client.status("TZ9001A-600-1")
    assert status.transaction_id == ack.transaction_id


async def test_a_burst_of_503_is_ridden_out(start_gateway: Start, certs: Certs) -> None:
    gateway = start_gateway(faults=FaultsConfig(burst_503=3), client_attempts=5)
    ack = await gateway.client.submit("TZ9001A-600-1", UNIT.code, "envelope", envelope(certs.token))
    assert not ack.duplicate
    assert len(gateway.events("fault", fault="503")) == 3
    assert gateway.submitted("TZ9001A-600-1") == 1


async def test_a_gateway_that_stays_unavailable_is_reported(
    start_gateway: Start, certs: Certs
) -> None:
    gateway = start_gateway(faults=FaultsConfig(burst_503=100), client_attempts=3)
    with pytest.raises(GatewayUnavailable, match="TZ9001A-600-1"):
        await gateway.client.submit("TZ9001A-600-1", UNIT.code, "envelope", envelope(certs.token))
    assert gateway.submitted("TZ9001A-600-1") == 0


async def test_slow_answers_still_arrive(start_gateway: Start, certs: Certs) -> None:
    gateway = start_gateway(faults=FaultsConfig(slow_seconds=0.05))
    ack = await gateway.client.submit("TZ9001A-600-1", UNIT.code, "envelope", envelope(certs.token))
    assert ack.transaction_id


async def test_a_wrong_api_key_is_refused_and_never_echoed(start_gateway: Start) -> None:
    gateway = start_gateway()
    secret = "wrong-key-must-not-leak"
    async with GatewayClient(gateway.url, secret, attempts=1) as client:
        assert secret not in repr(client)
        with pytest.raises(GatewayAuthFailed) as info:
            await client.registration(UNIT.code)
    assert secret not in str(info.value)


async def test_an_unknown_dossier_is_not_found(start_gateway: Start) -> None:
    with pytest.raises(DossierNotFound):
        await start_gateway().client.status("never-sent")


async def test_unreachable_gateway_is_unavailable() -> None:
    async with GatewayClient("http://127.0.0.1:9", "k", attempts=2, backoff=0.01) as client:
        with pytest.raises(GatewayUnavailable):
            await client.submit("d-1", UNIT.code, "envelope", b"<Hoso/>")
