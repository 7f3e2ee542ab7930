"""The MISA eSign RemoteSigning V2 wire: login (with two-factor), refresh, certificates,
sign by hash and status, and the result webhook (3.8) to an integrator that registered
one, as MISA's integration guide prints them."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import math
import time
import uuid
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.provider.common import Handler, b64, faulty, iso, json_body
from sandbox.provider.state import Account, Cert, Document, ProviderState, SigningTx

__all__ = ["MISA_AUTH_CODES", "MISA_AUTH_PREFIXES", "misa_routes"]

# ====================================================================== MISA
#
# Source: MISA's "Tài liệu tích hợp API eSign RemoteSigning - V2" (the guide). Section
# numbers in comments are the guide's. Where the guide is silent the comment says
# "the guide is silent; the sandbox's choice: ...".

#: The auth prefixes served: the guide's (1.3, 3.1.1, 3.2.1) and the one MISA's test host
#: serves (also printed by the guide itself for refresh, 3.1.2, and resend, 3.2.2).
MISA_AUTH_PREFIXES = ("/api/auth/api/v1/auth", "/webdev/api/auth/api/v1/auth")
_MISA_ESRM = "/external/esrm/service"
#: Error codes the sandbox answers on the MISA auth endpoints (``status.errorCode``, an
#: integer per guide 4.10). 122 (two-factor required) is the guide's (2.1); the others
#: are the sandbox's choice (the guide lists no other auth code).
MISA_AUTH_CODES = {
    101: "Sai tên đăng nhập hoặc mật khẩu",
    122: "Tài khoản yêu cầu xác thực hai lớp",
    123: "Mã xác thực không đúng hoặc đã hết hạn",
    124: "Tài khoản tạm khóa do đăng nhập sai nhiều lần",
    125: "Refresh token không hợp lệ",
}


def _misa_status(code: int | None = None, http: int = 200) -> dict[str, Any]:
    """The ``status`` object (guide 4.10): type string, code integer, error boolean.

    The guide names the values of ``type`` "success/ fail"; the sandbox writes those.
    """
    if code is None:
        return {
            "type": "success",
            "code": http,
            "message": "Success",
            "error": False,
            "errorCode": None,
            "devMsg": "Success",
            "userMsg": "Thành công",
        }
    msg = MISA_AUTH_CODES.get(code, "Error")
    return {
        "type": "fail",
        "code": http,
        "message": msg,
        "error": True,
        "errorCode": code,
        "devMsg": msg,
        "userMsg": msg,
    }


def _misa_auth_error(code: int, http: int = 400) -> JSONResponse:
    # the guide is silent on the HTTP status of a refused login; the sandbox's choice: 400
    # (401 for a refused refresh token), with the login object's shape and data null
    return JSONResponse({"status": _misa_status(code, http), "data": None}, status_code=http)


def _misa_error(http: int, error: str, code: str, msg: str) -> JSONResponse:
    """A ResponseError (guide 1.5, 4.13); the codes (e2001, e3003, ...) are the sandbox's."""
    return JSONResponse(
        {"error": error, "errorCode": code, "devMsg": msg, "userMsg": msg}, status_code=http
    )


def _ttl_seconds(ttl: float) -> int:
    # expiresIn is an integer ("kiểu long", 1.6); a sub-second test lifetime rounds up
    return max(1, math.ceil(ttl))


class _Misa:
    def __init__(self, state: ProviderState) -> None:
        self.s = state
        self._webhooks: set[asyncio.Task[None]] = set()

    def _account(self, name: Any) -> Account | None:
        acc = self.s.accounts.get(name) if isinstance(name, str) else None
        return acc if acc is not None and acc.config.provider == "misa" else None

    def _client_ok(self, cid: str, ckey: str) -> bool:
        return any(
            hmac.compare_digest(cid.encode(), c.client_id.encode())
            and hmac.compare_digest(ckey.encode(), c.client_key.encode())
            for c in self.s.config.clients.misa
        )

    def _tokens(self, acc: Account, *, early: bool) -> dict[str, str | int]:
        cfg = self.s.config
        ttl = cfg.token_ttl_seconds
        return {
            "accessToken": self.s.new_token(acc.name, "access", ttl),
            "remoteSigningAccessToken": self.s.new_token(acc.name, "rm", ttl, early=early),
            "tokenType": "Bearer",
            "expiresIn": _ttl_seconds(ttl),
            "refreshToken": self.s.new_token(acc.name, "refresh", cfg.refresh_ttl_seconds),
        }

    @staticmethod
    def _user(acc: Account) -> dict[str, Any]:
        # guide 4.12; the personal fields are the sandbox's inventions for a test account
        return {
            "id": acc.misa_user_id,
            "email": f"{acc.name}@sandbox.invalid",
            "phoneNumber": "0900000000",
            "firstName": "Tài khoản",
            "lastName": acc.name,
            "username": acc.name,
        }

    def _login_data(self, acc: Account, *, verify_user: bool) -> dict[str, Any]:
        """``data`` of a successful login (3.1.1) or two-factor (3.2.1, no verifyUser)."""
        data: dict[str, Any] = {
            **self._tokens(acc, early=self.s.faults.token_expires_early),
            "user": self._user(acc),
            "default": {"email": False, "phoneNumber": False, "appAuthenticator": True},
        }
        if verify_user:
            data["verifyUser"] = {
                "emailsVerify": False,
                "phoneNumberIsVerify": True,
                "isChangePassword": True,
            }
        return data

    def _wrong_secret(self, acc: Account | None, name: str, reason: str) -> JSONResponse:
        audit = self.s.audit
        if acc is None:
            audit.write("misa", "login_failed", user=name, reason=reason)
            return _misa_auth_error(123 if reason == "two_factor" else 101)
        acc.failures += 1
        if acc.failures >= self.s.config.lockout_after:
            acc.locked_until = time.monotonic() + self.s.config.lockout_seconds
            acc.failures = 0
            audit.write("misa", "locked", user=name, reason=reason)
            return _misa_auth_error(124)
        audit.write("misa", "login_failed", user=name, reason=reason, failures=acc.failures)
        return _misa_auth_error(123 if reason == "two_factor" else 101)

    async def login(self, request: Request) -> Response:
        """3.1.1 login-api: ``{userName, password}`` -> the eSign-login object (4.9)."""
        try:
            body = await json_body(request)
        except ValueError:
            return _misa_auth_error(101)
        if not isinstance(body, dict):
            return _misa_auth_error(101)
        name = body.get("userName")
        name_s = name if isinstance(name, str) else ""
        acc = self._account(name)
        if acc is not None and acc.locked_until > time.monotonic():
            self.s.audit.write("misa", "locked", user=name_s, reason="login while locked")
            return _misa_auth_error(124)
        password = body.get("password")
        if (
            acc is None
            or not isinstance(password, str)
            or not hmac.compare_digest(password.encode(), acc.config.password.encode())
        ):
            return self._wrong_secret(acc, name_s, "password")
        acc.failures = 0
        if acc.config.two_factor_code:
            acc.two_factor_pending = time.monotonic() + 300
            self.s.audit.write("misa", "two_factor", user=acc.name, step="challenge")
            # 2.1: errorCode 122 -> two-factor; the guide is silent on the rest of this
            # answer; the sandbox's choice: HTTP 200, data null
            return JSONResponse({"status": _misa_status(122, 200), "data": None})
        self.s.audit.write("misa", "login", user=acc.name, two_factor=False)
        return JSONResponse(
            {"status": _misa_status(), "data": self._login_data(acc, verify_user=True)}
        )

    async def two_factor(self, request: Request) -> Response:
        """3.2.1 two-factor-auth, with the ``clientId`` / ``clientKey`` headers it names."""
        if not self._client_ok(
            request.headers.get("clientid", ""), request.headers.get("clientkey", "")
        ):
            # the guide is silent on a missing or wrong pair; the sandbox's choice: 403
            # ResponseError, the one-time code not consumed
            return _misa_error(403, "InvalidClient", "e2003", "clientId / clientKey không hợp lệ")
        try:
            body = await json_body(request)
        except ValueError:
            return _misa_auth_error(123)
        if not isinstance(body, dict):
            return _misa_auth_error(123)
        name = body.get("userName")
        name_s = name if isinstance(name, str) else ""
        acc = self._account(name)
        if acc is not None and acc.locked_until > time.monotonic():
            return _misa_auth_error(124)
        code = body.get("code")
        if (
            acc is None
            or acc.two_factor_pending < time.monotonic()
            or body.get("otpType") not in (0, 1)
            or not isinstance(code, str)
            or not acc.config.two_factor_code
            or not hmac.compare_digest(code.encode(), acc.config.two_factor_code.encode())
        ):
            return self._wrong_secret(acc, name_s, "two_factor")
        acc.failures = 0
        acc.two_factor_pending = 0.0
        self.s.audit.write("misa", "two_factor", user=acc.name, step="verified")
        self.s.audit.write("misa", "login", user=acc.name, two_factor=True)
        return JSONResponse(
            {"status": _misa_status(), "data": self._login_data(acc, verify_user=False)}
        )

    async def resend_otp(self, request: Request) -> Response:
        """3.2.2 resend-otp-auth ``{userName, language}``: a new two-factor window."""
        try:
            body = await json_body(request)
        except ValueError:
            return _misa_auth_error(101)
        acc = self._account(body.get("userName") if isinstance(body, dict) else None)
        if acc is None or not acc.config.two_factor_code or acc.two_factor_pending == 0.0:
            # the guide is silent; the sandbox's choice: 101 unless a challenge is open
            return _misa_auth_error(101)
        acc.two_factor_pending = time.monotonic() + 300
        self.s.audit.write("misa", "two_factor", user=acc.name, step="resent")
        return JSONResponse({"status": _misa_status(), "data": {"user": {"username": acc.name}}})

    async def refresh(self, request: Request) -> Response:
        """3.1.2 refreshtoken ``{refreshToken}``: the flat token object of the guide's example."""
        try:
            body = await json_body(request)
        except ValueError:
            return _misa_auth_error(125, 401)
        value = body.get("refreshToken") if isinstance(body, dict) else None
        token = self.s.check_token(value, "refresh") if isinstance(value, str) else None
        if token is None or self.s.faults.refresh_fails:
            self.s.audit.write("misa", "token_refresh", ok=False)
            return _misa_auth_error(125, 401)
        self.s.tokens.pop(str(value), None)  # the guide is silent; the sandbox rotates them
        acc = self.s.accounts[token.user]
        self.s.audit.write("misa", "token_refresh", user=acc.name, ok=True)
        tokens = self._tokens(acc, early=False)
        return JSONResponse(
            {
                "remoteSigningAccessToken": tokens["remoteSigningAccessToken"],
                "accessToken": tokens["accessToken"],
                "refreshToken": tokens["refreshToken"],
                "expiresIn": tokens["expiresIn"],
            }
        )

    def _esrm_auth(self, request: Request) -> Account | JSONResponse:
        """1.4: ``x-clientId`` / ``x-clientKey`` and ``AuthorizationRM: Bearer <token>``."""
        cid = request.headers.get("x-clientid", "")
        ckey = request.headers.get("x-clientkey", "")
        if not self._client_ok(cid, ckey):
            return _misa_error(
                403, "InvalidClient", "e2003", "x-clientid / x-clientkey không hợp lệ"
            )
        header = request.headers.get("authorizationrm", "")
        scheme, _, value = header.partition(" ")
        token = self.s.check_token(value, "rm") if scheme.lower() == "bearer" else None
        if token is None:
            return _misa_error(401, "Unauthorized", "e2001", "Token không hợp lệ hoặc đã hết hạn")
        return self.s.accounts[token.user]

    def _cert_entry(self, acc: Account, c: Cert) -> dict[str, Any]:
        """A Cert (3.3.1, 4.14): every field the guide lists."""
        return {
            "userId": acc.misa_user_id,
            "keyAlias": c.alias,
            "appName": "MISA eSign",
            "keyStatus": c.key_status,
            "certificate": b64(c.der),
            # "certiticateChain" is the guide's own spelling: signer, MISA CA, root
            "certiticateChain": [b64(c.der), *(b64(x) for x in c.chain)],
            # 4.14 gives certStatus the values ACTIVE / INACTIVE; the guide is silent on
            # what sets it; the sandbox's choice: ACTIVE while the certificate is valid
            "certStatus": "ACTIVE" if c.valid_now() else "INACTIVE",
            "effectiveDate": iso(c.not_before),
            "expirationDate": iso(c.not_after),
            "emailName": f"{acc.name}@sandbox.invalid",
            "isAutoSign": False,
        }

    async def certificates(self, request: Request) -> Response:
        acc = self._esrm_auth(request)
        if isinstance(acc, Response):
            return acc
        self.s.audit.write("misa", "certificates", user=acc.name, count=len(acc.certs))
        return JSONResponse([self._cert_entry(acc, c) for c in acc.certs])

    async def certificate_by_id(self, request: Request) -> Response:
        """3.3.2 by-certId ``?certAlias=<keyAlias>``: one Cert object."""
        acc = self._esrm_auth(request)
        if isinstance(acc, Response):
            return acc
        alias = request.query_params.get("certAlias")
        cert = next((c for c in acc.certs if c.alias == alias), None)
        if cert is None:
            return _misa_error(404, "NotFound", "e3004", f"CertAlias {alias!r} not found")
        return JSONResponse(self._cert_entry(acc, cert))

    async def sign(self, request: Request) -> Response:
        acc = self._esrm_auth(request)
        if isinstance(acc, Response):
            return acc
        try:
            body = await json_body(request)
        except ValueError as exc:
            return _misa_error(400, "BadRequest", "e3000", str(exc))
        problem = _misa_sign_problem(body, acc)
        if problem:
            return _misa_error(400, "BadRequest", problem[0], problem[1])
        cert = next(c for c in acc.certs if c.alias == body["CertAlias"])
        if cert.key_status != "ACTIVE":
            return _misa_error(400, "CertificateInactive", "e3005", "Chứng thư số không hoạt động")
        if not cert.valid_now():
            return _misa_error(400, "CertificateExpired", "e3006", "Chứng thư số đã hết hạn")
        docs = [
            Document(d["DocumentId"], d["DocumentName"], base64.b64decode(d["FileToSign"]))
            for d in body["Documents"]
        ]
        tx = self.s.new_tx(
            tx_id=str(uuid.uuid4()),
            service="misa",
            account=acc,
            cert=cert,
            documents=docs,
            display_text=body["DataToBeDisplayed"],
            owner=request.headers.get("x-clientid", ""),
        )
        self.s.create_tx(tx)
        if self.s.lose_sign_response():
            self.s.audit.write("provider", "fault", fault="lost_sign_answer", transaction=tx.id)
            return _misa_error(502, "BadGateway", "502", "Bad gateway")
        return JSONResponse({"transactionId": tx.id})  # 3.5

    async def status(self, request: Request) -> Response:
        """3.6 status/{transactionId}: a Sign_status (4.16) with Signature entries (4.17)."""
        acc = self._esrm_auth(request)
        if isinstance(acc, Response):
            return acc
        tx = self.s.transactions.get(request.path_params["tx"])
        if tx is None or tx.account != acc.name or tx.service != "misa":
            return _misa_error(404, "NotFound", "e3404", "Không tìm thấy giao dịch")
        self.s.settle(tx)
        self.s.audit.write("misa", "status", user=acc.name, transaction=tx.id, state=tx.state)
        wire, code, desc = _misa_wire_status(tx)
        answer: dict[str, Any] = {
            "status": wire,
            "errorCode": code,
            "errorDescription": desc,
            "transactionId": tx.id,
            "signatures": _misa_signatures(tx),  # 3.6: signatures only when SUCCESS
        }
        return JSONResponse(answer)

    # ------------------------------------------------------------- 3.8 the result webhook

    def webhook_url(self, tx: SigningTx) -> str | None:
        """The webhook the integrator that created ``tx`` registered (1.2), if any."""
        return next(
            (c.webhook_url for c in self.s.config.clients.misa if c.client_id == tx.owner),
            None,
        )

    def on_resolved(self, tx: SigningTx) -> None:
        """3.8: an ended request of an integrator with a webhook is POSTed to it."""
        url = self.webhook_url(tx) if tx.service == "misa" else None
        if not url:
            return
        wire, code, _desc = _misa_wire_status(tx)
        body: dict[str, Any] = {
            "messageId": str(uuid.uuid4()),
            "clientId": tx.owner,
            "extraData": {},
            "status": wire,
            "errorCode": code,
            "transactionId": tx.id,
            # 3.8: "Chỉ trả về dữ liệu chữ ký signatures khi tất cả tài liệu được ký thành
            # công"; on any other outcome the guide is silent; the sandbox's choice: null.
            "signatures": _misa_signatures(tx),
        }
        task = asyncio.get_running_loop().create_task(self._post_webhook(url, tx, body))
        self._webhooks.add(task)
        task.add_done_callback(self._webhooks.discard)

    async def _post_webhook(self, url: str, tx: SigningTx, body: dict[str, Any]) -> None:
        # The guide is silent on retries and on the answer's use; the sandbox's choice: one
        # attempt, its HTTP status in the audit (never the body: it carries signatures).
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                answer = await client.post(url, json=body)
            outcome: dict[str, Any] = {"http": answer.status_code}
        except httpx.HTTPError as exc:
            outcome = {"error": type(exc).__name__}
        self.s.audit.write(
            "misa", "webhook", user=tx.account, transaction=tx.id, status=body["status"], **outcome
        )


def _misa_wire_status(tx: SigningTx) -> tuple[str, str | None, str | None]:
    """(status, errorCode, errorDescription) of 4.16 for ``tx``.

    4.16 lists PENDING, SUCCESS, FAILED; CANCELLED has been seen from MISA. The guide is
    silent on the error codes; the sandbox's choice (esign.MISA_FAILED_CODES).
    """
    return {
        "pending": ("PENDING", None, None),
        "approved": ("SUCCESS", None, None),
        "rejected": ("FAILED", "USER_REJECTED", "Người dùng từ chối ký"),
        "expired": ("FAILED", "TRANSACTION_EXPIRED", "Giao dịch đã hết hạn"),
        "failed": ("FAILED", tx.fail_code, "Ký số thất bại"),
        "cancelled": ("CANCELLED", None, "Giao dịch đã bị hủy"),
    }[tx.state]


def _misa_signatures(tx: SigningTx) -> list[dict[str, str]] | None:
    """In request order (3.6), each naming its document (4.17); None unless approved."""
    if tx.state != "approved":
        return None
    return [
        {"documentId": d.id, "signature": base64.b64encode(s).decode()}
        for d, s in zip(tx.documents, tx.signatures, strict=True)
    ]


def _misa_sign_problem(body: Any, acc: Account) -> tuple[str, str] | None:
    """What is wrong with a sign body (3.5, 4.4, 4.5), or None."""
    if not isinstance(body, dict):
        return ("e3000", "body must be a JSON object")
    text = body.get("DataToBeDisplayed")
    if not isinstance(text, str) or not text.strip():
        return ("e3001", "DataToBeDisplayed is required")
    if body.get("UserId") != acc.misa_user_id:
        return ("e3002", "UserId does not match the token")
    alias = body.get("CertAlias")
    if not any(c.alias == alias for c in acc.certs):
        return ("e3004", f"CertAlias {alias!r} not found for this user")
    docs = body.get("Documents")
    # the guide gives no batch limit; the sandbox's choice: 1 to 500 documents
    if not isinstance(docs, list) or not docs or len(docs) > 500:
        return ("e3003", "Documents must hold 1 to 500 entries")
    seen: set[str] = set()
    for n, doc in enumerate(docs):
        if not isinstance(doc, dict):
            return ("e3003", f"Documents[{n}] is not an object")
        doc_id, name, digest = doc.get("DocumentId"), doc.get("DocumentName"), doc.get("FileToSign")
        if not isinstance(doc_id, str) or not 0 < len(doc_id) <= 36 or doc_id in seen:
            return ("e3003", f"Documents[{n}].DocumentId: 1-36 characters, unique")
        seen.add(doc_id)
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            return ("e3003", f"Documents[{n}].DocumentName: 1-100 characters")
        try:
            raw = base64.b64decode(digest, validate=True) if isinstance(digest, str) else b""
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            return ("e3003", f"Documents[{n}].FileToSign: base64 of a 32-byte SHA-256 digest")
    return None


def misa_routes(state: ProviderState) -> list[BaseRoute]:
    """The MISA routes over ``state``: auth under both prefixes, then the signing service."""
    misa = _Misa(state)
    state.on_resolved.append(misa.on_resolved)

    def f(handler: Handler) -> Handler:
        return faulty(state, handler)

    auth_routes: list[BaseRoute] = [
        Route(f"{prefix}/{name}", f(handler), methods=["POST"])
        for prefix in MISA_AUTH_PREFIXES
        for name, handler in (
            ("login-api", misa.login),
            ("two-factor-auth", misa.two_factor),
            ("resend-otp-auth", misa.resend_otp),
            ("refreshtoken", misa.refresh),
        )
    ]
    return [
        *auth_routes,
        Route(
            f"{_MISA_ESRM}/general/api/v1/Certificates/by-userId",
            f(misa.certificates),
            methods=["GET"],
        ),
        Route(
            f"{_MISA_ESRM}/general/api/v1/Certificates/by-certId",
            f(misa.certificate_by_id),
            methods=["GET"],
        ),
        Route(f"{_MISA_ESRM}/signing/api/v1/Signing/hash", f(misa.sign), methods=["POST"]),
        Route(
            f"{_MISA_ESRM}/signing/api/v1/Signing/status/{{tx}}", f(misa.status), methods=["GET"]
        ),
    ]
