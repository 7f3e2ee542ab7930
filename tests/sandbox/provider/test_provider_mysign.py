"""The sandbox speaks Viettel MySign as the document prints it (raw HTTP, no esign client):
login, certificates/info, signHash, requests/status, the MySign app on the virtual phone,
and the callbacks of ``async`` = 3."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.serve import ServerThread
from tests.esign.esign_support import CONTROL, ProviderFactory, Running
from tests.esign.vendor_samples import (
    MYSIGN_CALLBACK_AUTH,
    MYSIGN_CALLBACK_RESULT,
    MYSIGN_CERTIFICATES,
    MYSIGN_LOGIN,
    MYSIGN_PATHS,
    MYSIGN_SIGN,
    MYSIGN_STATUS,
    mismatches,
)

USER = "MST_0202020202"
CLIENT = {"client_id": "sandbox_mysign_client", "client_secret": "sandbox-mysign-secret"}
PROFILE = "adss:ras:profile:001"
SHA256, RSA = MYSIGN_SIGN.request["hashAlgo"], MYSIGN_SIGN.request["signAlgo"]


def _account() -> dict[str, Any]:
    return {
        "user_id": USER,
        "provider": "mysign",
        "certificates": [
            {
                "pki_name": "sandbox-mysign-signer",
                "alias": "0202020202_2482540_20260101000000",
                "tax_code": "0202020202",
                "unit_name": "Công ty TNHH Biển Xanh",
                "ca": "mysign",
            }
        ],
    }


def _start(provider: ProviderFactory, client: dict[str, Any] | None = None) -> Running:
    from tests.esign.esign_support import base_config

    config = base_config()
    config["clients"]["mysign"] = [client or {**CLIENT, "profile_id": PROFILE}]
    config["accounts"].append(_account())
    return provider(**{k: v for k, v in config.items() if k != "control_token"})


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _login(api: httpx.Client) -> str:
    answer = api.post(
        MYSIGN_PATHS["login"], json={**CLIENT, "profile_id": PROFILE, "user_id": USER}
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _sign_body(n: int = 2, **change: Any) -> dict[str, Any]:
    digests = [hashlib.sha256(f"mysign{i}".encode()).digest() for i in range(n)]
    body: dict[str, Any] = {
        **CLIENT,
        "credentialID": "0202020202_2482540_20260101000000",
        "numSignatures": n,
        "description": _b64("BHXH điện tử: Biển Xanh | Mã yêu cầu: 1A2B3C4D"),
        "documents": [
            {"document_id": f"doc-{i}", "document_name": _b64(f"Tờ khai {i}.xml")} for i in range(n)
        ],
        "hash": [base64.b64encode(d).decode() for d in digests],
        "hashAlgo": SHA256,
        "signAlgo": RSA,
        "async": 1,
    }
    body.update(change)
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _act(sb: Running, tx: str, action: str, body: dict[str, Any] | None = None) -> None:
    httpx.post(
        f"{sb.url}/phone/api/{USER}/{tx}/{action}",
        json=body or {},
        headers={"x-sandbox-token": CONTROL},
    ).raise_for_status()


def test_login_answers_the_documented_token(provider: ProviderFactory) -> None:
    sb = _start(provider)
    with httpx.Client(base_url=sb.url) as api:
        answer = api.post(
            MYSIGN_PATHS["login"], json={**CLIENT, "profile_id": PROFILE, "user_id": USER}
        ).json()
    assert mismatches(answer, MYSIGN_LOGIN.response) == []
    assert answer["refresh_token"] == "" and answer["expires_in"] == "3600"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"client_id": "nobody"}, 400, "58007"),
        ({"user_id": "MST_0000000001"}, 400, "58008"),
        ({"profile_id": "adss:ras:profile:999"}, 401, "59033"),
        ({"client_secret": "wrong"}, 400, "86024"),
    ],
)
def test_login_errors_carry_the_documented_codes(
    provider: ProviderFactory, change: dict[str, str], status: int, code: str
) -> None:
    sb = _start(provider)
    body = {**CLIENT, "profile_id": PROFILE, "user_id": USER, **change}
    with httpx.Client(base_url=sb.url) as api:
        answer = api.post(MYSIGN_PATHS["login"], json=body)
    assert answer.status_code == status and answer.json()["error"] == code


def test_certificates_carry_the_chain_to_the_viettel_test_ca(provider: ProviderFactory) -> None:
    sb = _start(provider)
    with httpx.Client(base_url=sb.url) as api:
        token = _login(api)
        request = {**MYSIGN_CERTIFICATES.request, **CLIENT, "user_id": USER}
        answer = api.post(MYSIGN_PATHS["certificates"], json=request, headers=_bearer(token))
        unauthorised = api.post(MYSIGN_PATHS["certificates"], json=request)
    assert unauthorised.status_code == 401
    (entry,) = answer.json()
    sample = MYSIGN_CERTIFICATES.response[0]
    assert mismatches(entry, {**sample, "cert": {**sample["cert"], "certificates": ["x"]}}) == []
    chain = [base64.b64decode(c) for c in entry["cert"]["certificates"]]
    assert chain[1:] == sb.pki.chain_der("mysign")
    leaf = x509.load_der_x509_certificate(chain[0])
    assert "Viettel-CA" in leaf.issuer.rfc4514_string()
    assert entry["cert"]["serialNumber"] == str(leaf.serial_number)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"numSignatures": 3}, "numSignatures"),
        ({"description": _b64("Mô tả rất dài " * 8)}, "under 100"),
        ({"description": "không phải base64"}, "base64"),
        ({"hashAlgo": "1.3.14.3.2.26"}, "SHA-256"),
        ({"signAlgo": "1.2.840.10045.2.1"}, "RSA"),
        ({"async": "1"}, "async"),
        ({"hash": ["AAAA", "BBBB"]}, "32-byte"),
        ({"credentialID": "someone-else"}, "credentialID"),
    ],
)
def test_sign_requests_outside_the_document_are_refused(
    provider: ProviderFactory, change: dict[str, Any], words: str
) -> None:
    sb = _start(provider)
    with httpx.Client(base_url=sb.url) as api:
        token = _login(api)
        answer = api.post(MYSIGN_PATHS["sign"], json=_sign_body(**change), headers=_bearer(token))
    assert answer.status_code == 400 and words in answer.json()["error_description"]
    assert not sb.events("sign_request")


def test_a_request_is_waiting_then_signed_on_the_phone(provider: ProviderFactory) -> None:
    sb = _start(provider)
    body = _sign_body()
    with httpx.Client(base_url=sb.url) as api:
        token = _login(api)
        answer = api.post(MYSIGN_PATHS["sign"], json=body, headers=_bearer(token))
        assert mismatches(answer.json(), MYSIGN_SIGN.response) == []
        tx = answer.json()["transactionId"]
        status = {"transactionId": tx}
        waiting = api.post(MYSIGN_PATHS["status"], json=status, headers=_bearer(token)).json()
        page = api.get(f"/phone/{USER}").text
        _act(sb, tx, "approve")
        done = api.post(MYSIGN_PATHS["status"], json=status, headers=_bearer(token)).json()
    assert waiting == {"status": "4000", "signatures": None}
    # the MySign app shows the decoded description and every document's name
    assert "Mã yêu cầu: 1A2B3C4D" in page and "Tờ khai 0.xml" in page and "Tờ khai 1.xml" in page
    assert "MYSIGN" in page and "class=docid" not in page  # the app shows names, not our ids
    assert mismatches(done, fill_signature(MYSIGN_STATUS.response)) == []
    assert done["status"] == "1"
    key = x509.load_der_x509_certificate(sb.pki.get("sandbox-mysign-signer").der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    for digest, sig in zip(body["hash"], done["signatures"], strict=True):
        key.verify(
            base64.b64decode(sig),
            base64.b64decode(digest),
            padding.PKCS1v15(),
            Prehashed(hashes.SHA256()),
        )


def fill_signature(sample: dict[str, Any]) -> dict[str, Any]:
    return {**sample, "signatures": ["x"]}


@pytest.mark.parametrize(
    ("action", "body", "code"),
    [
        ("reject", None, "4002"),
        ("fail", {"fail_code": "4005"}, "4005"),
        ("fail", {"fail_code": "13004"}, "13004"),
        ("fail", {"fail_code": "SIGNING_FAILED"}, "4004"),
    ],
)
def test_outcomes_answer_their_status_codes(
    provider: ProviderFactory, action: str, body: dict[str, Any] | None, code: str
) -> None:
    sb = _start(provider)
    with httpx.Client(base_url=sb.url) as api:
        token = _login(api)
        tx = api.post(MYSIGN_PATHS["sign"], json=_sign_body(), headers=_bearer(token)).json()[
            "transactionId"
        ]
        _act(sb, tx, action, body)
        done = api.post(
            MYSIGN_PATHS["status"], json={"transactionId": tx}, headers=_bearer(token)
        ).json()
    assert done == {"status": code, "signatures": None}


class _Receiver:
    """The integrator's two callback endpoints (3.5), recording what Viettel sent."""

    def __init__(self, method: str = "GET") -> None:
        self.auth: list[dict[str, Any]] = []
        self.results: list[tuple[str, dict[str, Any]]] = []
        self.done = threading.Event()

        async def auth(request: Request) -> JSONResponse:
            self.auth.append(await request.json())
            return JSONResponse(MYSIGN_CALLBACK_AUTH.response)

        async def result(request: Request) -> JSONResponse:
            self.results.append((request.headers.get("authorization", ""), await request.json()))
            self.done.set()
            return JSONResponse(MYSIGN_CALLBACK_RESULT.response)

        app = Starlette(
            routes=[
                Route("/mysign/auth", auth, methods=[method]),
                Route("/mysign/result", result, methods=[method]),
            ]
        )
        self.server = ServerThread(app).start()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    got = _Receiver()
    yield got
    got.server.stop()


def test_async_3_calls_the_integrator_back_as_the_document_says(
    provider: ProviderFactory, receiver: _Receiver
) -> None:
    client = {
        **CLIENT,
        "profile_id": PROFILE,
        "callback_auth_url": f"{receiver.server.url}/mysign/auth",
        "callback_result_url": f"{receiver.server.url}/mysign/result",
        "callback_client_id": "ke_toan_callback",
        "callback_client_secret": "callback-secret-from-the-integrator",
    }
    sb = _start(provider, client)
    body = _sign_body(1, **{"async": 3})
    with httpx.Client(base_url=sb.url) as api:
        token = _login(api)
        tx = api.post(MYSIGN_PATHS["sign"], json=body, headers=_bearer(token)).json()[
            "transactionId"
        ]
    _act(sb, tx, "approve")
    assert receiver.done.wait(15)
    (auth,) = receiver.auth
    assert auth == {
        "grant_type": "client_credentials",
        "client_id": "ke_toan_callback",
        "client_secret": "callback-secret-from-the-integrator",
    }
    ((bearer, result),) = receiver.results
    assert bearer == f"Bearer {MYSIGN_CALLBACK_AUTH.response['data']['access_token']}"
    sample = MYSIGN_CALLBACK_RESULT.request
    assert mismatches(result, fill_result(sample)) == []
    assert result["meta_data"]["transaction_id"] == tx and result["meta_data"]["status"] == "1"
    assert [r["document_id"] for r in result["data"]["results"]] == ["doc-0"]
    assert _eventually(lambda: sb.events("callback"))


def _eventually(check: Callable[[], Any], limit: float = 15.0) -> Any:
    """``check()`` once it is truthy (bounded; not a timing assertion)."""
    end = time.monotonic() + limit
    while not (value := check()) and time.monotonic() < end:
        time.sleep(0.05)
    return value


def fill_result(sample: dict[str, Any]) -> dict[str, Any]:
    data = {**sample["data"], "results": [{"document_id": "x", "signature": "x"}]}
    return {**sample, "data": data}


def test_async_1_calls_nobody_back(provider: ProviderFactory, receiver: _Receiver) -> None:
    client = {
        **CLIENT,
        "profile_id": PROFILE,
        "callback_auth_url": f"{receiver.server.url}/mysign/auth",
        "callback_result_url": f"{receiver.server.url}/mysign/result",
    }
    sb = _start(provider, client)
    with httpx.Client(base_url=sb.url) as api:
        token = _login(api)
        tx = api.post(MYSIGN_PATHS["sign"], json=_sign_body(1), headers=_bearer(token)).json()[
            "transactionId"
        ]
    _act(sb, tx, "approve")
    assert not receiver.done.wait(1)
    assert receiver.auth == [] and not sb.events("callback")
