"""Viettel MySign client (Viettel-CA remote signing, "MySign Integration Document" v1.8/v1.9).

Four calls, all ``POST`` JSON under ``/vtss/service/`` (section numbers in comments are
those of the public analysis of the document, which follows its order):

* 3.1 ``ras/v1/login`` ``{client_id, client_secret, profile_id, user_id}`` ->
  ``{access_token, refresh_token: "", token_type, expires_in: "3600"}``: one token per
  signer, no refresh (the document's ``refresh_token`` is always empty): when it expires
  the client logs in again.
* 3.2 ``certificates/info`` (Bearer) ``{client_id, client_secret, profile_id, user_id,
  certificates: "chain", certInfo: true, authInfo: true}`` -> a JSON array of
  ``{credential_id, cert: {status, certificates[signer, CA, root], issuerDN, serialNumber,
  subjectDN, validFrom, validTo}, key, authMode, multisign, scal, description}``.
* 3.3 ``signHash`` (Bearer) ``{client_id, client_secret, credentialID, numSignatures,
  description, documents[{document_id, document_name}], hash[], hashAlgo, signAlgo,
  async}`` -> ``{transactionId}`` (``async`` 1, 2 or 3).
* 3.4 ``requests/status`` (Bearer) ``{transactionId}`` -> ``{status, signatures[]}``.

Where public client code departs from the document, the document wins: the base is
``https://remotesigning.viettel.vn`` on port 443 (one Python client uses port 8773), and
there is no ``ras/v1/authenticate`` call before login (the same client posts one; the
document's flow logs in directly).

``description`` and ``document_name`` travel as base64 of UTF-8 and must stay under 100
characters once encoded (3.3), so at most 72 bytes of UTF-8 (base64 grows by 4/3 in
blocks of 4). The document is silent on how to shorten; our choice
(:func:`phone_text`, :func:`document_label`): the display text loses its HTML, its lines
are kept from the last one backwards while they fit (the request's reference, "Mã yêu
cầu", and any void notice are last in the project's texts), then the first line (the
unit) fills what is left, cut with "…"; a document name is cut in the middle with "…",
keeping its start and its end (the file name's extension).

A sign request cannot be found again by anything of ours: ``transactionId`` comes only in
the sign answer (3.3), the status call takes nothing else (3.4), and no call lists a
user's requests. The callback (``async=3``, 3.5) carries our ``document_id`` values, but
only after the signer acted and only to the integrator's registered URL. So this client
does not implement ``esign.base.FindsRequests``: after a crash in the send window the
flows call the request void, as for MISA.

The error body is not printed in the document; Viettel's own demo clients (Java, C#)
read ``{error, error_description}``, and so does this client (the code from ``error``,
or ``code`` / ``error_code`` when present).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import html
import logging
import re
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from esign._http import KEEPALIVE_EXPIRY, HttpCore, RetryPolicy, parse_json
from esign._verify import verify_signatures
from esign.base import OtpCallback, SigningClientBase
from esign.errors import (
    AuthenticationFailed,
    CertificateNotFound,
    InvalidResponse,
    ProviderError,
    SigningBlocked,
)
from esign.models import Certificate, SignItem, Transaction, TxStatus, certificate_from_der

__all__ = [
    "MYSIGN_LOGIN_ERRORS",
    "MYSIGN_STATUS",
    "OID_RSA",
    "OID_SHA256",
    "MySignStatus",
    "ViettelMySignClient",
    "document_label",
    "phone_text",
]

log = logging.getLogger("esign.mysign")

_LOGIN = "vtss/service/ras/v1/login"
_CERTS = "vtss/service/certificates/info"
_SIGN = "vtss/service/signHash"
_STATUS = "vtss/service/requests/status"
#: 3.3: "Only SHA256 hash converted to base64 is accepted"; RSA keys.
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_RSA = "1.2.840.113549.1.1.1"
#: 3.3: ``document_name`` and ``description`` as base64 under 100 characters: 72 bytes.
MAX_TEXT_BYTES = 72
#: ``cert.status`` of a usable certificate (3.2 sample; Viettel's demo keeps only these).
_VALID = {"valid"}


@dataclass(frozen=True)
class MySignStatus:
    """What a ``requests/status`` code means: the outcome, whether asking the signer again
    can help, and the sentence for the accountant (Vietnamese, then English)."""

    status: TxStatus
    vi: str
    en: str
    ask_again: bool = True


#: 3.4, every code the document lists. 4005 and 13004 end the unit: a new request would
#: meet the same refusal until a person acts (buys signing quota, renews the certificate).
MYSIGN_STATUS: dict[str, MySignStatus] = {
    "1": MySignStatus(TxStatus.SUCCEEDED, "Đã ký xong", "signed"),
    "4000": MySignStatus(
        TxStatus.PENDING, "Đang chờ người ký xác nhận trên ứng dụng MySign", "waiting"
    ),
    "6000": MySignStatus(
        TxStatus.PENDING, "Người ký đã xác nhận, MySign đang ký", "confirmed, signing"
    ),
    "4001": MySignStatus(
        TxStatus.EXPIRED,
        "Người ký không xác nhận trên ứng dụng MySign trong thời gian cho phép",
        "the signer did not confirm in the MySign app in time",
    ),
    "4002": MySignStatus(
        TxStatus.REJECTED,
        "Người ký đã từ chối yêu cầu trên ứng dụng MySign",
        "the signer rejected the request in the MySign app",
    ),
    "4004": MySignStatus(
        TxStatus.FAILED,
        "MySign ký không thành công; có thể gửi lại yêu cầu",
        "MySign could not sign; the request can be sent again",
    ),
    "4005": MySignStatus(
        TxStatus.FAILED,
        "Tài khoản MySign của người ký đã hết lượt ký: mua thêm lượt ký với Viettel-CA rồi "
        "chạy lại",
        "the signer's MySign account is out of signing quota: buy more from Viettel-CA, "
        "then run again",
        ask_again=False,
    ),
    "13004": MySignStatus(
        TxStatus.FAILED,
        "Chứng thư số MySign đã hết hạn hoặc bị thu hồi: gia hạn chứng thư với Viettel-CA "
        "rồi chạy lại setup_remote_signing",
        "the MySign certificate has expired or been revoked: renew it with Viettel-CA, "
        "then run setup_remote_signing again",
        ask_again=False,
    ),
    "50000": MySignStatus(
        TxStatus.FAILED,
        "Hệ thống MySign báo lỗi nội bộ; có thể gửi lại yêu cầu",
        "MySign reported an internal error; the request can be sent again",
    ),
}

#: The login errors the document lists (2.4), each with its sentence for the accountant.
MYSIGN_LOGIN_ERRORS: dict[str, tuple[str, str]] = {
    "58007": (
        "Mã ứng dụng tích hợp (client_id) không tồn tại ở MySign: kiểm tra khối thông tin "
        "đăng nhập",
        "the integrator's client id does not exist at MySign",
    ),
    "58008": (
        "Tài khoản người ký (user_id) không tồn tại ở MySign hoặc chưa được kích hoạt",
        "the signer's user id does not exist at MySign (or is not activated)",
    ),
    "59033": (
        "MySign từ chối tài khoản người ký hoặc mật khẩu: kiểm tra user_id và thông tin đăng nhập",
        "MySign refused the signer's user id or password",
    ),
    "86024": (
        "Mã bí mật của ứng dụng tích hợp (client_secret) không đúng: kiểm tra khối thông "
        "tin đăng nhập",
        "the integrator's client secret is wrong",
    ),
}

_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|p|/li|li)\b[^>]*>", re.IGNORECASE)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(text: str, budget: int) -> str:
    """``text`` cut at a character boundary to at most ``budget`` UTF-8 bytes, "…" ending it."""
    if _utf8_len(text) <= budget:
        return text
    if budget < _utf8_len("…"):
        return ""
    out = text
    while out and _utf8_len(out) + _utf8_len("…") > budget:
        out = out[:-1]
    return out.rstrip() + "…"


def phone_text(display_text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """What MySign shows as the request's description: plain text in ``limit`` bytes.

    Our choice (the document only sets the size): HTML tags dropped, one line per
    ``<br>`` / paragraph, lines joined by " | "; kept from the last line backwards while
    they fit, then the first line fills the rest, cut with "…".

    Example:
        >>> phone_text("<b>BHXH</b>: Công ty An Phát<br>Mã yêu cầu: AB12")
        'BHXH: Công ty An Phát | Mã yêu cầu: AB12'
    """
    text = html.unescape(_TAG.sub("", _BREAK.sub("\n", display_text)))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    sep = " | "
    whole = sep.join(lines)
    if _utf8_len(whole) <= limit:
        return whole
    kept: list[str] = []
    used = 0
    for line in reversed(lines[1:]):
        extra = _utf8_len(line) + (_utf8_len(sep) if kept else 0)
        if used + extra > limit:
            break
        kept.insert(0, line)
        used += extra
    if not kept:
        return _cut(lines[-1], limit)
    room = limit - used - _utf8_len(sep)
    head = _cut(lines[0], room) if room > _utf8_len("…") else ""
    return sep.join([head, *kept]) if head else sep.join(kept)


def document_label(name: str, limit: int = MAX_TEXT_BYTES) -> str:
    """A document's name in ``limit`` bytes: cut in the middle with "…" (our choice),
    keeping its start and its last 16 characters (the file name's end)."""
    if _utf8_len(name) <= limit:
        return name
    tail = name[-16:]
    head = _cut(name[:-16], limit - _utf8_len(tail))
    return head + tail if head else _cut(name, limit)


def _b64_text(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode()


def _b64decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidResponse(f"mysign: {what} is not a base64 string")
    # Viettel's answers may wrap base64 in CR/LF (seen in client code); drop whitespace.
    compact = "".join(value.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidResponse(f"mysign: {what} is not valid base64") from exc


def _error_of(body: Any) -> tuple[str, str]:
    """(code, description) of an error answer ``{error, error_description}``."""
    if not isinstance(body, dict):
        return "", ""
    code: Any = ""
    for key in ("error", "code", "error_code"):
        value = body.get(key)
        if value not in (None, ""):
            code = value
            break
    desc: Any = body.get("error_description") or body.get("message") or ""
    return str(code), str(desc)


class ViettelMySignClient(SigningClientBase):
    """Client of Viettel MySign (remote signing of Viettel-CA).

    Args:
        base_url: ``https://remotesigning.viettel.vn`` (the document's; port 443).
        client_id: the integrator's client id (issued by Viettel).
        client_secret: its secret (secret).
        profile_id: the RAS profile id (e.g. ``adss:ras:profile:001``).
        user_id: the signer's MySign user id (e.g. ``MST_0101234567``).
        callback: True when Viettel is to call the integrator back (``async`` = 3, 3.5);
            False (default) to poll only (``async`` = 1). The status call stays the truth
            either way.
        timeout, verify, transport, retry, keepalive_expiry: as for MISA.
        approval_window: seconds the signer has (the document's sync mode waits about
            120 s and suggests polling for about 2 minutes).

    Example:
        >>> async with ViettelMySignClient(url, cid, key, prof, "MST_01") as c:  # doctest: +SKIP
        ...     await c.login()
        ...     certs = await c.list_certificates()
    """

    provider = "mysign"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        profile_id: str,
        user_id: str,
        *,
        callback: bool = False,
        timeout: float = 30,
        verify: bool | str | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        approval_window: float = 120,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        super().__init__(approval_window)
        self._http = HttpCore(
            "mysign",
            base_url,
            timeout=timeout,
            verify=verify,
            transport=transport,
            retry=retry,
            keepalive_expiry=keepalive_expiry,
            account=client_id,  # the rate-limit key (esign.pacing): not secret
        )
        self._client_id = client_id
        self._client_secret = client_secret
        self._profile_id = profile_id
        self._user_id = user_id
        self._async_mode = 3 if callback else 1
        self._token: str | None = None
        self._token_deadline: float | None = None
        self._generation = 0
        self._login_lock = asyncio.Lock()
        self._expiry_of: dict[str, dt.datetime] = {}

    def __repr__(self) -> str:
        return f"ViettelMySignClient(account={self._user_id!r})"

    @property
    def account(self) -> str:
        return self._user_id

    @property
    def async_mode(self) -> int:
        """The ``async`` value sent with every sign request: 1 (poll) or 3 (callback)."""
        return self._async_mode

    async def aclose(self) -> None:
        await self._http.aclose()

    # ----------------------------------------------------------------- auth
    async def login(self, otp: OtpCallback | None = None) -> None:
        """Get the signer's token (3.1); MySign asks for no one-time code here (the signer
        confirms each request in the MySign app).

        Raises:
            AuthenticationFailed: a refused login, with MySign's code and its sentence.
        """
        response = await self._http.request(
            "POST",
            _LOGIN,
            json_body={
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "profile_id": self._profile_id,
                "user_id": self._user_id,
            },
        )
        body = _json_or_none(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(token, str) or not token:
            if body is None:
                body = parse_json("mysign", response)  # raises: not JSON
            code, desc = _error_of(body)
            raise AuthenticationFailed(self._login_refusal(code, desc, response), code=code or None)
        assert isinstance(body, dict)
        self._token = token
        expires = _seconds(body.get("expires_in"))
        if expires:
            # renew a little early: 60 s, or a tenth of a very short lifetime
            self._token_deadline = time.monotonic() + expires - min(60.0, expires / 10)
        else:
            self._token_deadline = None
        self._generation += 1
        log.info("mysign: %s logged in", self._user_id)

    def _login_refusal(self, code: str, desc: str, response: httpx.Response) -> str:
        vi, en = MYSIGN_LOGIN_ERRORS.get(
            code, ("MySign từ chối đăng nhập", "MySign refused the log-in")
        )
        said = f"{code} {desc}".strip() or f"HTTP {response.status_code}"
        return f"mysign: user_id {self._user_id!r}: {vi} / {en} ({said})"

    async def _relogin(self, seen_generation: int) -> None:
        """Log in again once, however many coroutines found the token expired."""
        async with self._login_lock:
            if self._generation != seen_generation:
                return
            log.info("mysign: token of %s expired, logging in again", self._user_id)
            await self.login()

    async def _call(self, path: str, body: dict[str, Any], *, repeatable: bool = True) -> Any:
        """A Bearer call; a 401 (expired token) logs in again and sends once more.

        A 401 is answered before anything is processed, so sending a sign request again
        after it is safe.
        """
        if self._token is None:
            await self._relogin(self._generation)
        if self._token_deadline is not None and time.monotonic() >= self._token_deadline:
            await self._relogin(self._generation)
        response: httpx.Response | None = None
        for attempt in (1, 2):
            generation = self._generation
            response = await self._http.request(
                "POST",
                path,
                json_body=body,
                repeatable=repeatable,
                headers={"Authorization": f"Bearer {self._token}"},
            )
            if response.status_code == 401 and attempt == 1:
                await self._relogin(generation)
                continue
            break
        assert response is not None
        data = parse_json("mysign", response)
        if response.status_code == 401:
            code, desc = _error_of(data)
            raise AuthenticationFailed(self._login_refusal(code, desc, response), code=code or None)
        if response.status_code >= 400 or (
            isinstance(data, dict) and data.get("error") not in (None, "")
        ):
            code, desc = _error_of(data)
            raise self._refusal(code or str(response.status_code), desc, response.status_code)
        return data

    def _refusal(self, code: str, desc: str, status: int) -> Exception:
        """The error for a refused call: 13004 and 4005 carry their own sentence."""
        known = MYSIGN_STATUS.get(code)
        if code == "13004" and known is not None:
            return CertificateNotFound(f"mysign: {known.vi} / {known.en} ({code} {desc})".strip())
        if known is not None and not known.ask_again:
            return SigningBlocked("mysign", code, f"{known.vi} / {known.en}", status=status)
        return ProviderError("mysign", code, desc or f"HTTP {status}", status=status)

    # ----------------------------------------------------------------- certificates
    async def list_certificates(self) -> list[Certificate]:
        """Every certificate of the signer with its chain (3.2), normalised."""
        data = await self._call(
            _CERTS,
            {
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "profile_id": self._profile_id,
                "user_id": self._user_id,
                "certificates": "chain",
                "certInfo": True,
                "authInfo": True,
            },
        )
        if not isinstance(data, list):
            raise InvalidResponse("mysign: certificates/info did not answer a JSON array")
        certs: list[Certificate] = []
        for n, entry in enumerate(data):
            if not isinstance(entry, dict):
                raise InvalidResponse(f"mysign: certificate entry {n} is not an object")
            credential = entry.get("credential_id")
            if not isinstance(credential, str) or not credential:
                raise InvalidResponse(f"mysign: certificate entry {n} has no credential_id")
            cert = entry.get("cert")
            if not isinstance(cert, dict):
                raise InvalidResponse(f"mysign: {credential} has no cert object")
            raw = cert.get("certificates")
            if not isinstance(raw, list) or not raw:
                raise InvalidResponse(f"mysign: {credential} has no cert.certificates")
            chain = [_b64decode(c, f"certificate {n} of {credential}") for c in raw]
            der, above = chain[0], [c for c in chain[1:] if c != chain[0]]
            status = str(cert.get("status", "")).strip().lower()
            key = entry.get("key")
            key_on = not isinstance(key, dict) or str(key.get("status", "enabled")) == "enabled"
            wire_serial = cert.get("serialNumber")
            try:
                certs.append(
                    certificate_from_der(
                        "mysign",
                        credential,
                        der,
                        "active" if status in _VALID and key_on else "inactive",
                        above,
                        wire_serial=wire_serial if isinstance(wire_serial, str) else "",
                    )
                )
            except ValueError as exc:
                raise InvalidResponse(f"mysign: certificate {credential} is not DER X.509") from exc
        return certs

    # ----------------------------------------------------------------- signing
    async def _send_sign_request(
        self,
        certificate: Certificate,
        items: Sequence[SignItem],
        display_text: str,
        client_transaction_id: str,
    ) -> Transaction:
        description = phone_text(display_text) or client_transaction_id[-8:]
        data = await self._call(
            _SIGN,
            {
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "credentialID": certificate.alias,
                "numSignatures": len(items),
                "description": _b64_text(description),
                "documents": [
                    {
                        "document_id": item.document_id,
                        "document_name": _b64_text(document_label(item.name)),
                    }
                    for item in items
                ],
                "hash": [base64.b64encode(item.digest).decode() for item in items],
                "hashAlgo": OID_SHA256,
                "signAlgo": OID_RSA,
                "async": self._async_mode,
            },
            repeatable=False,
        )
        tx_id = data.get("transactionId") if isinstance(data, dict) else None
        if not isinstance(tx_id, str) or not tx_id:
            raise InvalidResponse("mysign: sign answer has no transactionId")
        expires = self._expiry()
        self._expiry_of[tx_id] = expires
        log.info(
            "mysign: transaction %s for %s (%d documents, async %d, local id %s)",
            tx_id,
            self._user_id,
            len(items),
            self._async_mode,
            client_transaction_id,
        )
        return Transaction(tx_id, "mysign", TxStatus.PENDING, expires_at=expires)

    async def get_transaction(
        self, transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction:
        """The transaction's status (3.4); on success the verified signatures by document.

        ``signatures`` carries no document ids: they follow the order of the request's
        ``hash`` array (3.3, 3.4), so there must be exactly one per document.
        """
        data = await self._call(_STATUS, {"transactionId": transaction_id})
        if not isinstance(data, dict) or data.get("status") in (None, ""):
            raise InvalidResponse(f"mysign: status of {transaction_id} has no status field")
        code = str(data["status"]).strip()
        known = MYSIGN_STATUS.get(code)
        expires = self._expiry_of.get(transaction_id)
        if known is None:
            # a code the document does not list: reported with its number, not waited on
            return Transaction(
                transaction_id,
                "mysign",
                TxStatus.FAILED,
                error_code=code,
                message=f"MySign trả mã trạng thái lạ {code} / unknown status code {code}",
                expires_at=expires,
            )
        if known.status is TxStatus.SUCCEEDED:
            raw = data.get("signatures")
            if not isinstance(raw, list) or len(raw) != len(items):
                raise InvalidResponse(
                    f"mysign: {transaction_id} succeeded with "
                    f"{len(raw) if isinstance(raw, list) else 'no'} signatures for "
                    f"{len(items)} documents"
                )
            pairs = [
                (item.document_id, _b64decode(sig, f"signature of {item.document_id}"))
                for item, sig in zip(items, raw, strict=True)
            ]
            signatures = verify_signatures("mysign", certificate, items, pairs)
            return Transaction(
                transaction_id, "mysign", TxStatus.SUCCEEDED, signatures, expires_at=expires
            )
        if known.status is TxStatus.PENDING:
            return Transaction(
                transaction_id, "mysign", TxStatus.PENDING, error_code=code, expires_at=expires
            )
        return Transaction(
            transaction_id,
            "mysign",
            known.status,
            error_code=code,
            message=f"{known.vi} / {known.en}",
            expires_at=expires,
            ask_again=known.ask_again,
        )


def _seconds(value: Any) -> float | None:
    """``expires_in`` as seconds: the document prints a string ("3600")."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return parse_json("mysign", response)
    except InvalidResponse:
        return None
