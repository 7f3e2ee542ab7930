"""The provider sandbox plays the CA2 RemoteSigning wire as eBH's client code writes it,
strictly, with its own phone flow.

Raw HTTP (no esign client) for the wire: each request is the shape of a client-code
class (``tests/esign/ca2_samples.py``, invented values), each answer is checked for
every field of the matching response class with its JSON type. The phone is operated as
a person would: the page, Đồng ý, the PIN.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.esign.ca2_samples import (
    CA2_CANNOT_SIGN,
    CA2_GET_CERTIFICATE,
    CA2_SIGN,
    CA2_STATUS,
    CA2_STATUS_PENDING,
)
from tests.esign.ca2_support import CA2_CLIENT, GAMMA_TAX, ca2_config
from tests.esign.esign_support import CONTROL, ProviderFactory, Running
from tests.esign.vendor_samples import fill, mismatches
from tests.sandbox.provider.test_provider_phone import read

CA2 = "/ca2/api/data/"
CREDS = {**CA2_CLIENT, "user_id": GAMMA_TAX}


def _post(sb: Running, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{sb.url}{CA2}{path}", json=body)


def _list(sb: Running, **fields: Any) -> httpx.Response:
    request = fill(CA2_GET_CERTIFICATE.request, **CREDS)
    request.update(fields)
    return _post(sb, CA2_GET_CERTIFICATE.path, request)


def _serial(sb: Running) -> str:
    entries = _list(sb).json()["data"]["user_certificates"]
    serial: str = next(e for e in entries if e["cert_id"] == "esign-gamma-ca2")["serial_number"]
    return serial


def _sign_request(tid: str, serial: str) -> dict[str, Any]:
    request: dict[str, Any] = fill(
        CA2_SIGN.request,
        **CREDS,
        transaction_id=tid,
        serial_number=serial,
        digest_b64_1=base64.b64encode(hashlib.sha256(b"first").digest()).decode(),
        digest_b64_2=base64.b64encode(hashlib.sha256(b"second").digest()).decode(),
    )
    request["time_stamp"] = time.strftime("%Y%m%d%H%M%S")
    return request


def _status(sb: Running, tid: str) -> httpx.Response:
    return _post(sb, CA2_STATUS.path, fill(CA2_STATUS.request, **CREDS, transaction_id=tid))


def _poll(sb: Running, tid: str, until: str, limit: float = 15.0) -> dict[str, Any]:
    end = time.monotonic() + limit
    while True:
        body: dict[str, Any] = _status(sb, tid).json()
        if body["message"] == until or time.monotonic() > end:
            return body
        time.sleep(0.05)


# ====================================================================== the wire


def test_get_certificate_answers_every_field_of_ca2certificates(provider: ProviderFactory) -> None:
    sb = provider(**ca2_config())
    answer = _list(sb)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert mismatches(body, CA2_GET_CERTIFICATE.response) == []
    assert body["data"]["transaction_id"] == CA2_GET_CERTIFICATE.request["transaction_id"]
    assert len(body["data"]["user_certificates"]) == 2
    serial = _serial(sb)
    only = _list(sb, serial_number=serial).json()["data"]["user_certificates"]
    assert [e["serial_number"] for e in only] == [serial]
    assert _list(sb, serial_number=serial.lower()).json()["data"]["user_certificates"] == []


def test_the_sign_request_of_ca2signrequest_is_accepted_and_answered(
    provider: ProviderFactory,
) -> None:
    sb = provider(**ca2_config())
    answer = _post(sb, CA2_SIGN.path, _sign_request("EBH-TX-0001", _serial(sb)))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert mismatches(body, CA2_SIGN.response) == []
    assert body["data"]["transaction_id"] == "EBH-TX-0001"
    pending = _status(sb, "EBH-TX-0001").json()
    assert mismatches(pending, CA2_STATUS_PENDING) == []
    assert {s["signature_value"] for s in pending["data"]["signatures"]} == {""}
    assert len(sb.events("sign_request", GAMMA_TAX)) == 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"user_id": None}, 400),
        ({"sp_id": None}, 400),
        ({"transaction_id": None}, 400),
        ({"transaction_id": ""}, 400),
        ({"description": "không có trong CA2SignRequest"}, 400),
        ({"time_stamp": "2026-01-10T08:30:00"}, 400),
        ({"serial_number": None}, 400),
        ({"user_id": "0999999999"}, 401),
        ({"sp_password": "guess"}, 401),
    ],
    ids=[
        "no-user-id",
        "no-sp-id",
        "no-transaction-id",
        "empty-transaction-id",
        "unknown-key",
        "iso-time-stamp",
        "no-serial",
        "unknown-user",
        "wrong-sp-password",
    ],
)
def test_a_sign_body_outside_the_client_code_is_refused(
    provider: ProviderFactory, change: dict[str, Any], status: int
) -> None:
    sb = provider(**ca2_config())
    request = _sign_request("EBH-TX-0002", _serial(sb))
    for key, value in change.items():
        if value is None:
            del request[key]
        else:
            request[key] = value
    answer = _post(sb, CA2_SIGN.path, request)
    assert answer.status_code == status, answer.text
    assert answer.json()["status_code"] == status
    assert sb.events("sign_request", GAMMA_TAX) == []


@pytest.mark.parametrize(
    "change",
    [
        {"sign_type": "file"},
        {"file_type": "docx"},
        {"data_to_be_signed": hashlib.sha256(b"hex").hexdigest()},  # hex is VNPT's, not CA2's
        {"extra": "x"},
    ],
    ids=["sign-type", "file-type", "hex-digest", "unknown-file-key"],
)
def test_a_sign_file_outside_filetosign_is_refused(
    provider: ProviderFactory, change: dict[str, str]
) -> None:
    sb = provider(**ca2_config())
    request = _sign_request("EBH-TX-0003", _serial(sb))
    request["sign_files"][0].update(change)
    answer = _post(sb, CA2_SIGN.path, request)
    assert answer.status_code == 400 and answer.json()["status_code"] == 400


def test_a_transaction_id_is_used_once_and_the_serial_is_compared_as_listed(
    provider: ProviderFactory,
) -> None:
    sb = provider(**ca2_config())
    serial = _serial(sb)
    assert _post(sb, CA2_SIGN.path, _sign_request("EBH-TX-0004", serial)).status_code == 200
    again = _post(sb, CA2_SIGN.path, _sign_request("EBH-TX-0004", serial))
    assert again.status_code == 400
    lower = _post(sb, CA2_SIGN.path, _sign_request("EBH-TX-0005", serial.lower()))
    assert lower.status_code == 403
    assert len(sb.events("sign_request", GAMMA_TAX)) == 1


def test_status_of_an_unknown_or_foreign_transaction_is_404(provider: ProviderFactory) -> None:
    sb = provider(**ca2_config())
    assert _status(sb, "EBH-NEVER").status_code == 404
    missing = fill(CA2_STATUS.request, **CREDS)  # transaction_id left as a placeholder
    del missing["transaction_id"]
    assert _post(sb, CA2_STATUS.path, missing).status_code == 400


@pytest.mark.parametrize(
    ("action", "message", "value"),
    [("approve", "SUCCESS", None), ("reject", "REJECTED", ""), ("fail", "FAILED", CA2_CANNOT_SIGN)],
)
def test_the_phone_outcome_reaches_the_status_answer(
    provider: ProviderFactory, action: str, message: str, value: str | None
) -> None:
    sb = provider(**ca2_config(), policies={GAMMA_TAX: {"action": action}})
    assert _post(sb, CA2_SIGN.path, _sign_request("EBH-TX-0006", _serial(sb))).status_code == 200
    body = _poll(sb, "EBH-TX-0006", message)
    assert body["message"] == message and body["sp_id"] == CA2_CLIENT["sp_id"]
    assert mismatches(body, CA2_STATUS.response) == []
    values = {s["signature_value"] for s in body["data"]["signatures"]}
    if value is None:
        assert "" not in values and CA2_CANNOT_SIGN not in values
    else:
        assert values == {value}


# ====================================================================== the phone


async def test_a_person_approves_a_ca2_request_on_the_phone_with_the_pin(
    provider: ProviderFactory,
) -> None:
    sb = provider(**ca2_config())  # manual: only the person approves
    assert _post(sb, CA2_SIGN.path, _sign_request("EBH-TX-PHONE", _serial(sb))).status_code == 200
    async with httpx.AsyncClient(base_url=sb.url, follow_redirects=True) as browser:
        page = read(await browser.get(f"/phone/{GAMMA_TAX}"))
        seen = "".join(page.text)
        # CA2's sign body carries no text for the phone: the sandbox's own card
        assert "CA2" in seen and "Yêu cầu ký số 2 tài liệu" in seen and "EBH-TX-PHONE" in seen
        for f in CA2_SIGN.request["sign_files"]:
            assert f["doc_id"] in seen
        agree = page.form_with("Đồng ý")
        answer = await browser.post(urljoin("/", agree.action), data=agree.fields)
        confirm = next(f for f in read(answer).forms if "pin" in f.inputs)
        answer = await browser.post(confirm.action, data={**confirm.fields, "pin": "123456"})
        assert "Đã ký thành công" in answer.text
    assert _status(sb, "EBH-TX-PHONE").json()["message"] == "SUCCESS"
    (approved,) = sb.events("approved", GAMMA_TAX)
    assert approved["via"] == "phone" and approved["service"] == "ca2"


def test_the_control_api_lists_the_pending_ca2_request(provider: ProviderFactory) -> None:
    sb = provider(**ca2_config())
    assert _post(sb, CA2_SIGN.path, _sign_request("EBH-TX-API", _serial(sb))).status_code == 200
    pending = httpx.get(
        f"{sb.url}/phone/api/{GAMMA_TAX}/pending", headers={"x-sandbox-token": CONTROL}
    ).json()
    assert [(p["transaction_id"], p["service"]) for p in pending["pending"]] == [
        ("EBH-TX-API", "ca2")
    ]
