"""Narrow client tests (httpx.MockTransport): what the client does after an unknown outcome."""

from __future__ import annotations

import httpx
import pytest

from bhxh.submission import GatewayClient, UnknownOutcome

ACK = {
    "transaction_id": "GW-1",
    "dossier_id": "d-1",
    "received_at": "2026-01-15T02:00:00+00:00",
    "duplicate": False,
}


async def test_after_a_lost_answer_it_submits_again_only_when_the_gateway_says_404() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "POST" and calls.count("POST") == 1:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        if request.method == "GET":
            return httpx.Response(404, json={"error": "not_found", "message": "no"})
        return httpx.Response(201, json=ACK)

    client = GatewayClient("http://gw.test", "k", transport=httpx.MockTransport(handler), backoff=0)
    async with client:
        ack = await client.submit("d-1", "TZ9001A", "envelope", b"<Hoso/>")
    assert calls == ["POST", "GET", "POST"]
    assert ack.transaction_id == "GW-1"


async def test_when_the_gateway_cannot_be_asked_the_outcome_stays_unknown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(502, json={"error": "bad_gateway", "message": "lost"})
        raise httpx.ConnectError("refused", request=request)

    client = GatewayClient(
        "http://gw.test", "k", transport=httpx.MockTransport(handler), attempts=2, backoff=0
    )
    async with client:
        with pytest.raises(UnknownOutcome) as info:
            await client.submit("d-1", "TZ9001A", "envelope", b"<Hoso/>")
    assert info.value.dossier_id == "d-1"
    assert "same dossier id is safe" in str(info.value)
