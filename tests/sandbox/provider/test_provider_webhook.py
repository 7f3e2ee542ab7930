"""The MISA sandbox posts the result webhook (guide 3.8) to an integrator that registered
one (1.2): when a request is approved, rejected or expires."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509 import load_der_x509_certificate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.serve import ServerThread
from tests.esign.esign_support import MISA_CLIENT, ProviderFactory, until

AUTH = "/webdev/api/auth/api/v1/auth"
SIGN = "/external/esrm/service/signing/api/v1/Signing/hash"
CERTS = "/external/esrm/service/general/api/v1/Certificates/by-userId"
#: The body the guide prints (3.8), field for field.
WEBHOOK_FIELDS = {
    "messageId",
    "clientId",
    "extraData",
    "status",
    "errorCode",
    "transactionId",
    "signatures",
}


@pytest.fixture
def collector() -> Any:
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        received.append(await request.json())
        return JSONResponse({"errorCode": "0", "devMsg": "OK", "userMsg": "OK"})

    server = ServerThread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])).start()
    yield server.url + "/hook", received
    server.stop()


def _request(sb_url: str, digests: list[bytes]) -> tuple[str, bytes]:
    with httpx.Client(base_url=sb_url) as api:
        data = api.post(f"{AUTH}/login-api", json={"userName": "acme", "password": "pw-acme"})
        login = data.json()["data"]
        headers = {
            "x-clientid": MISA_CLIENT["client_id"],
            "x-clientkey": MISA_CLIENT["client_key"],
            "AuthorizationRM": f"Bearer {login['remoteSigningAccessToken']}",
        }
        cert = next(
            c for c in api.get(CERTS, headers=headers).json() if c["keyAlias"] == "ACME-2025"
        )
        answer = api.post(
            SIGN,
            headers=headers,
            json={
                "DataToBeDisplayed": "Ký",
                "UserId": login["user"]["id"],
                "CertAlias": "ACME-2025",
                "Documents": [
                    {
                        "DocumentId": f"doc-{i}",
                        "FileToSign": base64.b64encode(d).decode(),
                        "DocumentName": f"Tờ khai {i}",
                    }
                    for i, d in enumerate(digests)
                ],
            },
        )
    tx: str = answer.json()["transactionId"]
    return tx, base64.b64decode(cert["certificate"])


def _clients(url: str) -> dict[str, Any]:
    return {"misa": [{**MISA_CLIENT, "webhook_url": url}], "vnpt": []}


async def test_an_approved_request_is_posted_with_its_signatures_in_order(
    provider: ProviderFactory, collector: Any
) -> None:
    url, received = collector
    sb = provider(
        clients=_clients(url), policies={"acme": {"action": "approve", "after_seconds": 0.1}}
    )
    digests = [hashlib.sha256(f"doc {i}".encode()).digest() for i in range(3)]
    tx, der = _request(sb.url, digests)
    await until(lambda: received)
    body = received[0]
    assert set(body) == WEBHOOK_FIELDS
    assert (body["clientId"], body["transactionId"], body["status"]) == (
        MISA_CLIENT["client_id"],
        tx,
        "SUCCESS",
    )
    assert [s["documentId"] for s in body["signatures"]] == ["doc-0", "doc-1", "doc-2"]
    key = load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    for digest, sig in zip(digests, body["signatures"], strict=True):
        signature = base64.b64decode(sig["signature"])
        key.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    await until(lambda: sb.events("webhook"))
    webhook = sb.events("webhook")[0]
    assert webhook["http"] == 200 and "signature" not in str(webhook)


async def test_a_rejected_request_is_posted_without_signatures(
    provider: ProviderFactory, collector: Any
) -> None:
    url, received = collector
    sb = provider(
        clients=_clients(url), policies={"acme": {"action": "reject", "after_seconds": 0.1}}
    )
    tx, _ = _request(sb.url, [hashlib.sha256(b"x").digest()])
    await until(lambda: received)
    assert (received[0]["transactionId"], received[0]["status"]) == (tx, "FAILED")
    assert received[0]["errorCode"] == "USER_REJECTED" and received[0]["signatures"] is None


async def test_an_expired_request_is_posted_too(provider: ProviderFactory, collector: Any) -> None:
    url, received = collector
    sb = provider(clients=_clients(url), signing_deadline_seconds=0.3)
    tx, _ = _request(sb.url, [hashlib.sha256(b"x").digest()])
    await until(lambda: received)
    assert (received[0]["transactionId"], received[0]["errorCode"]) == (tx, "TRANSACTION_EXPIRED")
