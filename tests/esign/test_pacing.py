"""The pacing seam: every attempt of every provider call waits for its turn under the
integrator account's key (``esign.pacing``); no pacer, no wait."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from esign._http import HttpCore, RetryPolicy
from esign.misa import MisaESignClient
from esign.pacing import PACING, pace_key
from esign.vnpt import VnptSmartCAClient


@pytest.fixture
def paced() -> Iterator[list[str]]:
    keys: list[str] = []

    async def pacer(key: str) -> None:
        keys.append(key)

    previous = PACING.install(pacer)
    try:
        yield keys
    finally:
        PACING.install(previous)


def test_the_key_names_the_provider_and_the_integrator_account() -> None:
    assert pace_key("misa", "prefect-bhxh-demo") == "misa-prefect-bhxh-demo"
    assert pace_key("vnpt", "SP_Công ty/01") == "vnpt-sp-c-ng-ty-01"
    assert pace_key("mysign", base_url="https://remotesigning.viettel.vn:8773/vtss") == (
        "mysign-remotesigning-viettel-vn"
    )
    assert pace_key("ca2") == "ca2"


async def test_each_attempt_takes_a_turn_retries_included(paced: list[str]) -> None:
    answers = iter([503, 503, 200])

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), json={})

    core = HttpCore(
        "misa",
        "http://provider.test/api",
        timeout=5,
        verify=True,
        transport=httpx.MockTransport(reply),
        retry=RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.001),
        account="client-1",
    )
    try:
        response = await core.request("GET", "status")
    finally:
        await core.aclose()
    assert response.status_code == 200
    assert paced == ["misa-client-1"] * 3


async def test_without_a_pacer_nothing_waits() -> None:
    assert not PACING.installed
    before = PACING.calls
    core = HttpCore(
        "vnpt",
        "http://provider.test/",
        timeout=5,
        verify=True,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})),
        retry=None,
    )
    try:
        await core.request("GET", "x")
    finally:
        await core.aclose()
    assert PACING.calls == before


def test_the_clients_pace_under_their_integrator_ids() -> None:
    misa = MisaESignClient("http://misa.test", "client-misa", "key", "user", "pw")
    vnpt = VnptSmartCAClient("http://vnpt.test", "sp-vnpt", "pw", "user-1")
    assert misa._http.pace == "misa-client-misa"
    assert vnpt._http.pace == "vnpt-sp-vnpt"
