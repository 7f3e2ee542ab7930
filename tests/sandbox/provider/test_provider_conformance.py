"""The provider sandbox answers the vendor documents' samples as the documents show them.

Raw HTTP, no esign client. Each test sends the request of a printed sample (invented
values, see ``tests/esign/vendor_samples.py``) and checks the answer has every field of
the printed answer with the printed JSON type. A difference is a failure, never a skip.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.esign.esign_support import (
    BETA_TAX,
    CONTROL,
    MISA_CLIENT,
    VNPT_CLIENT,
    ProviderFactory,
    Running,
)
from tests.esign.vendor_samples import (
    MISA_CERT_FIELDS,
    MISA_CERTIFICATE,
    MISA_CERTIFICATES,
    MISA_LOGIN,
    MISA_LOGIN_NEEDS_TWO_FACTOR,
    MISA_PATHS,
    MISA_REFRESH,
    MISA_RESEND_OTP,
    MISA_RESPONSE_ERROR,
    MISA_SIGN,
    MISA_SIGN_STATUS_FIELDS,
    MISA_TWO_FACTOR,
    VNPT_ERRORS,
    VNPT_GET_CERTIFICATE,
    VNPT_SIGN,
    VNPT_STATUS,
    VNPT_STATUS_PENDING,
    fill,
    mismatches,
)

WEBDEV = "webdev/"
VNPT = "/sca/sp769/"


def _poll(check: Callable[[], Any], limit: float = 15.0) -> Any:
    """``check()`` until it is not None (bounded)."""
    end = time.monotonic() + limit
    while (value := check()) is None and time.monotonic() < end:
        time.sleep(0.05)
    return value


def _post(sb: Running, path: str, body: Any, **kw: Any) -> httpx.Response:
    return httpx.post(f"{sb.url}/{path.lstrip('/')}", json=body, **kw)


def _login(sb: Running, prefix: str = "") -> dict[str, Any]:
    answer = _post(
        sb,
        prefix + MISA_LOGIN.path,
        fill(MISA_LOGIN.request, userName="acme", password="pw-acme"),
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _esrm(token: str) -> dict[str, str]:
    return {
        "x-clientId": MISA_CLIENT["client_id"],
        "x-clientKey": MISA_CLIENT["client_key"],
        "AuthorizationRM": f"Bearer {token}",
    }


# ====================================================================== MISA


@pytest.mark.parametrize("prefix", ["", WEBDEV], ids=["guide-1.3", "test-host-webdev"])
def test_misa_3_1_1_login_answers_the_printed_object(
    provider: ProviderFactory, prefix: str
) -> None:
    sb = provider()
    body = _login(sb, prefix)
    assert mismatches(body, MISA_LOGIN.response) == []
    # 4.10: type a string, code an integer, error a boolean
    assert body["status"]["type"] == "success" and body["status"]["error"] is False
    assert body["data"]["user"]["username"] == "acme"


def test_misa_2_1_two_factor_login_answers_errorcode_122_as_an_integer(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    body = _post(
        sb, MISA_LOGIN.path, fill(MISA_LOGIN.request, userName="acme2fa", password="pw-2fa")
    ).json()
    assert mismatches(body, MISA_LOGIN_NEEDS_TWO_FACTOR.response) == []
    assert body["status"]["errorCode"] == 122 and body["status"]["error"] is True


def _challenge(sb: Running) -> None:
    _post(sb, MISA_LOGIN.path, fill(MISA_LOGIN.request, userName="acme2fa", password="pw-2fa"))


def test_misa_3_2_1_two_factor_with_the_client_headers_answers_the_printed_object(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    _challenge(sb)
    request = fill(MISA_TWO_FACTOR.request, userName="acme2fa", code="246810")
    headers = {"clientId": MISA_CLIENT["client_id"], "clientKey": MISA_CLIENT["client_key"]}
    answer = _post(sb, MISA_TWO_FACTOR.path, request, headers=headers)
    assert answer.status_code == 200
    assert mismatches(answer.json(), MISA_TWO_FACTOR.response) == []


def test_misa_3_2_1_two_factor_without_the_client_headers_is_refused(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    _challenge(sb)
    request = fill(MISA_TWO_FACTOR.request, userName="acme2fa", code="246810")
    answer = _post(sb, MISA_TWO_FACTOR.path, request)
    assert answer.status_code == 403
    assert mismatches(answer.json(), MISA_RESPONSE_ERROR) == []
    # the code was not used up: with the headers it still opens the account
    headers = {"clientId": MISA_CLIENT["client_id"], "clientKey": MISA_CLIENT["client_key"]}
    assert _post(sb, MISA_TWO_FACTOR.path, request, headers=headers).status_code == 200


def test_misa_3_2_2_resend_otp_answers_the_printed_object(provider: ProviderFactory) -> None:
    sb = provider()
    _challenge(sb)
    answer = _post(sb, MISA_RESEND_OTP.path, fill(MISA_RESEND_OTP.request, userName="acme2fa"))
    assert answer.status_code == 200
    assert mismatches(answer.json(), fill(MISA_RESEND_OTP.response, userName="acme2fa")) == []


@pytest.mark.parametrize("prefix", ["", WEBDEV], ids=["guide-1.3", "guide-3.1.2-webdev"])
def test_misa_3_1_2_refresh_answers_the_flat_printed_object(
    provider: ProviderFactory, prefix: str
) -> None:
    sb = provider()
    refresh = _login(sb)["data"]["refreshToken"]
    answer = _post(sb, prefix + MISA_REFRESH.path, {"refreshToken": refresh})
    assert answer.status_code == 200
    body = answer.json()
    assert mismatches(body, MISA_REFRESH.response) == []
    assert set(body) == set(MISA_REFRESH.response)  # flat: the example's four fields
    certs = httpx.get(
        f"{sb.url}/{MISA_CERTIFICATES.path}", headers=_esrm(body["remoteSigningAccessToken"])
    )
    assert certs.status_code == 200


def test_misa_3_3_1_certificates_carry_every_4_14_field(provider: ProviderFactory) -> None:
    sb = provider()
    token = _login(sb)["data"]["remoteSigningAccessToken"]
    answer = httpx.get(f"{sb.url}/{MISA_CERTIFICATES.path}", headers=_esrm(token))
    entries = answer.json()
    assert isinstance(entries, list) and len(entries) == 3
    assert mismatches(entries, MISA_CERTIFICATES.response) == []
    assert mismatches(entries, [MISA_CERT_FIELDS]) == []
    assert len(entries[0]["certiticateChain"]) == 3  # signer, MISA CA, root
    assert {e["certStatus"] for e in entries} <= {"ACTIVE", "INACTIVE"}  # 4.14's values


def test_misa_3_3_2_one_certificate_by_its_alias(provider: ProviderFactory) -> None:
    sb = provider()
    token = _login(sb)["data"]["remoteSigningAccessToken"]
    answer = httpx.get(
        f"{sb.url}/{MISA_CERTIFICATE.path}",
        params={"certAlias": "ACME-2025"},
        headers=_esrm(token),
    )
    assert answer.status_code == 200
    assert mismatches(answer.json(), MISA_CERTIFICATE.response) == []
    assert answer.json()["keyAlias"] == "ACME-2025"


def _misa_sign(sb: Running, data: dict[str, Any]) -> httpx.Response:
    digest = base64.b64encode(hashlib.sha256(b"to-khai").digest()).decode()
    request = fill(
        MISA_SIGN.request,
        display="Ký tờ khai D02-TS kỳ 05/2025",
        user_id=data["user"]["id"],
        alias="ACME-2025",
        doc_id="d02ts-0001",
        digest_b64=digest,
        doc_name="Tờ khai D02-TS",
    )
    return _post(sb, MISA_SIGN.path, request, headers=_esrm(data["remoteSigningAccessToken"]))


def test_misa_3_5_and_3_6_sign_then_status_answer_the_printed_objects(
    provider: ProviderFactory,
) -> None:
    sb = provider(policies={"acme": {"action": "approve"}})
    data = _login(sb)["data"]
    answer = _misa_sign(sb, data)
    assert answer.status_code == 200
    assert mismatches(answer.json(), MISA_SIGN.response) == []
    tx = answer.json()["transactionId"]
    url = f"{sb.url}/{MISA_PATHS['status']}/{tx}"
    headers = _esrm(data["remoteSigningAccessToken"])

    def done() -> Any:
        body = httpx.get(url, headers=headers).json()
        return body if body["status"] != "PENDING" else None

    body = _poll(done)
    assert body["status"] == "SUCCESS"
    assert mismatches(body, {**MISA_SIGN_STATUS_FIELDS, "transactionId": tx}) == []
    assert body["transactionId"] == tx and body["signatures"][0]["documentId"] == "d02ts-0001"


def test_misa_1_5_errors_are_response_error_objects(provider: ProviderFactory) -> None:
    sb = provider()
    token = _login(sb)["data"]["remoteSigningAccessToken"]
    wrong_key = httpx.get(
        f"{sb.url}/{MISA_CERTIFICATES.path}", headers={**_esrm(token), "x-clientKey": "guess"}
    )
    expired = httpx.get(f"{sb.url}/{MISA_CERTIFICATES.path}", headers=_esrm("not-a-token"))
    for answer in (wrong_key, expired):
        assert mismatches(answer.json(), MISA_RESPONSE_ERROR) == []
    assert expired.status_code == 401  # 2.2: 401 -> refresh


# ====================================================================== VNPT


def _vnpt_list(sb: Running, **fields: Any) -> httpx.Response:
    request = fill(
        VNPT_GET_CERTIFICATE.request,
        sp_id=VNPT_CLIENT["sp_id"],
        sp_password=VNPT_CLIENT["sp_password"],
        user_id=BETA_TAX,
        transaction_id="SP_LIST_77",
    )
    request.update(fields)
    return _post(sb, VNPT + VNPT_GET_CERTIFICATE.path, request)


def test_vnpt_3_2_get_certificate_answers_every_printed_field(provider: ProviderFactory) -> None:
    sb = provider()
    answer = _vnpt_list(sb)
    assert answer.status_code == 200
    body = answer.json()
    assert mismatches(body, VNPT_GET_CERTIFICATE.response) == []
    entries = body["data"]["user_certificates"]
    assert len(entries) == 2
    assert {e["transaction_id"] for e in entries} == {"SP_LIST_77"}  # echoed, as the sample
    for entry in entries:
        assert entry["serial_number"] == entry["serial_number"].lower()  # as every sample
    assert "Đang hoạt động" in {e["cert_status"] for e in entries}


def test_vnpt_3_2_serial_number_filter_compares_as_written(provider: ProviderFactory) -> None:
    sb = provider()
    serial = _vnpt_list(sb).json()["data"]["user_certificates"][0]["serial_number"]
    exact = _vnpt_list(sb, serial_number=serial).json()["data"]["user_certificates"]
    upper = _vnpt_list(sb, serial_number=serial.upper()).json()["data"]["user_certificates"]
    assert [e["serial_number"] for e in exact] == [serial]
    assert upper == []


def test_vnpt_3_2_transaction_id_is_required(provider: ProviderFactory) -> None:
    sb = provider()
    request = fill(
        VNPT_GET_CERTIFICATE.request,
        sp_id=VNPT_CLIENT["sp_id"],
        sp_password=VNPT_CLIENT["sp_password"],
        user_id=BETA_TAX,
    )
    del request["transaction_id"]
    answer = _post(sb, VNPT + VNPT_GET_CERTIFICATE.path, request)
    assert answer.status_code == 400 and answer.json()["message"] == VNPT_ERRORS[400]


@pytest.mark.parametrize("missing", ["user_id", "sp_id", "sp_password"])
@pytest.mark.parametrize("path", [VNPT_GET_CERTIFICATE.path, VNPT_SIGN.path])
def test_vnpt_3_1_a_missing_parameter_is_400_bad_request(
    provider: ProviderFactory, missing: str, path: str
) -> None:
    sb = provider()
    request = _vnpt_sign_request("SP_CA_2025_0400", "00") if path == VNPT_SIGN.path else None
    request = request or fill(
        VNPT_GET_CERTIFICATE.request,
        sp_id=VNPT_CLIENT["sp_id"],
        sp_password=VNPT_CLIENT["sp_password"],
        user_id=BETA_TAX,
        transaction_id="SP_LIST_400",
    )
    del request[missing]
    answer = _post(sb, VNPT + path, request)
    assert answer.status_code == 400, answer.text
    assert answer.json()["status_code"] == 400
    assert answer.json()["message"] == VNPT_ERRORS[400]


@pytest.mark.parametrize(
    "change",
    [{"user_id": "999999999999"}, {"sp_password": "guess"}],
    ids=["unknown-user-id", "wrong-sp-password"],
)
def test_vnpt_3_1_unknown_user_or_sp_is_401_sp_credential_invalid(
    provider: ProviderFactory, change: dict[str, str]
) -> None:
    sb = provider()
    answer = _vnpt_list(sb, **change)
    assert answer.status_code == 401
    assert answer.json()["status_code"] == 401
    assert answer.json()["message"] == VNPT_ERRORS[401]


def _active_serial(sb: Running) -> str:
    entries = _vnpt_list(sb).json()["data"]["user_certificates"]
    serial: str = next(e for e in entries if e["cert_status"] == "Đang hoạt động")["serial_number"]
    return serial


def _vnpt_sign_request(tid: str, serial: str) -> dict[str, Any]:
    request: dict[str, Any] = fill(
        VNPT_SIGN.request,
        sp_id=VNPT_CLIENT["sp_id"],
        sp_password=VNPT_CLIENT["sp_password"],
        user_id=BETA_TAX,
        transaction_id=tid,
        serial_number=serial,
        digest_hex_1=hashlib.sha256(b"first").hexdigest(),
        digest_hex_2=hashlib.sha256(b"second").hexdigest(),
    )
    return request


def test_vnpt_3_3_the_printed_sign_request_is_accepted(provider: ProviderFactory) -> None:
    sb = provider()
    request = _vnpt_sign_request("SP_CA_2025_0001", _active_serial(sb))
    answer = _post(sb, VNPT + VNPT_SIGN.path, request)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert mismatches(body, VNPT_SIGN.response) == []
    assert body["message"] == "sig_wait_for_user_confirm"
    assert body["data"]["transaction_id"] == "SP_CA_2025_0001"


def test_vnpt_3_3_serial_description_and_time_stamp_are_optional(
    provider: ProviderFactory,
) -> None:
    sb = provider()  # the signer's other certificate is INACTIVE: one usable
    request = _vnpt_sign_request("SP_CA_2025_0002", "")
    for key in ("serial_number", "transaction_desc", "time_stamp"):
        del request[key]
    answer = _post(sb, VNPT + VNPT_SIGN.path, request)
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"] == "sig_wait_for_user_confirm"


def test_vnpt_3_3_a_transaction_id_is_used_once(provider: ProviderFactory) -> None:
    sb = provider()
    serial = _active_serial(sb)
    first = _post(sb, VNPT + VNPT_SIGN.path, _vnpt_sign_request("SP_CA_SAME", serial))
    again = _post(sb, VNPT + VNPT_SIGN.path, _vnpt_sign_request("SP_CA_SAME", serial))
    assert first.status_code == 200
    assert again.status_code == 400 and again.json()["message"] == VNPT_ERRORS[400]
    assert len(sb.events("sign_request")) == 1


def test_vnpt_3_3_the_serial_is_compared_byte_for_byte(provider: ProviderFactory) -> None:
    sb = provider()
    upper = _active_serial(sb).upper()
    answer = _post(sb, VNPT + VNPT_SIGN.path, _vnpt_sign_request("SP_CA_UPPER", upper))
    assert answer.status_code == 403 and answer.json()["message"] == VNPT_ERRORS[403]
    assert sb.events("sign_request") == []


def test_vnpt_3_4_status_with_an_empty_body_answers_the_printed_object(
    provider: ProviderFactory,
) -> None:
    sb = provider()  # the phone waits for a person
    request = _vnpt_sign_request("SP_CA_2025_0003", _active_serial(sb))
    assert _post(sb, VNPT + VNPT_SIGN.path, request).status_code == 200
    url = VNPT + VNPT_STATUS.path.format(tranId="SP_CA_2025_0003")
    pending = _post(sb, url, VNPT_STATUS.request)  # {} : no sp credentials (VNPT-C#)
    assert pending.status_code == 200
    assert mismatches(pending.json(), VNPT_STATUS_PENDING) == []
    approved = httpx.post(
        f"{sb.url}/phone/api/{BETA_TAX}/SP_CA_2025_0003/approve",
        headers={"x-sandbox-token": CONTROL},
        json={},
    )
    assert approved.status_code == 200

    def done() -> Any:
        body = _post(sb, url, {}).json()
        return body if body["data"]["signatures"] is not None else None

    body = _poll(done)
    assert body["message"] == "SUCCESS"
    assert mismatches(body, VNPT_STATUS.response) == []
    assert [s["doc_id"] for s in body["data"]["signatures"]] == ["41b-5502-7731", "52c-6613-8842"]
    assert all(s["timestamp_signature"] is None for s in body["data"]["signatures"])
