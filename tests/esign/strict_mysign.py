"""A deliberately strict Viettel MySign server, written from the document alone.

Separate from ``sandbox/`` on purpose (no code shared): a second, strictest reading of the
"MySign Integration Document" (v1.8/v1.9; sections as in its public analysis):

* every body carries exactly the documented keys (3.1 login, 3.2 certificates/info, 3.3
  signHash, 3.4 requests/status), with the documented types (``certInfo`` / ``authInfo``
  booleans, ``numSignatures`` and ``async`` integers);
* ``description`` and each ``document_name`` are base64 of UTF-8, under 100 characters;
* ``numSignatures`` = hashes = documents; ``hashAlgo`` / ``signAlgo`` the SHA-256 / RSA OIDs;
* a token belongs to one signer, ``expires_in`` is a string and ``refresh_token`` empty;
* status answers 4000, then 6000, then ``{"signatures", "status": "1"}`` with the base64
  wrapped in CR/LF (as client code has met it), or the code a test chose.

Errors are ``{error, error_description}`` (Viettel's demo clients read these).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.esign.strict_server import StrictCert, make_material

SHA256 = "2.16.840.1.101.3.4.2.1"
RSA = "1.2.840.113549.1.1.1"
LOGIN_KEYS = {"client_id", "client_secret", "profile_id", "user_id"}
CERT_KEYS = LOGIN_KEYS | {"certificates", "certInfo", "authInfo"}
SIGN_KEYS = {
    "client_id",
    "client_secret",
    "credentialID",
    "numSignatures",
    "description",
    "documents",
    "hash",
    "hashAlgo",
    "signAlgo",
    "async",
}


@dataclass
class MySignTx:
    id: str
    cert: StrictCert
    digests: list[bytes]
    polls: int = 0


@dataclass
class MySignWorld:
    """The strict server's accounts, switches and what it saw."""

    ca_der: bytes
    certs: list[StrictCert]
    client_id: str = "strict_mysign_client"
    client_secret: str = "strict-mysign-secret-0123456789"
    profile_id: str = "adss:ras:profile:001"
    user_id: str = "MST_0318765432"
    #: The status code the transaction ends with ("1": signed).
    final_status: str = "1"
    #: Answer signHash with this error code instead of a transaction.
    sign_error: str | None = None
    lose_next_sign: bool = False
    tokens: set[str] = field(default_factory=set)
    transactions: dict[str, MySignTx] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    sign_bodies: list[dict[str, Any]] = field(default_factory=list)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def refuse(self, status: int, code: str, reason: str) -> JSONResponse:
        self.refused.append(f"{status} {code}: {reason}")
        return JSONResponse({"error": code, "error_description": reason}, status_code=status)


def _decoded_text(value: Any) -> str | None:
    if not isinstance(value, str) or not value or len(value) >= 100:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _wrapped(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def mysign_app(w: MySignWorld) -> Starlette:
    async def body_of(request: Request, keys: set[str]) -> dict[str, Any] | Response:
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return w.refuse(400, "invalid_request", "content-type must be application/json")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return w.refuse(400, "invalid_request", "not JSON")
        if not isinstance(body, dict) or set(body) != keys:
            got = sorted(body) if isinstance(body, dict) else type(body).__name__
            return w.refuse(400, "invalid_request", f"keys {got} != {sorted(keys)}")
        return body

    def client_ok(body: dict[str, Any]) -> Response | None:
        if body["client_id"] != w.client_id:
            return w.refuse(400, "58007", "Client ID does not exist")
        if body["client_secret"] != w.client_secret:
            return w.refuse(400, "86024", "Client secret is invalid")
        return None

    def bearer(request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or token not in w.tokens:
            return w.refuse(401, "invalid_token", "token expired or unknown")
        return None

    async def login(request: Request) -> Response:
        w.count("login")
        body = await body_of(request, LOGIN_KEYS)
        if isinstance(body, Response):
            return body
        if (bad := client_ok(body)) is not None:
            return bad
        if body["user_id"] != w.user_id:
            return w.refuse(400, "58008", "User ID does not exist")
        if body["profile_id"] != w.profile_id:
            return w.refuse(401, "59033", "user ID or password is invalid")
        token = secrets.token_urlsafe(24)
        w.tokens.add(token)
        return JSONResponse(
            {
                "access_token": token,
                "refresh_token": "",
                "token_type": "Bearer",
                "expires_in": "3600",
            }
        )

    async def certificates(request: Request) -> Response:
        w.count("certificates")
        if (bad := bearer(request)) is not None:
            return bad
        body = await body_of(request, CERT_KEYS)
        if isinstance(body, Response):
            return body
        if (bad := client_ok(body)) is not None:
            return bad
        if body["certificates"] != "chain" or body["certInfo"] is not True:
            return w.refuse(400, "invalid_request", "certificates: chain, certInfo: true")
        if body["authInfo"] is not True or body["user_id"] != w.user_id:
            return w.refuse(400, "invalid_request", "authInfo: true, the token's user_id")
        from cryptography import x509

        entries = []
        for n, cert in enumerate(w.certs):
            leaf = x509.load_der_x509_certificate(cert.der)
            entries.append(
                {
                    "description": "Go>Sign mobile based implicit credential authorization",
                    "key": {"status": "enabled", "algo": [RSA], "len": "2048", "curve": None},
                    "cert": {
                        "status": "valid" if n == 0 else "revoked",
                        "certificates": [
                            base64.b64encode(cert.der).decode(),
                            base64.b64encode(w.ca_der).decode(),
                        ],
                        "issuerDN": leaf.issuer.rfc4514_string(),
                        "serialNumber": str(leaf.serial_number),
                        "subjectDN": leaf.subject.rfc4514_string(),
                        "validFrom": leaf.not_valid_before_utc.strftime("%Y%m%d%H%M%S+0000"),
                        "validTo": leaf.not_valid_after_utc.strftime("%Y%m%d%H%M%S+0000"),
                    },
                    "authMode": "implicit",
                    "multisign": "2147483647",
                    "credential_id": cert.vnpt_id,
                    "scal": "2",
                }
            )
        return JSONResponse(entries)

    async def sign_hash(request: Request) -> Response:
        w.count("sign")
        if (bad := bearer(request)) is not None:
            return bad
        body = await body_of(request, SIGN_KEYS)
        if isinstance(body, Response):
            return body
        w.sign_bodies.append(body)
        if (bad := client_ok(body)) is not None:
            return bad
        if body["hashAlgo"] != SHA256 or body["signAlgo"] != RSA:
            return w.refuse(400, "invalid_request", "hashAlgo SHA-256, signAlgo RSA (OIDs)")
        if type(body["async"]) is not int or body["async"] not in (1, 2, 3):
            return w.refuse(400, "invalid_request", "async: 1, 2 or 3")
        if _decoded_text(body["description"]) is None:
            return w.refuse(400, "invalid_request", "description: base64 UTF-8 under 100")
        docs, digests = body["documents"], body["hash"]
        n = body["numSignatures"]
        if type(n) is not int or not isinstance(docs, list) or not isinstance(digests, list):
            return w.refuse(400, "invalid_request", "numSignatures, documents, hash")
        if not n == len(docs) == len(digests) or n == 0:
            return w.refuse(400, "invalid_request", "numSignatures = documents = hashes")
        raw: list[bytes] = []
        for doc, digest in zip(docs, digests, strict=True):
            if not isinstance(doc, dict) or set(doc) != {"document_id", "document_name"}:
                return w.refuse(400, "invalid_request", "documents: document_id, document_name")
            if not isinstance(doc["document_id"], str) or not doc["document_id"]:
                return w.refuse(400, "invalid_request", "document_id")
            if _decoded_text(doc["document_name"]) is None:
                return w.refuse(400, "invalid_request", "document_name: base64 UTF-8 under 100")
            try:
                value = base64.b64decode(digest, validate=True)
            except (binascii.Error, ValueError, TypeError):
                value = b""
            if len(value) != 32:
                return w.refuse(400, "invalid_request", "hash: base64 SHA-256")
            raw.append(value)
        cert = next((c for c in w.certs if c.vnpt_id == body["credentialID"]), None)
        if cert is None:
            return w.refuse(400, "invalid_request", "credentialID unknown")
        if w.sign_error is not None:
            return w.refuse(400, w.sign_error, "refused")
        tx = MySignTx(str(uuid.uuid4()), cert, raw)
        w.transactions[tx.id] = tx
        if w.lose_next_sign:
            w.lose_next_sign = False
            return JSONResponse({"error": "BadGateway"}, status_code=502)
        return JSONResponse({"transactionId": tx.id})

    async def status(request: Request) -> Response:
        w.count("status")
        if (bad := bearer(request)) is not None:
            return bad
        body = await body_of(request, {"transactionId"})
        if isinstance(body, Response):
            return body
        tx = w.transactions.get(body["transactionId"])
        if tx is None:
            return w.refuse(400, "invalid_request", "transactionId unknown")
        tx.polls += 1
        if tx.polls == 1:
            return JSONResponse({"signatures": None, "status": "4000"})
        if tx.polls == 2:
            return JSONResponse({"signatures": None, "status": 6000})
        if w.final_status != "1":
            return JSONResponse({"signatures": None, "status": w.final_status})
        sigs = [
            _wrapped(tx.cert.key.sign(d, padding.PKCS1v15(), Prehashed(hashes.SHA256())))
            for d in tx.digests
        ]
        return JSONResponse({"signatures": sigs, "status": "1"})

    base = "/vtss/service"
    return Starlette(
        routes=[
            Route(f"{base}/ras/v1/login", login, methods=["POST"]),
            Route(f"{base}/certificates/info", certificates, methods=["POST"]),
            Route(f"{base}/signHash", sign_hash, methods=["POST"]),
            Route(f"{base}/requests/status", status, methods=["POST"]),
        ]
    )


def mysign_world() -> MySignWorld:
    ca_der, certs = make_material()
    return MySignWorld(ca_der, certs)
