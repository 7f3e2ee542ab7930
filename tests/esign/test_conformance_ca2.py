"""The CA2 wire as eBH's public client code writes it, replayed through the CA2 client
(httpx.MockTransport).

No vendor document exists for CA2 here: each test names the client-code file whose shape
it replays (see ``tests/esign/ca2_samples.py``), with invented values and test-PKI
certificates.
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
    Ca2RemoteSigningClient,
    Certificate,
    ProviderError,
    SignItem,
    TxStatus,
    certificate_from_der,
)
from esign.ca2 import CA2_DEFAULT_URL
from sandbox.pki import IssuedCertificate, TestPKI, sign_digest
from tests.esign.ca2_samples import (
    CA2_CANNOT_SIGN,
    CA2_FILE_KEYS,
    CA2_GET_CERTIFICATE,
    CA2_PATHS,
    CA2_SIGN,
    CA2_STATUS,
    CA2_STATUS_PENDING,
)
from tests.esign.esign_support import FAST, items
from tests.esign.vendor_samples import fill

Handler = Callable[[httpx.Request], httpx.Response]
BASE = "https://rmsca2.test/api/data"
SP = {"sp_id": "sp-hoasen-ca2", "sp_password": "sp-ca2-secret", "user_id": "0312345678"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def issued(pki: TestPKI) -> IssuedCertificate:
    return pki.issue(
        "conformance-ca2", tax_code="0312345678", unit_name="Công ty TNHH Hoa Sen", ca="ca2"
    )


def _ca2(handler: Handler) -> Ca2RemoteSigningClient:
    return Ca2RemoteSigningClient(
        BASE,
        SP["sp_id"],
        SP["sp_password"],
        SP["user_id"],
        retry=FAST,
        transport=httpx.MockTransport(handler),
    )


def _cert(issued: IssuedCertificate, wire_serial: str) -> Certificate:
    return certificate_from_der("ca2", "cert-1", issued.der, "active", wire_serial=wire_serial)


def test_the_default_base_is_the_one_ebh_is_configured_with() -> None:
    # CA2_Winservice/App.config, CA2API_URI; GlobalVar.cs appends the three paths
    assert CA2_DEFAULT_URL.endswith("/api/data")


async def test_get_certificate_ca2request_body_and_ca2response_listing(
    pki: TestPKI, issued: IssuedCertificate
) -> None:
    """CA2Request.cs CA2GetCertRequest -> CA2Response.cs CA2Certificates."""
    serial = format(issued.certificate.serial_number, "X")
    chain = pki.chain_der("ca2")
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        body = json.loads(request.content)
        answer = fill(
            CA2_GET_CERTIFICATE.response,
            cert_data=_b64(issued.der),
            ca_cert=_b64(chain[0]),
            root_cert=_b64(chain[1]),
            serial_number=serial,
        )
        answer["data"]["transaction_id"] = body["transaction_id"]
        return httpx.Response(200, json=answer)

    async with _ca2(handler) as client:
        (cert,) = await client.list_certificates()
    (request,) = requests
    assert request.method == "POST" and request.url.path == "/api/data/" + CA2_PATHS["certificates"]
    body = json.loads(request.content)
    assert set(body) == set(CA2_GET_CERTIFICATE.request)  # every key, as Newtonsoft sends
    assert {k: body[k] for k in ("sp_id", "sp_password", "user_id")} == SP
    assert body["serial_number"] == "" and body["transaction_id"]
    assert (
        cert.wire_serial == serial
        and cert.alias == CA2_GET_CERTIFICATE.response["data"]["user_certificates"][0]["cert_id"]
    )
    assert cert.chain == tuple(chain) and cert.status == "active" and cert.mst == "0312345678"


async def test_sign_ca2signrequest_body_with_filetosign_entries(
    issued: IssuedCertificate,
) -> None:
    """CA2Request.cs CA2SignRequest / FileToSign; CA2SignUtilities.cs: base64 SHA-256."""
    serial = format(issued.certificate.serial_number, "X")
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        answer = fill(CA2_SIGN.response, transaction_id=body["transaction_id"], doc_id="d")
        return httpx.Response(200, json=answer)

    batch = items(2)
    async with _ca2(handler) as client:
        tx = await client.request_signatures(_cert(issued, serial), batch, "Ký", "ebh-tx-1")
    (body,) = bodies
    assert set(body) == set(CA2_SIGN.request)
    assert body["transaction_id"] == "ebh-tx-1" and body["serial_number"] == serial
    assert [set(f) for f in body["sign_files"]] == [set(CA2_FILE_KEYS)] * 2
    assert [f["data_to_be_signed"] for f in body["sign_files"]] == [_b64(i.digest) for i in batch]
    assert [f["doc_id"] for f in body["sign_files"]] == [i.document_id for i in batch]
    assert {(f["file_type"], f["sign_type"]) for f in body["sign_files"]} == {("xml", "hash")}
    assert len(body["time_stamp"]) == 14 and body["time_stamp"].isdigit()  # yyyyMMddHHmmss
    assert tx.id == "ebh-tx-1" and tx.status is TxStatus.PENDING


async def test_a_pdf_digest_is_sent_as_file_type_pdf(issued: IssuedCertificate) -> None:
    """SignHashToKhaiProcess.cs: a PDF's hash goes with ``file_type`` "pdf", an XML's "xml"."""
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        answer = fill(CA2_SIGN.response, transaction_id=body["transaction_id"], doc_id="d")
        return httpx.Response(200, json=answer)

    xml, pdf = items(2)
    batch = [xml, SignItem(pdf.document_id, "Hợp đồng lao động.pdf", pdf.digest, "pdf")]
    async with _ca2(handler) as client:
        await client.request_signatures(_cert(issued, "AB"), batch, "Ký", "ebh-tx-pdf")
    (body,) = bodies
    assert [f["file_type"] for f in body["sign_files"]] == ["xml", "pdf"]


async def test_status_ca2statuscheckrequest_and_the_signed_result(
    issued: IssuedCertificate,
) -> None:
    """CA2Request.cs CA2StatusCheckRequest -> CA2Response.cs CA2StatusCheckResponse."""
    batch = items(2)
    sigs = [sign_digest(issued.private_key, i.digest) for i in batch]
    answer = fill(CA2_STATUS.response, transaction_id="ebh-tx-1", **SP)
    answer["data"]["signatures"] = [
        {"doc_id": i.document_id, "signature_value": _b64(s), "timestamp_signature": ""}
        for i, s in zip(batch, sigs, strict=True)
    ]
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=answer)

    async with _ca2(handler) as client:
        tx = await client.get_transaction("ebh-tx-1", _cert(issued, "AB"), batch)
    (request,) = requests
    assert request.url.path == "/api/data/" + CA2_PATHS["status"]
    assert json.loads(request.content) == fill(CA2_STATUS.request, transaction_id="ebh-tx-1", **SP)
    assert tx.status is TxStatus.SUCCEEDED and list(tx.signatures.values()) == sigs


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ("PENDING", TxStatus.PENDING),
        ("", TxStatus.PENDING),
        ("Success", TxStatus.PENDING),  # an empty signature_value says "not yet", whatever
        ("REJECTED", TxStatus.REJECTED),  # our choice: the sources know no refusal
        ("EXPIRED", TxStatus.EXPIRED),
    ],
)
async def test_an_empty_signature_value_is_not_signed_yet(
    issued: IssuedCertificate, message: str, status: TxStatus
) -> None:
    """SignHSBHXHProcess.cs / SignToKhaiProcess.cs: ``signature_value == ""`` -> poll again."""
    (item,) = batch = items(1)
    answer = fill(CA2_STATUS_PENDING, transaction_id="ebh-tx-2", doc_id=item.document_id, **SP)
    answer["message"] = message

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    async with _ca2(handler) as client:
        tx = await client.get_transaction("ebh-tx-2", _cert(issued, "AB"), batch)
    assert tx.status is status and not tx.signatures


async def test_minus_two_means_the_server_cannot_sign(issued: IssuedCertificate) -> None:
    """SignToKhaiProcess.cs: ``signature_value == "-2"``: the file cannot be signed."""
    batch = items(2)
    answer = fill(CA2_STATUS.response, transaction_id="ebh-tx-3", **SP)
    answer["data"]["signatures"] = [
        {"doc_id": i.document_id, "signature_value": v, "timestamp_signature": ""}
        for i, v in zip(batch, ["", CA2_CANNOT_SIGN], strict=True)
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    async with _ca2(handler) as client:
        tx = await client.get_transaction("ebh-tx-3", _cert(issued, "AB"), batch)
    assert tx.status is TxStatus.FAILED and tx.error_code == CA2_CANNOT_SIGN
    assert (
        tx.message
        and batch[1].document_id in tx.message
        and batch[0].document_id not in (tx.message)
    )


@pytest.mark.parametrize(("http", "code"), [(200, 500), (200, 403), (403, 403), (400, 400)])
async def test_a_status_code_other_than_200_is_a_provider_error(http: int, code: int) -> None:
    """SignHashToKhaiProcess.cs: anything but ``status_code == 200`` is a failure."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            http, json={"status_code": code, "message": "Lỗi xử lý", "data": None}
        )

    async with _ca2(handler) as client:
        with pytest.raises(ProviderError) as err:
            await client.list_certificates()
    assert err.value.code == str(code) and err.value.status == code
    assert "«Lỗi xử lý»" in err.value.user_message  # CA2's words, as they came
    assert SP["sp_password"] not in str(err.value)


async def test_401_is_refused_credentials() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"status_code": 401, "message": "Unauthorized"})

    async with _ca2(handler) as client:
        with pytest.raises(AuthenticationFailed) as err:
            await client.login()
    assert SP["sp_password"] not in str(err.value)
