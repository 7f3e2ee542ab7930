"""Narrow client behaviour pinned with httpx.MockTransport."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from typing import Any

import httpx
import pytest

from esign import (
    MISA_FAILED_CODES,
    Certificate,
    InvalidResponse,
    MisaESignClient,
    SignItem,
    TransportError,
    TxStatus,
    certificate_from_der,
)
from sandbox.pki import TestPKI
from tests.esign.esign_support import FAST, items


def _login_body(token: str) -> dict[str, Any]:
    return {
        "status": {"type": 0, "code": 200, "errorCode": None},
        "data": {
            "accessToken": "a-" + token,
            "remoteSigningAccessToken": token,
            "tokenType": "Bearer",
            "expiresIn": 3600,
            "refreshToken": "r-" + token,
            "user": {"id": "u-1"},
        },
    }


def _client(handler: Any) -> MisaESignClient:
    return MisaESignClient(
        "https://misa.test/",
        "cid",
        "ckey",
        "acme",
        "pw",
        retry=FAST,
        transport=httpx.MockTransport(handler),
    )


async def test_concurrent_401s_cause_a_single_refresh() -> None:
    refreshes = 0
    current = "t0"

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal refreshes, current
        path = request.url.path
        if path.endswith("login-api"):
            return httpx.Response(200, json=_login_body(current))
        if path.endswith("refreshtoken"):
            refreshes += 1
            await asyncio.sleep(0.05)  # let the other callers pile up on the lock
            current = f"t{refreshes}"
            return httpx.Response(200, json=_login_body(current))
        if request.headers["AuthorizationRM"] != f"Bearer {current}":
            return httpx.Response(401, json={"error": "Unauthorized", "errorCode": "e2001"})
        return httpx.Response(200, json=[])

    async with _client(handler) as client:
        await client.login()
        current = "server-forgot-t0"  # every token in hand is now stale
        results = await asyncio.gather(*(client.list_certificates() for _ in range(8)))
    assert results == [[]] * 8
    assert refreshes == 1


async def test_an_html_200_on_certificates_is_invalid_response_not_an_empty_list() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=_login_body("t"))
        return httpx.Response(200, text="<!doctype html>", headers={"content-type": "text/html"})

    async with _client(handler) as client:
        await client.login()
        with pytest.raises(InvalidResponse, match="not JSON"):
            await client.list_certificates()


async def test_a_json_object_instead_of_the_certificate_array_is_invalid_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=_login_body("t"))
        return httpx.Response(200, json={"data": []})

    async with _client(handler) as client:
        with pytest.raises(InvalidResponse, match="array"):
            await client.list_certificates()


async def test_esrm_calls_carry_client_headers_and_the_remote_signing_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("login-api"):
            assert json.loads(request.content) == {"userName": "acme", "password": "pw"}
            return httpx.Response(200, json=_login_body("rm-token"))
        return httpx.Response(200, json=[])

    async with _client(handler) as client:
        await client.list_certificates()  # logs in by itself
    esrm = seen[-1]
    assert esrm.url.path == "/external/esrm/service/general/api/v1/Certificates/by-userId"
    assert esrm.headers["x-clientid"] == "cid"
    assert esrm.headers["x-clientkey"] == "ckey"
    assert esrm.headers["AuthorizationRM"] == "Bearer rm-token"
    assert seen[0].url.path == "/api/auth/api/v1/auth/login-api"  # guide 3.1.1 first


class _Reads:
    """A MISA server for the retry tests: logs in, then answers the reads with
    ``statuses`` in turn (a 429 with Retry-After 0), then with an empty list; with
    ``endless`` the last status for ever. ``calls`` counts the reads."""

    def __init__(self, statuses: list[int], *, endless: bool = False) -> None:
        self.statuses = list(statuses)
        self.endless = endless
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=_login_body("t"))
        self.calls += 1
        if not self.statuses:
            return httpx.Response(200, json=[])
        status = self.statuses[0] if self.endless else self.statuses.pop(0)
        return httpx.Response(status, headers={"Retry-After": "0"} if status == 429 else {})


async def test_retry_after_is_honoured_on_reads() -> None:
    reads = _Reads([429, 429])
    async with _client(reads) as client:
        assert await client.list_certificates() == []
    assert reads.calls == 3


async def test_reads_give_up_after_the_bounded_attempts() -> None:
    reads = _Reads([503], endless=True)
    async with _client(reads) as client:
        with pytest.raises(TransportError, match="503"):
            await client.list_certificates()
    assert reads.calls == FAST.attempts


async def test_a_rate_limit_does_not_use_up_the_tries_kept_for_failures() -> None:
    """Four 503s and then six 429s: more tries than ``attempts`` in all, but 429s are
    counted apart (``rate_limited``), so the read still gets its answer."""
    reads = _Reads([503] * (FAST.attempts - 1) + [429] * (FAST.rate_limited - 4))
    async with _client(reads) as client:
        assert await client.list_certificates() == []
    assert reads.calls == FAST.attempts - 1 + FAST.rate_limited - 4 + 1


async def test_a_rate_limit_that_never_ends_is_given_up_after_its_own_tries() -> None:
    reads = _Reads([429], endless=True)
    async with _client(reads) as client:
        with pytest.raises(TransportError, match=f"429 .*gave up after {FAST.rate_limited} tries"):
            await client.list_certificates()
    assert reads.calls == FAST.rate_limited


async def test_a_sign_post_timing_out_is_not_repeated(pki: TestPKI) -> None:
    sign_posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal sign_posts
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=_login_body("t"))
        sign_posts += 1
        raise httpx.ReadTimeout("slow", request=request)

    cert = _cert(pki)
    async with _client(handler) as client:
        await client.login()
        with pytest.raises(TransportError):
            await client.request_signatures(cert, items(1), "Ký", "once")
        with pytest.raises(TransportError, match="not sent again"):
            await client.request_signatures(cert, items(1), "Ký", "once")
    assert sign_posts == 1


async def test_the_sign_body_is_pascal_case_with_base64_digests(pki: TestPKI) -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=_login_body("t"))
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"transactionId": "tx-1"})

    batch = items(2)
    async with _client(handler) as client:
        tx = await client.request_signatures(_cert(pki), batch, "<b>Ký</b>", "local-1")
    assert tx.id == "tx-1" and tx.status is TxStatus.PENDING
    assert bodies == [
        {
            "DataToBeDisplayed": "<b>Ký</b>",
            "UserId": "u-1",
            "CertAlias": "ALIAS",
            "Documents": [
                {
                    "DocumentId": i.document_id,
                    "FileToSign": base64.b64encode(i.digest).decode(),
                    "DocumentName": i.name,
                }
                for i in batch
            ],
        }
    ]


@pytest.mark.parametrize(
    ("code", "description", "expected"),
    [
        ("USER_REJECTED", None, TxStatus.REJECTED),
        ("TRANSACTION_EXPIRED", None, TxStatus.EXPIRED),
        ("E999", "Người dùng từ chối", TxStatus.REJECTED),
        ("E998", "request timeout", TxStatus.EXPIRED),
        ("HSM_ERROR", "boom", TxStatus.FAILED),
    ],
)
async def test_misa_failed_codes_map_to_business_outcomes(
    pki: TestPKI, code: str, description: str | None, expected: TxStatus
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=_login_body("t"))
        return httpx.Response(
            200,
            json={
                "status": "FAILED",
                "errorCode": code,
                "errorDescription": description,
                "transactionId": "tx",
                "signatures": None,
            },
        )

    async with _client(handler) as client:
        tx = await client.get_transaction("tx", _cert(pki), items(1))
    assert tx.status is expected and tx.error_code == code
    assert set(MISA_FAILED_CODES.values()) <= set(TxStatus)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"document_id": "x" * 37}, "document_id"),
        ({"name": "n" * 101}, "name"),
        ({"digest": b"short"}, "digest"),
    ],
)
def test_sign_items_are_validated_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = {"document_id": "d1", "name": "Tờ khai", "digest": b"0" * 32}
    values.update(kwargs)
    with pytest.raises(ValueError, match=field):
        SignItem(**values)


def test_terminal_statuses() -> None:
    assert not TxStatus.PENDING.terminal
    assert all(s.terminal for s in TxStatus if s is not TxStatus.PENDING)


def test_usability_needs_active_status_and_validity(pki: TestPKI) -> None:
    cert = _cert(pki)
    assert cert.is_usable()
    assert not cert.is_usable(cert.not_after + dt.timedelta(seconds=1))
    inactive = certificate_from_der("misa", "A", cert.der, "inactive")
    assert not inactive.is_usable()


def _cert(pki: TestPKI) -> Certificate:
    issued = pki.issue("esign-acme", tax_code="0101234567", unit_name="Công ty TNHH ACME")
    return certificate_from_der("misa", "ALIAS", issued.der, "active")


def _web_app_or_login(prefix: str, seen: list[str]) -> Any:
    """A host whose auth API is under ``prefix``; elsewhere the web app answers HTML."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.startswith(prefix + "api/auth/"):
            if request.url.path.endswith("refreshtoken"):
                return httpx.Response(
                    200,
                    json={
                        "remoteSigningAccessToken": "t2",
                        "accessToken": "a2",
                        "refreshToken": "r2",
                        "expiresIn": 3600,
                    },
                )
            return httpx.Response(200, json=_login_body("t"))
        if request.url.path.startswith("/external/"):
            if request.headers["AuthorizationRM"] == "Bearer t":
                return httpx.Response(401, json={"error": "Unauthorized", "errorCode": "e2001"})
            return httpx.Response(200, json=[])
        return httpx.Response(200, text="<!doctype html>", headers={"content-type": "text/html"})

    return handler


@pytest.mark.parametrize("prefix", ["/", "/webdev/"], ids=["guide", "test-host"])
async def test_the_auth_prefix_is_detected_from_one_base_url_and_kept(prefix: str) -> None:
    seen: list[str] = []
    async with _client(_web_app_or_login(prefix, seen)) as client:
        await client.login()
        assert await client.list_certificates() == []  # 401 -> refresh at the same prefix
    auth = [p for p in seen if "/auth/" in p]
    if prefix == "/":
        assert auth == ["/api/auth/api/v1/auth/login-api", "/api/auth/api/v1/auth/refreshtoken"]
    else:  # the guide's path answered the web app: once, then /webdev/ only
        assert auth == [
            "/api/auth/api/v1/auth/login-api",
            "/webdev/api/auth/api/v1/auth/login-api",
            "/webdev/api/auth/api/v1/auth/refreshtoken",
        ]
    assert client.auth_prefix == prefix.lstrip("/") + "api/auth/api/v1/auth/"


async def test_a_pinned_auth_prefix_is_the_only_one_tried() -> None:
    seen: list[str] = []
    handler = _web_app_or_login("/webdev/", seen)
    async with MisaESignClient(
        "https://misa.test/",
        "cid",
        "ckey",
        "acme",
        "pw",
        retry=FAST,
        transport=httpx.MockTransport(handler),
        auth_prefix="webdev/api/auth/api/v1/auth/",
    ) as client:
        await client.login()
    assert seen == ["/webdev/api/auth/api/v1/auth/login-api"]


async def test_a_404_at_the_guide_path_falls_back_to_the_test_host_prefix() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.startswith("/webdev/"):
            return httpx.Response(200, json=_login_body("t"))
        return httpx.Response(404, text="Not Found")

    async with _client(handler) as client:
        await client.login()
    assert seen == ["/api/auth/api/v1/auth/login-api", "/webdev/api/auth/api/v1/auth/login-api"]
