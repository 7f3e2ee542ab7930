"""MISA eSign RemoteSigning V2 client.

The auth endpoints (login, two-factor, refresh) are at ``api/auth/api/v1/auth/...`` in the
guide (sections 1.3, 3.1.1, 3.2.1); MISA's test host serves them under ``webdev/`` (and
the guide's own 3.1.2 and 3.2.2 print ``/webdev/`` for refresh and resend). From one base
URL the client tries the guide's path first and falls back to ``webdev/`` when the answer
is not the API (the web app's ``200 text/html``, a 404 / 405 or a redirect), then keeps
the prefix that answered. ``auth_prefix`` pins one instead.

The signing service ("ESRM") is at the root, authenticated by ``x-clientid`` /
``x-clientkey`` and ``AuthorizationRM: Bearer <remoteSigningAccessToken>``.

A sign request cannot be found again by anything of ours, so this client does not
implement ``esign.base.FindsRequests``. The guide gives MISA's ``transactionId`` only in
the sign answer (3.5: ``{"transactionId"}``, "Lưu lại Response để thực hiện việc lấy
trạng thái ký": keep the answer to read the status); the status call takes that id and
nothing else (3.6: ``Signing/status/{transaction_id}``); the sign body has no field for a
caller's reference (3.5, 4.4: ``DataToBeDisplayed``, ``UserId``, ``CertAlias``,
``Documents``); the list of endpoints (1.3) has no call that lists or searches a user's
requests. The webhook (3.8) carries the ``transactionId`` with our ``documentId`` values,
but only when signatures exist (after an approval), only to a URL registered with MISA
(1.2), and not to a process that is no longer running. So when a process dies after MISA
received a request and before its answer was journalled, that request is lost to us: the
flows call it void, say so to the signer by its reference ("Mã yêu cầu", shown in
``DataToBeDisplayed``) before they ask again, and never use it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import logging
import ssl
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from esign._http import KEEPALIVE_EXPIRY, HttpCore, RetryPolicy, parse_json
from esign._verify import verify_signatures
from esign.base import OtpCallback, SigningClientBase
from esign.errors import (
    AuthenticationFailed,
    InvalidResponse,
    ProviderError,
    TwoFactorFailed,
    TwoFactorRequired,
)
from esign.models import Certificate, SignItem, Transaction, TxStatus, certificate_from_der

__all__ = ["GUIDE_AUTH_PREFIX", "MISA_FAILED_CODES", "TEST_HOST_AUTH_PREFIX", "MisaESignClient"]

log = logging.getLogger("esign.misa")

#: The guide's auth prefix (sections 1.3, 3.1.1, 3.2.1), then the one MISA's test host serves.
GUIDE_AUTH_PREFIX = "api/auth/api/v1/auth/"
TEST_HOST_AUTH_PREFIX = "webdev/api/auth/api/v1/auth/"
_AUTH_PREFIXES = (GUIDE_AUTH_PREFIX, TEST_HOST_AUTH_PREFIX)
_CERTS = "external/esrm/service/general/api/v1/Certificates/by-userId"
_SIGN = "external/esrm/service/signing/api/v1/Signing/hash"
_STATUS = "external/esrm/service/signing/api/v1/Signing/status/"
_TWO_FACTOR_REQUIRED = "122"

#: ``FAILED`` error codes and what they mean for the flow. Codes not listed here are
#: ``failed``; a listed one maps to a business outcome. The sandbox uses exactly these.
MISA_FAILED_CODES: dict[str, TxStatus] = {
    "USER_REJECTED": TxStatus.REJECTED,
    "USER_CANCELLED": TxStatus.REJECTED,
    "REJECTED": TxStatus.REJECTED,
    "TRANSACTION_EXPIRED": TxStatus.EXPIRED,
    "EXPIRED": TxStatus.EXPIRED,
    "TIMEOUT": TxStatus.EXPIRED,
}


def _b64decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidResponse(f"misa: {what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidResponse(f"misa: {what} is not valid base64") from exc


def _error_of(body: Any) -> tuple[str, str]:
    """(code, user message) from either error shape MISA uses.

    The login object's ``status`` (guide 4.10: ``errorCode`` an integer, ``error`` a
    boolean flag) or a ResponseError (guide 4.13: ``errorCode`` and ``error`` strings).
    """
    if not isinstance(body, dict):
        return "", ""
    src = body.get("status") if isinstance(body.get("status"), dict) else body
    assert isinstance(src, dict)
    code: Any = src.get("errorCode")
    if code is None or code == "":
        error = src.get("error")
        code = error if isinstance(error, str) else ""
    msg: Any = ""
    for key in ("userMsg", "devMsg", "message", "error"):
        value = src.get(key)
        if isinstance(value, str) and value:
            msg = value
            break
    return str(code), str(msg)


def _is_not_the_api(response: httpx.Response) -> bool:
    """The answer of something other than the auth API: the web app, a 404, a redirect."""
    if response.status_code in (404, 405) or 300 <= response.status_code < 400:
        return True
    ctype = response.headers.get("content-type", "").lower()
    return response.status_code == 200 and "json" not in ctype


class MisaESignClient(SigningClientBase):
    """Client of MISA eSign RemoteSigning V2.

    Args:
        base_url: e.g. ``https://testesignappv1.misa.vn/`` (the sandbox: its provider URL).
        client_id: the integrator's clientId (sent as ``x-clientid``).
        client_key: the integrator's clientKey (sent as ``x-clientkey``; secret).
        username: the signer's MISA account name.
        password: its password (secret).
        timeout: seconds per HTTP request.
        verify: TLS verification: True, a CA bundle path or an SSLContext.
        transport: an httpx transport (tests).
        retry: backoff policy for reads and polls.
        otp_type: 0 for SMS / e-mail codes, 1 for an authenticator app.
        approval_window: seconds the phone has to approve (MISA does not say; about 300).
        auth_prefix: where the auth endpoints are, relative to ``base_url``
            (``GUIDE_AUTH_PREFIX`` or ``TEST_HOST_AUTH_PREFIX``); None (default) detects it.
        keepalive_expiry: seconds an idle pooled connection is reused (see ``esign._http``).

    Example:
        >>> async with MisaESignClient(url, cid, ckey, "acme", pw) as client:  # doctest: +SKIP
        ...     await client.login(otp=ask_operator)
        ...     certs = await client.list_certificates()
    """

    provider = "misa"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_key: str,
        username: str,
        password: str,
        *,
        timeout: float = 30,
        verify: bool | str | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        otp_type: int = 0,
        approval_window: float = 300,
        auth_prefix: str | None = None,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        super().__init__(approval_window)
        self._http = HttpCore(
            "misa",
            base_url,
            timeout=timeout,
            verify=verify,
            transport=transport,
            retry=retry,
            keepalive_expiry=keepalive_expiry,
            account=client_id,
        )
        if auth_prefix is not None and not auth_prefix.endswith("/"):
            auth_prefix += "/"
        self._auth_prefix = auth_prefix.lstrip("/") if auth_prefix is not None else None
        self._pinned_prefix = auth_prefix is not None
        self._refresh_prefix: str | None = None
        self._client_id = client_id
        self._client_key = client_key
        self._username = username
        self._password = password
        self._otp_type = otp_type
        self._otp: OtpCallback | None = None
        self._rm_token: str | None = None
        self._refresh_token: str | None = None
        self._token_deadline: float | None = None
        self._user_id: str | None = None
        self._generation = 0
        self._refresh_lock = asyncio.Lock()
        self._expiry_of: dict[str, dt.datetime] = {}

    def __repr__(self) -> str:
        return f"MisaESignClient(account={self._username!r})"

    @property
    def account(self) -> str:
        return self._username

    @property
    def user_id(self) -> str | None:
        """The MISA user id learnt at login (sent as ``UserId`` in sign requests)."""
        return self._user_id

    @property
    def auth_prefix(self) -> str | None:
        """The auth prefix in use (pinned, or detected at the first login); None before."""
        return self._auth_prefix

    def _prefixes(self, preferred: str | None) -> list[str]:
        if self._pinned_prefix:
            assert self._auth_prefix is not None
            return [self._auth_prefix]
        first = preferred or self._auth_prefix
        if first is None:
            return list(_AUTH_PREFIXES)
        return [first, *(p for p in _AUTH_PREFIXES if p != first)]

    async def _auth_post(
        self,
        endpoint: str,
        body: dict[str, Any],
        *,
        repeatable: bool = True,
        headers: dict[str, str] | None = None,
        preferred: str | None = None,
    ) -> tuple[httpx.Response, str]:
        """POST to an auth endpoint, trying the known prefixes; (answer, prefix used).

        A non-repeatable call (a one-time code) is sent once, at the prefix already known.
        """
        prefixes = self._prefixes(preferred)
        if not repeatable:
            prefixes = prefixes[:1]
        response: httpx.Response | None = None
        for prefix in prefixes:
            response = await self._http.request(
                "POST", prefix + endpoint, json_body=body, repeatable=repeatable, headers=headers
            )
            if not _is_not_the_api(response):
                return response, prefix
            log.debug("misa: %s%s is not the auth API here", prefix, endpoint)
        assert response is not None
        return response, prefixes[-1]

    async def aclose(self) -> None:
        await self._http.aclose()

    # ----------------------------------------------------------------- auth
    async def login(self, otp: OtpCallback | None = None) -> None:
        """Log in with the password; when MISA answers errorCode 122, ask ``otp()`` for a code.

        Raises:
            AuthenticationFailed: wrong credentials or locked account (with MISA's code).
            TwoFactorRequired: two-factor is on and ``otp`` is None.
            TwoFactorFailed: the code was refused.
        """
        if otp is not None:
            self._otp = otp
        response, prefix = await self._auth_post(
            "login-api", {"userName": self._username, "password": self._password}
        )
        body = parse_json("misa", response)
        if not self._pinned_prefix and self._auth_prefix != prefix:
            self._auth_prefix = prefix
            log.info("misa: auth endpoints under /%s", prefix)
        code, msg = _error_of(body)
        if code == _TWO_FACTOR_REQUIRED:
            callback = otp or self._otp
            if callback is None:
                raise TwoFactorRequired(
                    f"misa: account {self._username!r} needs a one-time code "
                    "and no code callback was given",
                    code=code,
                )
            one_time = await callback()
            response, _ = await self._auth_post(
                "two-factor-auth",
                {
                    "userName": self._username,
                    "code": one_time,
                    "otpType": self._otp_type,
                    "remember": False,
                },
                repeatable=False,
                # guide 3.2.1 names these headers (not the x- ones of the signing service)
                headers={"clientId": self._client_id, "clientKey": self._client_key},
            )
            body = parse_json("misa", response)
            if not self._store_tokens(body):
                code, msg = _error_of(body)
                raise TwoFactorFailed(
                    f"misa: one-time code refused for {self._username!r}: "
                    f"{code or response.status_code} {msg}".rstrip(),
                    code=code or None,
                )
            log.info("misa: %s logged in (two-factor)", self._username)
            return
        if not self._store_tokens(body):
            raise AuthenticationFailed(
                f"misa: login refused for {self._username!r}: "
                f"{code or response.status_code} {msg}".rstrip(),
                code=code or None,
            )
        log.info("misa: %s logged in", self._username)

    def _store_tokens(self, body: Any) -> bool:
        """Keep the tokens of a login, two-factor or refresh answer; False when it has none.

        Login and two-factor answer the ``{status, data}`` object (guide 3.1.1, 3.2.1); the
        guide's refresh example (3.1.2) is the token object itself, flat, while its text
        names the login object: both are read.
        """
        if not isinstance(body, dict):
            return False
        data = body.get("data")
        if not isinstance(data, dict) and "remoteSigningAccessToken" in body:
            data = body
        if not isinstance(data, dict):
            return False
        token = data.get("remoteSigningAccessToken")
        if not isinstance(token, str) or not token:
            return False
        self._rm_token = token
        refresh = data.get("refreshToken")
        self._refresh_token = refresh if isinstance(refresh, str) else None
        expires = data.get("expiresIn")
        if isinstance(expires, int | float) and expires > 0:
            # renew a little early: 5 s, or a tenth of a very short lifetime
            self._token_deadline = time.monotonic() + float(expires) - min(5.0, expires / 10)
        else:
            self._token_deadline = None
        user = data.get("user")
        if isinstance(user, dict) and user.get("id") is not None:
            self._user_id = str(user["id"])
        self._generation += 1
        return True

    async def _refresh(self, seen_generation: int) -> None:
        """Renew the token once, however many coroutines found it expired."""
        async with self._refresh_lock:
            if self._generation != seen_generation:
                return  # another coroutine refreshed while we waited
            if self._refresh_token:
                # the guide prints refresh under both prefixes (1.3 and 3.1.2): the one that
                # answered last time first, then the login's, then the other
                response, prefix = await self._auth_post(
                    "refreshtoken",
                    {"refreshToken": self._refresh_token},
                    preferred=self._refresh_prefix,
                )
                body = _maybe_json(response)
                if response.status_code == 200 and self._store_tokens(body):
                    self._refresh_prefix = prefix
                    log.info("misa: token refreshed for %s", self._username)
                    return
                log.info("misa: refresh refused for %s, logging in again", self._username)
            await self.login()

    async def _esrm(
        self, method: str, path: str, *, json_body: Any = None, repeatable: bool = True
    ) -> Any:
        if self._rm_token is None:
            await self.login()
        generation = self._generation
        if self._token_deadline is not None and time.monotonic() >= self._token_deadline:
            await self._refresh(generation)
        for attempt in (1, 2):
            generation = self._generation
            response = await self._http.request(
                method,
                path,
                json_body=json_body,
                repeatable=repeatable,
                headers={
                    "x-clientid": self._client_id,
                    "x-clientkey": self._client_key,
                    "AuthorizationRM": f"Bearer {self._rm_token}",
                },
            )
            if response.status_code == 401 and attempt == 1:
                await self._refresh(generation)
                continue
            break
        if response.status_code == 401:
            code, msg = _error_of(_maybe_json(response))
            raise AuthenticationFailed(
                f"misa: the signing service refused the token of {self._username!r}: "
                f"{code} {msg}".rstrip(),
                code=code or None,
            )
        body = parse_json("misa", response)
        if response.status_code in (401, 403):
            code, msg = _error_of(body)
            raise AuthenticationFailed(
                f"misa: client or account refused ({response.status_code}): {code} {msg}".rstrip(),
                code=code or None,
            )
        if response.status_code >= 400:
            code, msg = _error_of(body)
            raise ProviderError(
                "misa", code or str(response.status_code), msg, status=response.status_code
            )
        return body

    # ----------------------------------------------------------------- certificates
    async def list_certificates(self) -> list[Certificate]:
        """Every certificate of the account, normalised (inactive and expired included)."""
        body = await self._esrm("GET", _CERTS)
        if not isinstance(body, list):
            raise InvalidResponse("misa: certificate list is not a JSON array")
        certs: list[Certificate] = []
        for n, entry in enumerate(body):
            if not isinstance(entry, dict):
                raise InvalidResponse(f"misa: certificate entry {n} is not an object")
            alias = entry.get("keyAlias")
            if not isinstance(alias, str):
                raise InvalidResponse(f"misa: certificate entry {n} has no keyAlias")
            der = _b64decode(entry.get("certificate"), f"certificate {alias}")
            # "certiticateChain" is the provider's own spelling; accept a corrected one too.
            raw_chain = entry.get("certiticateChain", entry.get("certificateChain")) or []
            if not isinstance(raw_chain, list):
                raise InvalidResponse(f"misa: chain of certificate {alias} is not an array")
            chain = [_b64decode(c, f"chain of certificate {alias}") for c in raw_chain]
            chain = [c for c in chain if c != der]
            user = entry.get("userId")
            if self._user_id is None and isinstance(user, str) and user:
                self._user_id = user  # guide 4.4: UserId is also Cert.userId
            active = str(entry.get("keyStatus", "")).upper() == "ACTIVE"
            try:
                cert = certificate_from_der(
                    "misa", alias, der, "active" if active else "inactive", chain
                )
            except ValueError as exc:
                raise InvalidResponse(f"misa: certificate {alias} is not DER X.509") from exc
            certs.append(cert)
        return certs

    # ----------------------------------------------------------------- signing
    async def _send_sign_request(
        self,
        certificate: Certificate,
        items: Sequence[SignItem],
        display_text: str,
        client_transaction_id: str,
    ) -> Transaction:
        if self._rm_token is None:
            await self.login()
        body = await self._esrm(
            "POST",
            _SIGN,
            repeatable=False,
            json_body={
                "DataToBeDisplayed": display_text,
                "UserId": self._user_id,
                "CertAlias": certificate.alias,
                "Documents": [
                    {
                        "DocumentId": item.document_id,
                        "FileToSign": base64.b64encode(item.digest).decode(),
                        "DocumentName": item.name,
                    }
                    for item in items
                ],
            },
        )
        tx_id = body.get("transactionId") if isinstance(body, dict) else None
        if not isinstance(tx_id, str) or not tx_id:
            raise InvalidResponse("misa: sign answer has no transactionId")
        expires = self._expiry()
        self._expiry_of[tx_id] = expires
        log.info(
            "misa: transaction %s for %s (%d documents, local id %s)",
            tx_id,
            self._username,
            len(items),
            client_transaction_id,
        )
        return Transaction(tx_id, "misa", TxStatus.PENDING, expires_at=expires)

    async def get_transaction(
        self, transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction:
        """The transaction's status; on success the verified signatures by document id."""
        body = await self._esrm("GET", _STATUS + quote(transaction_id, safe=""))
        if not isinstance(body, dict) or not isinstance(body.get("status"), str):
            raise InvalidResponse(f"misa: status of {transaction_id} has no status field")
        wire = body["status"].upper()
        code = body.get("errorCode")
        code_s = str(code) if code not in (None, "", 0, "0") else None
        desc = body.get("errorDescription")
        desc_s = str(desc) if desc else None
        expires = self._expiry_of.get(transaction_id)
        if wire == "PENDING":
            return Transaction(transaction_id, "misa", TxStatus.PENDING, expires_at=expires)
        if wire == "SUCCESS":
            pairs = _signature_pairs(transaction_id, body.get("signatures"), items)
            signatures = verify_signatures("misa", certificate, items, pairs)
            return Transaction(
                transaction_id, "misa", TxStatus.SUCCEEDED, signatures, expires_at=expires
            )
        if wire == "CANCELLED":
            status = TxStatus.CANCELLED
        elif wire == "FAILED":
            status = _failed_status(code_s, desc_s)
        else:
            raise InvalidResponse(f"misa: {transaction_id}: unknown status {wire!r}")
        return Transaction(
            transaction_id, "misa", status, error_code=code_s, message=desc_s, expires_at=expires
        )


def _signature_pairs(
    transaction_id: str, raw: Any, items: Sequence[SignItem]
) -> list[tuple[str, bytes]]:
    """(document id, signature) pairs of a SUCCESS answer.

    Guide 4.17 gives each entry a ``documentId``; the sample of 3.6 has ``signature`` only
    and says the list follows the order of the request: entries without an id are taken
    in request order (then there must be exactly one per document).
    """
    if not isinstance(raw, list) or not raw:
        raise InvalidResponse(f"misa: {transaction_id} succeeded without signatures")
    if not all(isinstance(e, dict) for e in raw):
        raise InvalidResponse(f"misa: {transaction_id}: malformed signature entry")
    ids = [e.get("documentId") for e in raw]
    if all(isinstance(i, str) for i in ids):
        return [
            (e["documentId"], _b64decode(e.get("signature"), f"signature of {e['documentId']}"))
            for e in raw
        ]
    if any(i is not None for i in ids):
        raise InvalidResponse(f"misa: {transaction_id}: some signatures name no documentId")
    if len(raw) != len(items):
        raise InvalidResponse(
            f"misa: {transaction_id}: {len(raw)} signatures without documentId "
            f"for {len(items)} documents"
        )
    return [
        (item.document_id, _b64decode(e.get("signature"), f"signature of {item.document_id}"))
        for item, e in zip(items, raw, strict=True)
    ]


def _failed_status(code: str | None, description: str | None) -> TxStatus:
    if code and code.upper() in MISA_FAILED_CODES:
        return MISA_FAILED_CODES[code.upper()]
    text = f"{code or ''} {description or ''}".lower()
    if any(w in text for w in ("reject", "refus", "từ chối")):
        return TxStatus.REJECTED
    if any(w in text for w in ("expire", "timeout", "hết hạn")):
        return TxStatus.EXPIRED
    return TxStatus.FAILED


def _maybe_json(response: httpx.Response) -> Any:
    try:
        return parse_json("misa", response)
    except InvalidResponse:
        return None
