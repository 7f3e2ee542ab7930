"""The vendor documents' samples replayed through the clients (httpx.MockTransport).

Each test names the section of the sample it replays (see ``vendor_samples``). The
answers are the documents' shapes with invented values and test-PKI certificates.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from esign import (
    AuthenticationFailed,
    Certificate,
    MisaESignClient,
    ProviderError,
    TxStatus,
    VnptSmartCAClient,
    certificate_from_der,
)
from sandbox.pki import IssuedCertificate, TestPKI, sign_digest
from tests.esign.esign_support import FAST, items
from tests.esign.vendor_samples import (
    MISA_CERTIFICATES,
    MISA_LOGIN,
    MISA_LOGIN_NEEDS_TWO_FACTOR,
    MISA_PATHS,
    MISA_REFRESH,
    MISA_RESPONSE_ERROR,
    MISA_SIGN,
    MISA_STATUS,
    MISA_TWO_FACTOR,
    VNPT_ERRORS,
    VNPT_ESEAL_ENTRY,
    VNPT_GET_CERTIFICATE,
    VNPT_MINIMAL_ENTRY,
    VNPT_SIGN,
    VNPT_SIGN_FILE_KEYS,
    VNPT_SIGN_OPTIONAL,
    VNPT_SIGN_REQUIRED,
    VNPT_STATUS,
    VNPT_STATUS_PENDING,
    fill,
)

Handler = Callable[[httpx.Request], httpx.Response]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def issued(pki: TestPKI) -> IssuedCertificate:
    return pki.issue("conformance-unit", tax_code="0312345678", unit_name="Công ty TNHH Hoa Sen")


def _misa(handler: Handler, **kw: Any) -> MisaESignClient:
    return MisaESignClient(
        "https://esign.test/",
        "cid-hoasen",
        "ckey-hoasen",
        "hoasen.ketoan",
        "pw-hoasen",
        retry=FAST,
        transport=httpx.MockTransport(handler),
        **kw,
    )


def _vnpt(handler: Handler) -> VnptSmartCAClient:
    return VnptSmartCAClient(
        "https://smartca.test/sca/sp769",
        "sp-hoasen.apps.test",
        "sp-secret",
        "079123456789",
        retry=FAST,
        transport=httpx.MockTransport(handler),
    )


_MISA_VALUES = {
    "userName": "hoasen.ketoan",
    "rm_token": "rm-token-1",
    "refresh_token": "refresh-1",
    "user_id": "5d0c8a51-7e2b-4c1f-9a3e-0b6d2f4e8a10",
}


# ====================================================================== MISA


async def test_misa_3_1_1_login_answer_gives_the_signing_token_and_user_id(
    issued: IssuedCertificate,
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/" + MISA_PATHS["login"]:
            return httpx.Response(200, json=fill(MISA_LOGIN.response, **_MISA_VALUES))
        return httpx.Response(200, json=[])

    async with _misa(handler) as client:
        await client.login()
        await client.list_certificates()
    assert json.loads(seen[0].content) == fill(
        MISA_LOGIN.request, userName="hoasen.ketoan", password="pw-hoasen"
    )
    assert client.user_id == _MISA_VALUES["user_id"]
    assert client.auth_prefix == "api/auth/api/v1/auth/"
    assert seen[1].headers["AuthorizationRM"] == "Bearer rm-token-1"  # 3.1.1 Lưu ý


async def test_misa_2_1_errorcode_122_as_an_integer_leads_to_3_2_1_with_its_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=MISA_LOGIN_NEEDS_TWO_FACTOR.response)
        return httpx.Response(200, json=fill(MISA_TWO_FACTOR.response, **_MISA_VALUES))

    async def otp() -> str:
        return "135790"

    async with _misa(handler, otp_type=1) as client:
        await client.login(otp=otp)
    two_factor = seen[1]
    assert two_factor.url.path == "/" + MISA_PATHS["two_factor"]
    assert {k: two_factor.headers[k] for k in MISA_TWO_FACTOR.headers} == {
        "clientId": "cid-hoasen",
        "clientKey": "ckey-hoasen",
    }
    assert json.loads(two_factor.content) == {
        "userName": "hoasen.ketoan",
        "code": "135790",
        "otpType": 1,
        "remember": False,
    }
    assert set(json.loads(two_factor.content)) == set(MISA_TWO_FACTOR.request)
    assert client.user_id == _MISA_VALUES["user_id"]


async def test_misa_3_1_2_flat_refresh_answer_renews_without_a_second_code() -> None:
    codes_asked = 0
    logins = 0
    current = "rm-token-1"

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal logins, current
        path = request.url.path
        if path.endswith("login-api"):
            logins += 1
            return httpx.Response(200, json=MISA_LOGIN_NEEDS_TWO_FACTOR.response)
        if path.endswith("two-factor-auth"):
            return httpx.Response(200, json=fill(MISA_TWO_FACTOR.response, **_MISA_VALUES))
        if path.endswith("refreshtoken"):
            assert json.loads(request.content) == {"refreshToken": "refresh-1"}
            current = "rm-token-2"
            return httpx.Response(
                200,
                json=fill(MISA_REFRESH.response, rm_token=current, new_refresh_token="refresh-2"),
            )
        if request.headers["AuthorizationRM"] != f"Bearer {current}":
            return httpx.Response(401, json=MISA_RESPONSE_ERROR)
        return httpx.Response(200, json=[])

    async def otp() -> str:
        nonlocal codes_asked
        codes_asked += 1
        return "135790"

    async with _misa(handler) as client:
        await client.login(otp=otp)
        current = "rm-token-1-forgotten"  # the server forgets the token: 401, then refresh
        assert await client.list_certificates() == []
    assert (codes_asked, logins) == (1, 1)


async def test_misa_3_3_1_certificate_list_keeps_the_alias_byte_for_byte(
    pki: TestPKI, issued: IssuedCertificate
) -> None:
    alias = "7C1E9A2B-44d0-4F6e-8b1A-92C3d4E5f607"  # a Guid (4.14) in mixed case
    chain = pki.chain_der("misa")
    answer = fill(
        MISA_CERTIFICATES.response,
        user_id=_MISA_VALUES["user_id"],
        alias=alias,
        cert_data=_b64(issued.der),
        ca_cert=_b64(chain[0]),
        root_cert=_b64(chain[1]),
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=fill(MISA_LOGIN.response, **_MISA_VALUES))
        assert request.url.path == "/" + MISA_PATHS["certificates"]
        return httpx.Response(200, json=answer)

    async with _misa(handler) as client:
        (cert,) = await client.list_certificates()
    assert cert.alias == alias
    assert cert.der == issued.der and cert.chain == tuple(chain)
    assert cert.status == "active" and cert.mst == "0312345678"


async def test_misa_3_5_sign_body_has_the_documented_fields(issued: IssuedCertificate) -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=fill(MISA_LOGIN.response, **_MISA_VALUES))
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=fill(MISA_SIGN.response, transaction_id="tx-0001"))

    cert = certificate_from_der("misa", "Alias-Mixed", issued.der, "active")
    batch = items(2)
    async with _misa(handler) as client:
        tx = await client.request_signatures(cert, batch, "Ký <b>2</b> tờ khai", "local-1")
    assert tx.id == "tx-0001" and tx.status is TxStatus.PENDING
    (body,) = bodies
    assert set(body) == set(MISA_SIGN.request)
    assert [set(d) for d in body["Documents"]] == [set(MISA_SIGN.request["Documents"][0])] * 2
    assert body["CertAlias"] == "Alias-Mixed" and body["UserId"] == _MISA_VALUES["user_id"]


async def test_misa_3_6_signatures_without_document_ids_are_taken_in_request_order(
    issued: IssuedCertificate,
) -> None:
    batch = items(3)
    sigs = [sign_digest(issued.private_key, i.digest) for i in batch]
    answer = fill(MISA_STATUS.response, error_code=None, error_description=None)
    answer["signatures"] = [{"signature": _b64(s)} for s in sigs]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=fill(MISA_LOGIN.response, **_MISA_VALUES))
        assert request.url.path == "/" + MISA_PATHS["status"] + "/tx-0001"
        return httpx.Response(200, json=answer)

    cert = certificate_from_der("misa", "A", issued.der, "active")
    async with _misa(handler) as client:
        tx = await client.get_transaction("tx-0001", cert, batch)
    assert tx.status is TxStatus.SUCCEEDED
    assert tx.signatures == {i.document_id: s for i, s in zip(batch, sigs, strict=True)}


async def test_misa_1_5_response_error_is_a_provider_error_with_its_code(
    issued: IssuedCertificate,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("login-api"):
            return httpx.Response(200, json=fill(MISA_LOGIN.response, **_MISA_VALUES))
        return httpx.Response(
            400, json={**MISA_RESPONSE_ERROR, "errorCode": "E3004", "userMsg": "Sai CertAlias"}
        )

    cert = certificate_from_der("misa", "A", issued.der, "active")
    async with _misa(handler) as client:
        with pytest.raises(ProviderError) as err:
            await client.request_signatures(cert, items(1), "Ký", "local-2")
    assert (err.value.code, err.value.user_message) == ("E3004", "Sai CertAlias")


async def test_misa_4_10_status_error_boolean_is_not_taken_for_an_error_code() -> None:
    refused = fill(MISA_LOGIN_NEEDS_TWO_FACTOR.response)
    refused["status"].update(errorCode=None, userMsg="Sai mật khẩu")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=refused)

    async with _misa(handler) as client:
        with pytest.raises(AuthenticationFailed) as err:
            await client.login()
    assert err.value.code is None  # not "True"
    assert "Sai mật khẩu" in str(err.value)


# ====================================================================== VNPT


def _vnpt_listing(pki: TestPKI, issued: IssuedCertificate, serial: str) -> dict[str, Any]:
    chain = pki.chain_der("vnpt")
    values = {
        "cert_id": "fa51c0de-0b7e-4d2a-9c11-3e5f7a9b1c2d",
        "serial_number": serial,
        "cert_subject": issued.certificate.subject.rfc4514_string(),
        "cert_data": _b64(issued.der),
        "ca_cert": _b64(chain[0]),
        "root_cert": _b64(chain[1]),
        "transaction_id": "SP_LIST_0001",
    }
    answer: dict[str, Any] = fill(VNPT_GET_CERTIFICATE.response, **values)
    answer["data"]["user_certificates"].append(
        fill(VNPT_ESEAL_ENTRY, **{**values, "cert_id": "e5ea1000-aaaa-4bbb-8ccc-000000000001"})
    )
    answer["data"]["user_certificates"].append(
        fill(VNPT_MINIMAL_ENTRY, **{**values, "cert_id": "m1n1ma1-0000-4000-8000-000000000002"})
    )
    return answer


async def test_vnpt_3_2_listing_keeps_serial_and_cert_id_as_written(
    pki: TestPKI, issued: IssuedCertificate
) -> None:
    serial = format(issued.certificate.serial_number, "x")  # lower case, as every sample
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=_vnpt_listing(pki, issued, serial))

    async with _vnpt(handler) as client:
        full, eseal, minimal = await client.list_certificates()
    assert full.wire_serial == serial and full.serial == serial.upper()
    assert full.alias == "fa51c0de-0b7e-4d2a-9c11-3e5f7a9b1c2d"
    assert full.status == "active"  # "Đang hoạt động"
    assert full.chain == tuple(pki.chain_der("vnpt"))
    assert eseal.status == "active"
    # 4.2: no cert_status and root_cert null: usable, chain without the root
    assert minimal.status == "active" and minimal.chain == (pki.chain_der("vnpt")[0],)
    (body,) = bodies
    assert set(body) <= set(VNPT_GET_CERTIFICATE.request)
    assert {"sp_id", "sp_password", "user_id", "transaction_id"} <= set(body)


def _vnpt_cert(issued: IssuedCertificate, wire_serial: str) -> Certificate:
    return certificate_from_der("vnpt", "cert-1", issued.der, "active", wire_serial=wire_serial)


async def test_vnpt_3_3_sign_body_has_the_documented_keys_and_echoes_the_serial(
    issued: IssuedCertificate,
) -> None:
    serial = format(issued.certificate.serial_number, "x")
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        return httpx.Response(
            200,
            json=fill(VNPT_SIGN.response, transaction_id=body["transaction_id"], tran_code="tc-1"),
        )

    batch = items(2)
    async with _vnpt(handler) as client:
        tx = await client.request_signatures(_vnpt_cert(issued, serial), batch, "Ký", "sp-tx-1")
    (body,) = bodies
    assert set(VNPT_SIGN_REQUIRED) <= set(body) <= set(VNPT_SIGN_REQUIRED + VNPT_SIGN_OPTIONAL)
    assert body["serial_number"] == serial  # byte for byte, never upper-cased
    assert [set(f) for f in body["sign_files"]] == [set(VNPT_SIGN_FILE_KEYS)] * 2
    assert [f["data_to_be_signed"] for f in body["sign_files"]] == [i.digest.hex() for i in batch]
    assert len(body["time_stamp"]) == 14 and body["time_stamp"].isdigit()  # YYYYMMddHHmmSS
    assert tx.id == "sp-tx-1" and tx.status is TxStatus.PENDING


async def test_vnpt_3_4_status_posts_an_empty_object_and_reads_the_signatures(
    issued: IssuedCertificate,
) -> None:
    batch = items(2)
    sigs = [sign_digest(issued.private_key, i.digest) for i in batch]
    answer = fill(VNPT_STATUS.response, transaction_id="sp-tx-1")
    answer["data"]["signatures"] = [
        {"doc_id": i.document_id, "signature_value": _b64(s), "timestamp_signature": None}
        for i, s in zip(batch, sigs, strict=True)
    ]
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=answer)

    async with _vnpt(handler) as client:
        tx = await client.get_transaction("sp-tx-1", _vnpt_cert(issued, "ab"), batch)
    (request,) = requests
    assert request.url.path == "/sca/sp769/" + VNPT_STATUS.path.format(tranId="sp-tx-1")
    assert json.loads(request.content) == VNPT_STATUS.request == {}
    assert tx.status is TxStatus.SUCCEEDED and list(tx.signatures.values()) == sigs


@pytest.mark.parametrize(
    ("message", "status", "kept"),
    [
        ("SUCCESS", TxStatus.PENDING, "SUCCESS"),  # the 3.1 generic sample, no signatures yet
        ("sig_wait_for_user_confirm", TxStatus.PENDING, "sig_wait_for_user_confirm"),
        ("WAITING_FOR_SIGNER", TxStatus.PENDING, "WAITING_FOR_SIGNER"),  # not in the document
        ("EXPIRED", TxStatus.EXPIRED, None),
        ("REJECTED", TxStatus.REJECTED, None),
    ],
)
async def test_vnpt_c_sharp_sample_pending_while_signatures_are_null(
    issued: IssuedCertificate, message: str, status: TxStatus, kept: str | None
) -> None:
    answer = fill(VNPT_STATUS_PENDING, message=message, transaction_id="sp-tx-2")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    async with _vnpt(handler) as client:
        tx = await client.get_transaction("sp-tx-2", _vnpt_cert(issued, "ab"), items(1))
    assert tx.status is status
    if status is TxStatus.PENDING:
        assert tx.message == kept
    else:
        assert tx.error_code == message


@pytest.mark.parametrize("code", [400, 401, 403])
async def test_vnpt_3_1_error_table_is_read(issued: IssuedCertificate, code: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            code,
            json={"status_code": code, "message": VNPT_ERRORS[code], "data": None},
        )

    async with _vnpt(handler) as client:
        with pytest.raises(AuthenticationFailed if code == 401 else ProviderError) as err:
            await client.list_certificates()
    assert err.value.code == VNPT_ERRORS[code]
    assert "sp-secret" not in str(err.value)
