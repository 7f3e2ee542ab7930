"""A wire-faithful stand-in for the remote-signing providers, with a virtual phone.

One Starlette app serves both wire formats, as the vendor documents print them:

* MISA eSign RemoteSigning V2 ("Tài liệu tích hợp API eSign RemoteSigning - V2"): auth
  at the guide's ``/api/auth/api/v1/auth/...`` and at ``/webdev/api/auth/api/v1/auth/...``
  (MISA's test host), the signing service under ``/external/esrm/service/...``;
* VNPT SmartCA sp769 ("Tài liệu tích hợp VNPT SMARTCA", section 3) under
  ``/sca/sp769/v1/...``;
* the virtual phone at ``/phone/{user}`` (HTML for a person) and ``/phone/api/...`` (JSON,
  for tests and demos, guarded by the ``x-sandbox-token`` header);
* ``/health``. Every other path answers ``200 text/html``, as the real MISA web app does.

Signatures are real: RSA PKCS#1 v1.5 over the submitted SHA-256 digest with the key of
the account's certificate from the test PKI. This module must not import ``esign``.

Strict where the documents are strict (a VNPT serial compared as listed, a VNPT
transaction id used once, the types of every documented field), lenient where they say
optional. Where a document is silent, a comment says "the sandbox's choice".
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox.audit import AuditLog
from sandbox.pki import TestPKI
from sandbox.provider.config import ProviderConfig
from sandbox.provider.state import Document, ProviderState, _Account, _Cert

__all__ = ["create_provider_app"]


# ====================================================================== helpers

Handler = Callable[[Request], Awaitable[Response]]


async def _json_body(request: Request, limit: int = 4 * 1024 * 1024) -> Any:
    raw = await request.body()
    if len(raw) > limit:
        raise ValueError("request body too large")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValueError("request body is not JSON") from exc


def _faulty(state: ProviderState, handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        answer = await state.fault()
        if answer is not None:
            return answer
        return await handler(request)

    return wrapped


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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

    def _account(self, name: Any) -> _Account | None:
        acc = self.s.accounts.get(name) if isinstance(name, str) else None
        return acc if acc is not None and acc.config.provider == "misa" else None

    def _client_ok(self, cid: str, ckey: str) -> bool:
        return any(
            hmac.compare_digest(cid.encode(), c.client_id.encode())
            and hmac.compare_digest(ckey.encode(), c.client_key.encode())
            for c in self.s.config.clients.misa
        )

    def _tokens(self, acc: _Account, *, early: bool) -> dict[str, str | int]:
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
    def _user(acc: _Account) -> dict[str, Any]:
        # guide 4.12; the personal fields are the sandbox's inventions for a test account
        return {
            "id": acc.misa_user_id,
            "email": f"{acc.name}@sandbox.invalid",
            "phoneNumber": "0900000000",
            "firstName": "Tài khoản",
            "lastName": acc.name,
            "username": acc.name,
        }

    def _login_data(self, acc: _Account, *, verify_user: bool) -> dict[str, Any]:
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

    def _wrong_secret(self, acc: _Account | None, name: str, reason: str) -> JSONResponse:
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
            body = await _json_body(request)
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
            body = await _json_body(request)
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
            body = await _json_body(request)
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
            body = await _json_body(request)
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

    def _esrm_auth(self, request: Request) -> _Account | JSONResponse:
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

    def _cert_entry(self, acc: _Account, c: _Cert) -> dict[str, Any]:
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
            "effectiveDate": _iso(c.not_before),
            "expirationDate": _iso(c.not_after),
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
            body = await _json_body(request)
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
        # 4.16 lists PENDING, SUCCESS, FAILED; CANCELLED has been seen from MISA. The guide
        # is silent on the error codes; the sandbox's choice (esign.MISA_FAILED_CODES).
        wire, code, desc = {
            "pending": ("PENDING", None, None),
            "approved": ("SUCCESS", None, None),
            "rejected": ("FAILED", "USER_REJECTED", "Người dùng từ chối ký"),
            "expired": ("FAILED", "TRANSACTION_EXPIRED", "Giao dịch đã hết hạn"),
            "failed": ("FAILED", tx.fail_code, "Ký số thất bại"),
            "cancelled": ("CANCELLED", None, "Giao dịch đã bị hủy"),
        }[tx.state]
        answer: dict[str, Any] = {
            "status": wire,
            "errorCode": code,
            "errorDescription": desc,
            "transactionId": tx.id,
            "signatures": None,  # 3.6: signatures only when SUCCESS
        }
        if tx.state == "approved":
            # in request order (3.6), each naming its document (4.17)
            answer["signatures"] = [
                {"documentId": d.id, "signature": base64.b64encode(s).decode()}
                for d, s in zip(tx.documents, tx.signatures, strict=True)
            ]
        return JSONResponse(answer)


def _misa_sign_problem(body: Any, acc: _Account) -> tuple[str, str] | None:
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


# ====================================================================== VNPT
#
# Source: VNPT's "Tài liệu tích hợp VNPT SMARTCA" (section 3: sp769) and VNPT's C# / PHP
# samples (which post ``{}`` to the status call and poll until ``data.signatures`` is not
# null). Section numbers in comments are the document's.

#: 3.1: the error names of the document (500's spelling is the document's).
VNPT_ERRORS = {
    400: "BAD_REQUEST",
    401: "SP_CREDENTIAL_INVALID",
    403: "CREDENTIAL_STATUS_INVALID",
    500: "SERVAR_INTERNAL_ERROR",
}
#: cert_status of an ACTIVE certificate: the document's sample value. The document is
#: silent on other values; the sandbox's choice for an INACTIVE one: "Tạm dừng".
VNPT_CERT_STATUS = {"ACTIVE": "Đang hoạt động", "INACTIVE": "Tạm dừng"}
#: Status messages. SUCCESS is the document's (3.4); the document is silent on the
#: others; the sandbox's choice (what VNPT answers as observed: pending until the
#: signatures appear, EXPIRED, REJECTED; FAILED and CANCELLED for the other outcomes).
VNPT_STATUS_MESSAGES = {
    "pending": "PENDING",
    "approved": "SUCCESS",
    "rejected": "REJECTED",
    "expired": "EXPIRED",
    "failed": "FAILED",
    "cancelled": "CANCELLED",
}
_TIME_STAMP = re.compile(r"\d{14}Z?")  # 3.3 "YYYYMMddHHmmSS"; its own sample ends in Z


def _vnpt(status: int, message: str, data: Any = None) -> JSONResponse:
    return JSONResponse(
        {"status_code": status, "message": message, "data": data}, status_code=status
    )


def _vnpt_error(status: int, detail: str) -> JSONResponse:
    # 3.1 names the error in ``message``; the document is silent on where the detail
    # goes; the sandbox's choice: ``data.error_desc``
    return _vnpt(status, VNPT_ERRORS[status], {"error_desc": detail})


class _Vnpt:
    def __init__(self, state: ProviderState) -> None:
        self.s = state

    async def _auth(self, request: Request) -> tuple[dict[str, Any], _Account] | Response:
        """sp_id / sp_password / user_id of a get_certificate or sign body (3.2, 3.3)."""
        try:
            body = await _json_body(request)
        except ValueError as exc:
            return _vnpt_error(400, str(exc))
        if not isinstance(body, dict):
            return _vnpt_error(400, "body must be a JSON object")
        sp_id, sp_pw = body.get("sp_id"), body.get("sp_password")
        if (
            not isinstance(sp_id, str)
            or not isinstance(sp_pw, str)
            or not any(
                hmac.compare_digest(sp_id.encode(), c.sp_id.encode())
                and hmac.compare_digest(sp_pw.encode(), c.sp_password.encode())
                for c in self.s.config.clients.vnpt
            )
        ):
            self.s.audit.write("vnpt", "login_failed", sp_id=str(sp_id))
            return _vnpt_error(401, "sp_id / sp_password không hợp lệ")
        user = body.get("user_id")
        acc = self.s.accounts.get(user) if isinstance(user, str) else None
        if acc is None or acc.config.provider != "vnpt":
            # 3.1: 401 SP_CREDENTIAL_INVALID covers "the sp account or the user"
            self.s.audit.write("vnpt", "login_failed", sp_id=sp_id, reason="user_id")
            return _vnpt_error(401, "user_id không hợp lệ (không phải thuê bao)")
        return body, acc

    def _cert_entry(self, c: _Cert, transaction_id: str) -> dict[str, Any]:
        """A user_certificates entry of 3.2, every field of the sample."""
        return {
            "service_type": "SMARTCA",
            "service_name": "SMARTCA PERSONAL PRO",
            "cert_id": c.alias,
            "cert_status": VNPT_CERT_STATUS[c.key_status],
            "serial_number": c.vnpt_serial,
            "cert_subject": c.issued.certificate.subject.rfc4514_string(),
            "cert_valid_from": _iso(c.not_before),
            "cert_valid_to": _iso(c.not_after),
            "cert_data": b64(c.der),
            "chain_data": {"ca_cert": b64(c.chain[0]), "root_cert": b64(c.chain[1])},
            # the sample echoes the request's transaction_id in every entry
            "transaction_id": transaction_id,
        }

    async def get_certificate(self, request: Request) -> Response:
        """3.2 ``{sp_id, sp_password, user_id, serial_number?, transaction_id}``."""
        got = await self._auth(request)
        if isinstance(got, Response):
            return got
        body, acc = got
        tid = body.get("transaction_id")
        if not isinstance(tid, str) or not tid:
            return _vnpt_error(400, "transaction_id is required")
        serial = body.get("serial_number")
        if serial not in (None, "") and not isinstance(serial, str):
            return _vnpt_error(400, "serial_number must be a string")
        # the sample sends "" for "every certificate"; a serial is compared as written
        certs = [c for c in acc.certs if not serial or c.vnpt_serial == serial]
        self.s.audit.write("vnpt", "certificates", user=acc.name, count=len(certs))
        return _vnpt(
            200, "Success", {"user_certificates": [self._cert_entry(c, tid) for c in certs]}
        )

    def _certificate_for(self, acc: _Account, serial: Any) -> _Cert | Response:
        if serial in (None, ""):
            # 3.3: serial_number is optional, "when the subscriber has several
            # certificates". The document is silent on several without one; the sandbox's
            # choice: the only certificate, else the only ACTIVE valid one, else 400.
            if len(acc.certs) == 1:
                return acc.certs[0]
            usable = [c for c in acc.certs if c.key_status == "ACTIVE" and c.valid_now()]
            if len(usable) == 1:
                return usable[0]
            return _vnpt_error(400, "serial_number is required: several certificates")
        if not isinstance(serial, str):
            return _vnpt_error(400, "serial_number must be a string")
        cert = next((c for c in acc.certs if c.vnpt_serial == serial), None)
        if cert is None:
            # compared byte for byte with what get_certificate listed (lower-case hex)
            return _vnpt_error(403, f"serial_number {serial!r} không thuộc thuê bao")
        return cert

    async def sign(self, request: Request) -> Response:
        """3.3 ``{sp_id, sp_password, user_id, transaction_id, transaction_desc?,
        serial_number?, time_stamp?, sign_files}``."""
        got = await self._auth(request)
        if isinstance(got, Response):
            return got
        body, acc = got
        tid = body.get("transaction_id")
        if not isinstance(tid, str) or not tid:
            return _vnpt_error(400, "transaction_id is required")
        if tid in self.s.vnpt_ids:
            # 3.3: "yêu cầu là duy nhất" (must be unique)
            return _vnpt_error(400, f"transaction_id {tid!r} đã được sử dụng")
        text = body.get("transaction_desc")
        if text is not None and not isinstance(text, str):
            return _vnpt_error(400, "transaction_desc must be a string")
        stamp = body.get("time_stamp")
        if stamp is not None and (not isinstance(stamp, str) or not _TIME_STAMP.fullmatch(stamp)):
            return _vnpt_error(400, "time_stamp: YYYYMMddHHmmSS")
        docs = _vnpt_documents(body.get("sign_files"))
        if isinstance(docs, str):
            return _vnpt_error(400, docs)
        cert = self._certificate_for(acc, body.get("serial_number"))
        if isinstance(cert, Response):
            return cert
        if cert.key_status != "ACTIVE" or not cert.valid_now():
            return _vnpt_error(403, "Chứng thư số không hợp lệ")
        tx = self.s.new_tx(
            tx_id=tid,
            service="vnpt",
            account=acc,
            cert=cert,
            documents=docs,
            # the document is silent on a request without description; the sandbox's
            # choice: the phone shows the document ids only
            display_text=text or "",
            owner=str(body["sp_id"]),
        )
        tx.tran_code = str(uuid.uuid4())
        self.s.vnpt_ids[tid] = tx.id
        self.s.create_tx(tx)
        if self.s.lose_sign_response():
            self.s.audit.write("provider", "fault", fault="lost_sign_answer", transaction=tx.id)
            return JSONResponse({"error": "BadGateway", "errorCode": "502"}, status_code=502)
        return _vnpt(
            200, "sig_wait_for_user_confirm", {"transaction_id": tx.id, "tran_code": tx.tran_code}
        )

    async def status(self, request: Request) -> Response:
        """3.4 ``sign/{tranId}/status``: the transaction id in the path is all it needs.

        VNPT's samples post ``{}``; a body is read only to check it is JSON when present.
        """
        raw = await request.body()
        if raw.strip():
            try:
                json.loads(raw)
            except ValueError:
                return _vnpt_error(400, "request body is not JSON")
        tid = request.path_params["tx"]
        known = self.s.vnpt_ids.get(tid)
        if known is None:
            # the document is silent on an unknown id; the sandbox's choice: 400
            return _vnpt_error(400, f"transaction {tid!r} not found")
        tx = self.s.settle(self.s.transactions[known])
        self.s.audit.write("vnpt", "status", user=tx.account, transaction=tx.id, state=tx.state)
        data: dict[str, Any] = {"transaction_id": tx.id, "signatures": None}
        if tx.state == "approved":
            data["signatures"] = [
                {
                    "doc_id": d.id,
                    "signature_value": base64.b64encode(s).decode(),
                    # "the CA's signature over the time stamp"; null in the sample
                    "timestamp_signature": None,
                }
                for d, s in zip(tx.documents, tx.signatures, strict=True)
            ]
        elif tx.state == "failed":
            data["error_code"] = tx.fail_code
            data["error_desc"] = "Ký số thất bại"
        return _vnpt(200, VNPT_STATUS_MESSAGES[tx.state], data)


def _vnpt_documents(files: Any) -> list[Document] | str:
    """The sign_files of 3.3 (data_to_be_signed, doc_id, file_type, sign_type required)."""
    # the document gives no batch limit; the sandbox's choice: 1 to 500 files
    if not isinstance(files, list) or not files or len(files) > 500:
        return "sign_files must hold 1 to 500 entries"
    docs: list[Document] = []
    seen: set[str] = set()
    for n, f in enumerate(files):
        if not isinstance(f, dict):
            return f"sign_files[{n}] is not an object"
        doc_id = f.get("doc_id")
        # the document gives no length limit (a C# sample sends the 64-character digest);
        # the sandbox's choice: 1 to 256 characters, unique within the request
        if not isinstance(doc_id, str) or not 0 < len(doc_id) <= 256 or doc_id in seen:
            return f"sign_files[{n}].doc_id: 1-256 characters, unique"
        seen.add(doc_id)
        file_type = f.get("file_type")
        if not isinstance(file_type, str) or not file_type:
            return f"sign_files[{n}].file_type is required (xml/json/word/pdf/...)"
        if f.get("sign_type") != "hash":
            return f"sign_files[{n}].sign_type: SmartCA signs hashes only ('hash')"
        raw = f.get("data_to_be_signed")
        try:
            digest = bytes.fromhex(raw.strip()) if isinstance(raw, str) else b""
        except ValueError:
            digest = b""
        if len(digest) != 32:
            return f"sign_files[{n}].data_to_be_signed: hex of a 32-byte SHA-256 digest"
        docs.append(Document(doc_id, doc_id, digest))
    return docs


# ====================================================================== the app

_WEB_APP = (
    "<!doctype html><html lang=vi><head><meta charset=utf-8><title>MISA eSign</title></head>"
    "<body><div id=app>Đang tải…</div></body></html>"
)


async def _web_app(request: Request) -> Response:
    return HTMLResponse(_WEB_APP)


def create_provider_app(config: ProviderConfig, pki: TestPKI, audit: AuditLog) -> Starlette:
    """The provider sandbox as an ASGI app (both wire formats, the phone, /health)."""
    from sandbox.provider.phone import phone_routes  # the phone needs the state defined above

    state = ProviderState(config, pki, audit)
    misa = _Misa(state)
    vnpt = _Vnpt(state)

    def f(handler: Handler) -> Handler:
        return _faulty(state, handler)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "accounts": len(state.accounts)})

    auth_routes = [
        Route(f"{prefix}/{name}", f(handler), methods=["POST"])
        for prefix in MISA_AUTH_PREFIXES
        for name, handler in (
            ("login-api", misa.login),
            ("two-factor-auth", misa.two_factor),
            ("resend-otp-auth", misa.resend_otp),
            ("refreshtoken", misa.refresh),
        )
    ]
    routes = [
        Route("/health", health, methods=["GET"]),
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
        Route(
            "/sca/sp769/v1/credentials/get_certificate", f(vnpt.get_certificate), methods=["POST"]
        ),
        Route("/sca/sp769/v1/signatures/sign", f(vnpt.sign), methods=["POST"]),
        Route("/sca/sp769/v1/signatures/sign/{tx}/status", f(vnpt.status), methods=["POST"]),
        *phone_routes(state),
        Route("/{path:path}", _web_app, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    app = Starlette(routes=routes)
    app.state.provider = state
    return app
