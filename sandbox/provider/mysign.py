"""The Viettel MySign wire: login, certificates/info, signHash, requests/status, and the
callbacks of ``async`` = 3, as Viettel's "MySign Integration Document" (v1.8/v1.9) prints
them (section numbers are those of the public analysis of the document).

Written from the document, not from the project's client (the sandbox never imports
``esign``). Strict where the document is: ``numSignatures`` equal to the number of hashes
and documents, ``description`` / ``document_name`` base64 of UTF-8 under 100 characters,
SHA-256 and RSA by their OIDs, a token per signer that dies after ``expires_in`` and is
never refreshed. Where the document is silent, a comment says "the sandbox's choice".

The MySign app on the virtual phone shows what the document says the app shows: the
request's description and every document's name (both decoded), and asks the signer to
confirm (Đồng ý, then the PIN) or reject.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import time
import uuid
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.provider.common import Handler, b64, faulty, json_body
from sandbox.provider.config import MySignClientConfig
from sandbox.provider.state import Account, Cert, Document, ProviderState, SigningTx

__all__ = ["MYSIGN_CODES", "MYSIGN_LOGIN_ERRORS", "mysign_routes"]

log = logging.getLogger("sandbox.mysign")

#: 3.3: "Only SHA256 hash converted to base64 is accepted"; RSA keys.
_SHA256 = "2.16.840.1.101.3.4.2.1"
_RSA = "1.2.840.113549.1.1.1"
#: 3.4: the status code of each state of a request.
MYSIGN_CODES = {
    "pending": "4000",
    "approved": "1",
    "expired": "4001",
    "rejected": "4002",
    "failed": "4004",
    "cancelled": "4002",  # the document has no "cancelled"; the sandbox's choice: rejected
}
#: Codes a failure may carry as they are (a phone policy's ``fail_code``): 3.4's.
_FAIL_CODES = {"4004", "4005", "13004", "50000"}
#: What the callback's ``meta_data.description`` says (the sample: "Ký thành công"); the
#: other words are the sandbox's choice.
_DESCRIPTIONS = {
    "1": "Ký thành công",
    "4001": "Hết thời gian xác nhận",
    "4002": "Người dùng từ chối",
    "4004": "Ký thất bại",
    "4005": "Hết lượt ký",
    "13004": "Chứng thư số hết hạn hoặc bị thu hồi",
    "50000": "Lỗi hệ thống",
}
#: 2.4: the login errors, with the document's words. The HTTP status of all but 59033
#: (401 in the document) is not printed; the sandbox's choice: 400.
MYSIGN_LOGIN_ERRORS = {
    "58007": (400, "Client ID does not exist"),
    "58008": (400, "User ID does not exist"),
    "59033": (401, "user ID or password is invalid"),
    "86024": (400, "Client secret is invalid"),
}
#: 3.3: "< 100 characters" once base64-encoded.
_MAX_B64 = 99


def _error(status: int, code: str, description: str) -> JSONResponse:
    # The document prints no error body; Viettel's demo clients read
    # ``{error, error_description}``: the sandbox's choice, the code in ``error``.
    return JSONResponse({"error": code, "error_description": description}, status_code=status)


def _bad(description: str) -> JSONResponse:
    # the document is silent on a malformed request; the sandbox's choice: 400
    return _error(400, "invalid_request", description)


def _text(value: Any, what: str) -> str | JSONResponse:
    """A base64 field of UTF-8 text under 100 characters (3.3), decoded."""
    if not isinstance(value, str) or not value:
        return _bad(f"{what} is required (base64 of UTF-8)")
    if len(value) > _MAX_B64:
        return _bad(f"{what}: base64 must be under 100 characters")
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return _bad(f"{what} is not base64 of UTF-8 text")


class _MySign:
    def __init__(self, state: ProviderState) -> None:
        self.s = state
        self.tasks: set[asyncio.Task[None]] = set()
        state.on_resolved.append(self._resolved)

    # ------------------------------------------------------------ credentials
    def _client(self, body: dict[str, Any]) -> MySignClientConfig | JSONResponse:
        cid, secret = body.get("client_id"), body.get("client_secret")
        if not isinstance(cid, str) or not cid or not isinstance(secret, str) or not secret:
            return _bad("client_id and client_secret are required")
        client = next((c for c in self.s.config.clients.mysign if c.client_id == cid), None)
        if client is None:
            status, words = MYSIGN_LOGIN_ERRORS["58007"]
            self.s.audit.write("mysign", "login_failed", client=cid, code="58007")
            return _error(status, "58007", words)
        if not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
            status, words = MYSIGN_LOGIN_ERRORS["86024"]
            self.s.audit.write("mysign", "login_failed", client=cid, code="86024")
            return _error(status, "86024", words)
        return client

    def _user(self, body: dict[str, Any], client: MySignClientConfig) -> Account | JSONResponse:
        user, profile = body.get("user_id"), body.get("profile_id")
        if not isinstance(user, str) or not user or not isinstance(profile, str):
            return _bad("user_id and profile_id are required")
        acc = self.s.accounts.get(user)
        if acc is None or acc.config.provider != "mysign":
            status, words = MYSIGN_LOGIN_ERRORS["58008"]
            self.s.audit.write("mysign", "login_failed", client=client.client_id, code="58008")
            return _error(status, "58008", words)
        if profile != client.profile_id:
            # the sandbox's choice: a profile the client does not hold is refused as 59033
            status, words = MYSIGN_LOGIN_ERRORS["59033"]
            self.s.audit.write("mysign", "login_failed", client=client.client_id, code="59033")
            return _error(status, "59033", words)
        return acc

    def _bearer(self, request: Request) -> Account | JSONResponse:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = self.s.check_token(value.strip(), "mysign") if scheme == "Bearer" else None
        if token is None:
            # an expired or unknown token: the sandbox's choice, 401 as for a bad login
            return _error(401, "invalid_token", "The access token is invalid or has expired")
        return self.s.accounts[token.user]

    async def _body(self, request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = await json_body(request)
        except ValueError as exc:
            return _bad(str(exc))
        return body if isinstance(body, dict) else _bad("body must be a JSON object")

    # ------------------------------------------------------------ 3.1 login
    async def login(self, request: Request) -> Response:
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        client = self._client(body)
        if isinstance(client, Response):
            return client
        acc = self._user(body, client)
        if isinstance(acc, Response):
            return acc
        ttl = self.s.config.token_ttl_seconds
        token = self.s.new_token(acc.name, "mysign", ttl)
        self.s.audit.write("mysign", "login", user=acc.name, client=client.client_id)
        # 3.1: refresh_token is always empty; expires_in is a string
        return JSONResponse(
            {
                "access_token": token,
                "refresh_token": "",
                "token_type": "Bearer",
                "expires_in": str(int(ttl)),
            }
        )

    # ------------------------------------------------------------ 3.2 certificates
    def _entry(self, c: Cert) -> dict[str, Any]:
        issued = c.issued.certificate
        # "valid" is the sample's; the other words are the sandbox's choice
        if c.issued.variant == "revoked":
            status = "revoked"
        elif c.key_status != "ACTIVE":
            status = "disabled"
        elif not c.valid_now():
            status = "expired"
        else:
            status = "valid"
        return {
            "description": "Go>Sign mobile based implicit credential authorization",
            "key": {"status": "enabled", "algo": [_RSA], "len": "2048", "curve": None},
            "cert": {
                "status": status,
                "certificates": [b64(c.der), *(b64(d) for d in c.chain)],
                "issuerDN": issued.issuer.rfc4514_string(),
                "serialNumber": str(issued.serial_number),  # the sample: decimal digits
                "subjectDN": issued.subject.rfc4514_string(),
                "validFrom": c.not_before.strftime("%Y%m%d%H%M%S+0000"),
                "validTo": c.not_after.strftime("%Y%m%d%H%M%S+0000"),
            },
            "authMode": "implicit",
            "multisign": "2147483647",
            "credential_id": c.alias,
            "scal": "2",
        }

    async def certificates(self, request: Request) -> Response:
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        acc = self._bearer(request)
        if isinstance(acc, Response):
            return acc
        client = self._client(body)
        if isinstance(client, Response):
            return client
        named = self._user(body, client)
        if isinstance(named, Response):
            return named
        if named.name != acc.name:
            return _error(401, "59033", MYSIGN_LOGIN_ERRORS["59033"][1])
        if body.get("certificates") not in ("chain", "single", "none"):
            return _bad("certificates: chain, single or none")
        self.s.audit.write("mysign", "certificates", user=acc.name, count=len(acc.certs))
        return JSONResponse([self._entry(c) for c in acc.certs])

    # ------------------------------------------------------------ 3.3 signHash
    async def sign_hash(self, request: Request) -> Response:
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        acc = self._bearer(request)
        if isinstance(acc, Response):
            return acc
        client = self._client(body)
        if isinstance(client, Response):
            return client
        parsed = _sign_fields(body)
        if isinstance(parsed, Response):
            return parsed
        description, docs, mode = parsed
        cert = next((c for c in acc.certs if c.alias == body.get("credentialID")), None)
        if cert is None:
            return _bad(f"credentialID {body.get('credentialID')!r} is not the user's")
        if cert.key_status != "ACTIVE" or not cert.valid_now() or cert.issued.variant == "revoked":
            return _error(400, "13004", "Certificate is expired or revoked")
        tx = self.s.new_tx(
            tx_id=str(uuid.uuid4()),
            service="mysign",
            account=acc,
            cert=cert,
            documents=docs,
            display_text=description,
            owner=client.client_id,
        )
        tx.callback = mode == 3
        self.s.create_tx(tx)
        if self.s.lose_sign_response():
            self.s.audit.write("provider", "fault", fault="lost_sign_answer", transaction=tx.id)
            return JSONResponse({"error": "BadGateway", "errorCode": "502"}, status_code=502)
        if mode == 0:
            return await self._wait_sync(tx)
        return JSONResponse({"transactionId": tx.id})

    async def _wait_sync(self, tx: SigningTx) -> Response:
        """``async`` = 0: the call waits for the signer (3.3) and answers the signatures."""
        while self.s.settle(tx).state == "pending":  # noqa: ASYNC110 (the state has no event)
            await asyncio.sleep(0.1)
        if tx.state == "approved":
            return JSONResponse({"signatures": [b64(s) for s in tx.signatures]})
        code = _code_of(tx)
        return _error(400, code, _DESCRIPTIONS.get(code, "Ký thất bại"))

    # ------------------------------------------------------------ 3.4 status
    async def status(self, request: Request) -> Response:
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        acc = self._bearer(request)
        if isinstance(acc, Response):
            return acc
        tid = body.get("transactionId")
        tx = self.s.transactions.get(tid) if isinstance(tid, str) else None
        if tx is None or tx.service != "mysign" or tx.account != acc.name:
            # the document is silent on an unknown id; the sandbox's choice: 400
            return _bad(f"transactionId {tid!r} not found")
        self.s.settle(tx)
        code = _code_of(tx)
        self.s.audit.write("mysign", "status", user=tx.account, transaction=tx.id, state=tx.state)
        answer: dict[str, Any] = {"status": code, "signatures": None}
        if tx.state == "approved":
            answer["signatures"] = [b64(s) for s in tx.signatures]
        return JSONResponse(answer)

    # ------------------------------------------------------------ 3.5 callbacks
    def _resolved(self, tx: SigningTx) -> None:
        if tx.service != "mysign" or not tx.callback:
            return
        task = asyncio.get_running_loop().create_task(self.call_back(tx))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def call_back(self, tx: SigningTx) -> None:
        """Tell the integrator the outcome: its auth call, then its result call (3.5)."""
        client = next((c for c in self.s.config.clients.mysign if c.client_id == tx.owner), None)
        if client is None or not client.callback_auth_url or not client.callback_result_url:
            self.s.audit.write("mysign", "callback_skipped", transaction=tx.id)
            return
        code = _code_of(tx)
        now = int(time.time())
        result = {
            "meta_data": {
                "request_id": f"VIETTEL_{tx.id}_{int(time.time() * 1000)}",
                "transaction_id": tx.id,
                "description": _DESCRIPTIONS.get(code, ""),
                "status": code,
            },
            "data": {
                "action_timestamp": now,
                "signature_timestamp": now,
                "results": [
                    {"document_id": d.id, "signature": b64(s)}
                    for d, s in zip(tx.documents, tx.signatures, strict=False)
                ],
            },
        }
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                auth = await http.request(
                    client.callback_method,
                    client.callback_auth_url,
                    json={
                        "grant_type": "client_credentials",
                        "client_id": client.callback_client_id,
                        "client_secret": client.callback_client_secret,
                    },
                )
                data = auth.json() if auth.status_code == 200 else {}
                token = (data.get("data") or {}).get("access_token") if data else None
                if data.get("status_code") != "00" or not isinstance(token, str):
                    self.s.audit.write(
                        "mysign",
                        "callback_refused",
                        transaction=tx.id,
                        step="auth",
                        http=auth.status_code,
                    )
                    return
                answer = await http.request(
                    client.callback_method,
                    client.callback_result_url,
                    json=result,
                    headers={"Authorization": f"Bearer {token}"},
                )
                ok = answer.status_code == 200 and answer.json().get("status_code") == "00"
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            self.s.audit.write("mysign", "callback_failed", transaction=tx.id, error=str(exc))
            return
        self.s.audit.write(
            "mysign",
            "callback" if ok else "callback_refused",
            transaction=tx.id,
            status=code,
            step="result",
        )


def _code_of(tx: SigningTx) -> str:
    if tx.state == "failed" and tx.fail_code in _FAIL_CODES:
        return tx.fail_code or "4004"
    return MYSIGN_CODES[tx.state]


def _sign_fields(body: dict[str, Any]) -> tuple[str, list[Document], int] | JSONResponse:
    """The fields of 3.3: (description, documents with their digests, async mode)."""
    if not isinstance(body.get("credentialID"), str) or not body["credentialID"]:
        return _bad("credentialID is required")
    if body.get("hashAlgo") != _SHA256:
        return _bad(f"hashAlgo: only SHA-256 ({_SHA256}) is accepted")
    if body.get("signAlgo") != _RSA:
        return _bad(f"signAlgo: {_RSA} (RSA)")
    mode = body.get("async")
    if not isinstance(mode, int) or isinstance(mode, bool) or mode not in (0, 1, 2, 3):
        return _bad("async: 0, 1, 2 or 3")
    description = _text(body.get("description"), "description")
    if isinstance(description, Response):
        return description
    hashes, documents, count = body.get("hash"), body.get("documents"), body.get("numSignatures")
    # the document gives no batch limit; the sandbox's choice: 1 to 500 hashes
    if (
        not isinstance(hashes, list)
        or not isinstance(documents, list)
        or not 0 < len(hashes) <= 500
    ):
        return _bad("hash and documents: arrays of 1 to 500 entries")
    if (
        not isinstance(count, int)
        or isinstance(count, bool)
        or not (count == len(hashes) == len(documents))
    ):
        return _bad("numSignatures must equal the number of hashes and of documents")
    docs: list[Document] = []
    seen: set[str] = set()
    for n, (digest_b64, doc) in enumerate(zip(hashes, documents, strict=True)):
        if not isinstance(doc, dict):
            return _bad(f"documents[{n}] is not an object")
        doc_id = doc.get("document_id")
        # the document gives no length; the sandbox's choice: 1 to 256 characters, unique
        if not isinstance(doc_id, str) or not 0 < len(doc_id) <= 256 or doc_id in seen:
            return _bad(f"documents[{n}].document_id: 1-256 characters, unique")
        seen.add(doc_id)
        name = _text(doc.get("document_name"), f"documents[{n}].document_name")
        if isinstance(name, Response):
            return name
        try:
            digest = (
                base64.b64decode(digest_b64, validate=True) if isinstance(digest_b64, str) else b""
            )
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 32:
            return _bad(f"hash[{n}]: base64 of a 32-byte SHA-256 digest")
        docs.append(Document(doc_id, name, digest))
    return description, docs, mode


def mysign_routes(state: ProviderState) -> list[BaseRoute]:
    """The MySign routes over ``state`` (under ``/vtss/service/``)."""
    mysign = _MySign(state)

    def f(handler: Handler) -> Handler:
        return faulty(state, handler)

    return [
        Route("/vtss/service/ras/v1/login", f(mysign.login), methods=["POST"]),
        Route("/vtss/service/certificates/info", f(mysign.certificates), methods=["POST"]),
        Route("/vtss/service/signHash", f(mysign.sign_hash), methods=["POST"]),
        Route("/vtss/service/requests/status", f(mysign.status), methods=["POST"]),
    ]
