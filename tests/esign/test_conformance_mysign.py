"""Viettel MySign's printed samples replayed through the client (httpx.MockTransport).

Each test names the section of the sample it replays (``vendor_samples``, MySign); the
answers are the document's shapes with invented values and test-PKI certificates.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from esign import AuthenticationFailed, TxStatus, ViettelMySignClient, certificate_from_der
from esign.models import Certificate
from sandbox.pki import IssuedCertificate, TestPKI, sign_digest
from tests.esign.esign_support import FAST, items
from tests.esign.vendor_samples import (
    MYSIGN_CERTIFICATES,
    MYSIGN_LOGIN,
    MYSIGN_LOGIN_ERRORS,
    MYSIGN_PATHS,
    MYSIGN_SIGN,
    MYSIGN_SIGN_KEYS,
    MYSIGN_STATUS,
    MYSIGN_STATUS_CODES,
    fill,
    mismatches,
)

Handler = Callable[[httpx.Request], httpx.Response]
SECRET = "mysign-conformance-secret"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def issued(pki: TestPKI) -> IssuedCertificate:
    return pki.issue(
        "conformance-mysign",
        tax_code="0312345678",
        unit_name="Công ty TNHH Hoa Sen",
        ca="mysign",
    )


def _client(handler: Handler) -> ViettelMySignClient:
    login = MYSIGN_LOGIN.request
    return ViettelMySignClient(
        "https://remotesigning.viettel.vn",
        login["client_id"],
        SECRET,
        login["profile_id"],
        login["user_id"],
        transport=httpx.MockTransport(handler),
        retry=FAST,
    )


def _routes(answers: dict[str, Any], seen: list[tuple[str, Any, str]]) -> Handler:
    """Answer each documented path with its sample (or an ``httpx.Response``)."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.url.path, body, request.headers.get("authorization", "")))
        if request.url.path == MYSIGN_PATHS["login"]:
            return httpx.Response(200, json=MYSIGN_LOGIN.response)
        answer = answers[request.url.path]
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    return handler


def _cert(issued: IssuedCertificate) -> Certificate:
    return certificate_from_der("mysign", "0312345678_2482540_20261017114147", issued.der, "active")


async def test_3_1_login_token_is_the_bearer_of_every_later_call(
    issued: IssuedCertificate, pki: TestPKI
) -> None:
    seen: list[tuple[str, Any, str]] = []
    listing = fill(
        MYSIGN_CERTIFICATES.response,
        cert_data=_b64(issued.der),
        ca_cert=_b64(pki.chain_der("mysign")[0]),
        root_cert=_b64(pki.chain_der("mysign")[1]),
        serial=str(issued.certificate.serial_number),
    )
    async with _client(_routes({MYSIGN_PATHS["certificates"]: listing}, seen)) as c:
        await c.login()
        await c.list_certificates()
    (login_path, login_body, _), (_, listing_body, bearer) = seen
    assert login_path == MYSIGN_PATHS["login"]
    assert login_body == fill(MYSIGN_LOGIN.request, client_secret=SECRET)
    assert bearer == f"Bearer {MYSIGN_LOGIN.response['access_token']}"
    assert listing_body == fill(MYSIGN_CERTIFICATES.request, client_secret=SECRET)


async def test_3_2_listing_keeps_the_credential_id_and_the_chain(
    issued: IssuedCertificate, pki: TestPKI
) -> None:
    listing = fill(
        MYSIGN_CERTIFICATES.response,
        cert_data=_b64(issued.der),
        ca_cert=_b64(pki.chain_der("mysign")[0]),
        root_cert=_b64(pki.chain_der("mysign")[1]),
        serial=str(issued.certificate.serial_number),
    )
    async with _client(_routes({MYSIGN_PATHS["certificates"]: listing}, [])) as c:
        (cert,) = await c.list_certificates()
    assert cert.alias == MYSIGN_CERTIFICATES.response[0]["credential_id"]
    assert cert.chain == tuple(pki.chain_der("mysign"))
    assert cert.wire_serial == str(issued.certificate.serial_number)
    assert cert.status == "active" and cert.mst == "0312345678"


async def test_3_3_sign_body_has_the_documented_keys_and_types(issued: IssuedCertificate) -> None:
    seen: list[tuple[str, Any, str]] = []
    handler = _routes({MYSIGN_PATHS["sign"]: MYSIGN_SIGN.response}, seen)
    batch = items(2)
    async with _client(handler) as c:
        tx = await c.request_signatures(_cert(issued), batch, "Ký tờ khai BHXH", "TM-r1-0001")
    assert tx.id == MYSIGN_SIGN.response["transactionId"] and tx.status is TxStatus.PENDING
    body = seen[-1][1]
    assert tuple(body) == MYSIGN_SIGN_KEYS
    assert mismatches(body, fill(MYSIGN_SIGN.request, client_secret=SECRET)) == []
    assert body["numSignatures"] == len(body["hash"]) == len(body["documents"]) == 2
    assert body["hashAlgo"] == MYSIGN_SIGN.request["hashAlgo"]
    assert body["signAlgo"] == MYSIGN_SIGN.request["signAlgo"]
    assert body["credentialID"] == MYSIGN_SIGN.request["credentialID"]
    assert base64.b64decode(body["description"]).decode() == "Ký tờ khai BHXH"
    assert [base64.b64decode(h) for h in body["hash"]] == [i.digest for i in batch]


async def test_3_4_signatures_follow_the_order_of_the_hashes(issued: IssuedCertificate) -> None:
    batch = items(2)
    answer = {
        "signatures": [_b64(sign_digest(issued.private_key, i.digest)) for i in batch],
        "status": "1",
    }
    seen: list[tuple[str, Any, str]] = []
    assert mismatches(answer, fill(MYSIGN_STATUS.response, signature="x")) == []
    async with _client(_routes({MYSIGN_PATHS["status"]: answer}, seen)) as c:
        tx = await c.get_transaction(MYSIGN_STATUS.request["transactionId"], _cert(issued), batch)
    assert seen[-1][1] == MYSIGN_STATUS.request
    assert tx.status is TxStatus.SUCCEEDED and list(tx.signatures) == ["doc-00", "doc-01"]


#: 3.4's meanings: 4000 waiting, 6000 confirmed and signing, 4001 timeout, 4002 rejected,
#: 4004 failed, 4005 out of quota, 13004 certificate expired or revoked, 50000 error.
_OUTCOMES = {
    "4000": TxStatus.PENDING,
    "6000": TxStatus.PENDING,
    "4001": TxStatus.EXPIRED,
    "4002": TxStatus.REJECTED,
    "4004": TxStatus.FAILED,
    "4005": TxStatus.FAILED,
    "13004": TxStatus.FAILED,
    "50000": TxStatus.FAILED,
}


@pytest.mark.parametrize("code", MYSIGN_STATUS_CODES[1:])
async def test_3_4_every_listed_code_is_read(issued: IssuedCertificate, code: str) -> None:
    answer = {"signatures": None, "status": code}
    async with _client(_routes({MYSIGN_PATHS["status"]: answer}, [])) as c:
        tx = await c.get_transaction("tx-1", _cert(issued), items(1))
    assert tx.error_code == code and tx.status is _OUTCOMES[code]
    assert tx.ask_again is (code not in ("4005", "13004"))


@pytest.mark.parametrize("code", sorted(MYSIGN_LOGIN_ERRORS))
async def test_2_4_login_errors_are_refusals_with_their_code(code: str) -> None:
    status = 401 if code == "59033" else 400

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, json={"error": code, "error_description": MYSIGN_LOGIN_ERRORS[code]}
        )

    async with _client(handler) as c:
        with pytest.raises(AuthenticationFailed) as caught:
            await c.login()
    assert caught.value.code == code and MYSIGN_LOGIN_ERRORS[code] in str(caught.value)
    assert SECRET not in str(caught.value)
