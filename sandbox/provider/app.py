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

import asyncio
import base64
import binascii
import datetime as dt
import hmac
import json
import math
import random
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox.audit import AuditLog
from sandbox.pki import IssuedCertificate, TestPKI, sign_digest

__all__ = [
    "AccountConfig",
    "CertificateSpec",
    "ClientsConfig",
    "FaultsConfig",
    "MisaClientConfig",
    "PhonePolicy",
    "ProviderConfig",
    "ProviderState",
    "VnptClientConfig",
    "create_provider_app",
]

# ====================================================================== configuration


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MisaClientConfig(_Model):
    """An integrator's MISA clientId / clientKey pair."""

    client_id: str
    client_key: str


class VnptClientConfig(_Model):
    """An integrator's VNPT sp_id / sp_password pair."""

    sp_id: str
    sp_password: str


class ClientsConfig(_Model):
    """Integrator credentials the provider accepts."""

    misa: list[MisaClientConfig] = Field(default_factory=list)
    vnpt: list[VnptClientConfig] = Field(default_factory=list)


class CertificateSpec(_Model):
    """A certificate of an account, issued from the test PKI when the app starts."""

    pki_name: str = Field(description="Name in the test PKI (letters, digits, - and _).")
    tax_code: str = Field(description="MST carried as UID=MST:<tax code> in the subject.")
    unit_name: str = Field(description="The unit's name (subject CN).")
    ca: Literal["misa", "vnpt", "token"] = "misa"
    variant: Literal["valid", "expired", "not_yet_valid", "revoked"] = "valid"
    key_status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE"
    alias: str | None = Field(None, description="Provider alias (default: the pki name).")


class AccountConfig(_Model):
    """A signer's account: MISA user name + password, or a VNPT user id (ID / tax code)."""

    username: str = Field(validation_alias=AliasChoices("username", "user_id"))
    password: str = ""
    two_factor_code: str | None = None
    provider: Literal["misa", "vnpt"] = "misa"
    pin: str = "123456"
    misa_user_id: str | None = Field(None, description="MISA's user id (default derived).")
    certificates: list[CertificateSpec] = Field(default_factory=list)

    @field_validator("username")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if not value or value == "api" or "/" in value:
            raise ValueError(f"account name {value!r} is empty, reserved or contains '/'")
        return value


class PhonePolicy(_Model):
    """What the virtual phone does with a new request of a user.

    ``manual`` waits for a person (the page) or the control API; ``expire`` lets the
    deadline pass; the others act ``after_seconds`` after the request arrives.
    """

    action: Literal["approve", "reject", "expire", "fail", "manual"] = "manual"
    after_seconds: float = Field(0.0, ge=0)
    fail_code: str = "SIGNING_FAILED"


class FaultsConfig(_Model):
    """Fault switches, applied to the provider API (not to the phone or /health)."""

    rate_429: float = Field(0.0, ge=0, le=1, description="Share of API calls answered 429.")
    rate_5xx: float = Field(0.0, ge=0, le=1, description="Share answered 503.")
    burst_429: int = Field(0, ge=0, description="The first N API calls answer 429.")
    retry_after_seconds: float = Field(1.0, ge=0, description="Retry-After sent with 429.")
    slow_seconds: float = Field(0.0, ge=0, description="Delay before every API answer.")
    rate_timeout: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of API calls that hang timeout_seconds and are then answered 504 "
        "without being processed (a call lost on the way in: the client times out first).",
    )
    timeout_seconds: float = Field(5.0, ge=0, description="How long a timed-out call hangs.")
    lose_sign_response: int = Field(
        0,
        ge=0,
        description="The next N sign requests (MISA or VNPT) create the transaction (the "
        "phone shows it) and then answer 502: the answer with the transaction id is lost.",
    )
    wrong_key_signatures: bool = Field(False, description="Sign with a key not in the cert.")
    token_expires_early: bool = Field(
        False, description="A password login's token dies after its first use (MISA)."
    )
    refresh_fails: bool = Field(False, description="Refresh tokens are refused (MISA).")
    seed: int | None = Field(None, description="Seed for the random faults.")


class ProviderConfig(_Model):
    """Everything the provider sandbox plays: clients, accounts, phone policies, faults."""

    clients: ClientsConfig = Field(default_factory=ClientsConfig)
    accounts: list[AccountConfig] = Field(default_factory=list)
    lockout_after: int = Field(5, ge=1, description="Wrong passwords before the lock.")
    lockout_seconds: float = Field(900, gt=0)
    token_ttl_seconds: float = Field(3600, gt=0)
    refresh_ttl_seconds: float = Field(30 * 24 * 3600, gt=0)
    signing_deadline_seconds: float = Field(300, gt=0)
    policies: dict[str, PhonePolicy] = Field(default_factory=dict)
    faults: FaultsConfig = Field(default_factory=FaultsConfig)
    control_token: str = Field(
        default_factory=lambda: secrets.token_urlsafe(24),
        min_length=16,
        description="Required in x-sandbox-token for /phone/api (random when not set).",
    )

    @model_validator(mode="after")
    def _unique_accounts(self) -> ProviderConfig:
        names = [a.username for a in self.accounts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"accounts listed twice: {dupes}")
        unknown = sorted(set(self.policies) - set(names))
        if unknown:
            raise ValueError(f"policies for unknown accounts: {unknown}")
        return self


# ====================================================================== state


@dataclass
class _Cert:
    alias: str
    key_status: str
    issued: IssuedCertificate
    der: bytes
    chain: list[bytes]
    serial_hex: str
    vnpt_serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    _key: rsa.RSAPrivateKey | None = None

    @property
    def key(self) -> rsa.RSAPrivateKey:
        if self._key is None:
            self._key = self.issued.private_key
        return self._key

    def valid_now(self) -> bool:
        now = dt.datetime.now(dt.UTC)
        return self.not_before <= now <= self.not_after


@dataclass
class _Account:
    config: AccountConfig
    misa_user_id: str
    certs: list[_Cert]
    failures: int = 0
    locked_until: float = 0.0
    two_factor_pending: float = 0.0

    @property
    def name(self) -> str:
        return self.config.username


@dataclass
class _Token:
    user: str
    kind: Literal["access", "rm", "refresh"]
    expires: float
    early: bool = False
    uses: int = 0


@dataclass
class Document:
    """One document of a signing request."""

    id: str
    name: str
    digest: bytes


@dataclass
class SigningTx:
    """A signing transaction as the provider keeps it."""

    id: str
    service: Literal["misa", "vnpt"]
    account: str
    cert: _Cert
    documents: list[Document]
    display_text: str
    created: float
    deadline: float
    deadline_wall: dt.datetime
    owner: str  # client id / sp id that created it
    tran_code: str = ""
    state: Literal["pending", "approved", "rejected", "expired", "failed", "cancelled"] = "pending"
    awaiting_pin: bool = False
    fail_code: str | None = None
    signatures: list[bytes] = field(default_factory=list)
    resolved_wall: dt.datetime | None = None
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    @property
    def seconds_left(self) -> int:
        return max(0, int(self.deadline - time.monotonic()))


class ProviderState:
    """The provider's memory: accounts, tokens, transactions, policies, faults."""

    def __init__(self, config: ProviderConfig, pki: TestPKI, audit: AuditLog) -> None:
        self.config = config
        self.audit = audit
        self.faults = config.faults
        self.policies: dict[str, PhonePolicy] = dict(config.policies)
        self.accounts: dict[str, _Account] = {}
        for acc in config.accounts:
            certs = [self._issue(pki, spec) for spec in acc.certificates]
            misa_id = acc.misa_user_id or str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"misa:{acc.username}")
            )
            self.accounts[acc.username] = _Account(acc, misa_id, certs)
        self.tokens: dict[str, _Token] = {}
        #: Every token value ever issued, in memory only (secret-hygiene tests search for them).
        self.issued_tokens: list[str] = []
        self.transactions: dict[str, SigningTx] = {}
        #: VNPT transaction_id -> transaction. Unique across integrators: the status call
        #: (3.4) names the id alone (the sandbox's reading of the document).
        self.vnpt_ids: dict[str, str] = {}
        self.csrf: dict[str, tuple[str, float]] = {}
        self._rng = random.Random(config.faults.seed)
        self._burst_left = config.faults.burst_429
        self._lose_sign_left = config.faults.lose_sign_response
        self._wrong_key: rsa.RSAPrivateKey | None = None

    @staticmethod
    def _issue(pki: TestPKI, spec: CertificateSpec) -> _Cert:
        issued = pki.issue(
            spec.pki_name,
            tax_code=spec.tax_code,
            unit_name=spec.unit_name,
            ca=spec.ca,
            variant=spec.variant,
        )
        cert = issued.certificate
        return _Cert(
            alias=spec.alias or spec.pki_name,
            key_status=spec.key_status,
            issued=issued,
            der=cert.public_bytes(serialization.Encoding.DER),
            chain=pki.chain_der(spec.ca),
            serial_hex=format(cert.serial_number, "X"),
            vnpt_serial=format(cert.serial_number, "x"),  # lower-case, as VNPT's samples
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
        )

    # ------------------------------------------------------------------ faults
    def set_faults(self, faults: FaultsConfig) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._burst_left = faults.burst_429
        self._lose_sign_left = faults.lose_sign_response

    def lose_sign_response(self) -> bool:
        """Whether the answer to this (processed) sign request is to be lost."""
        if self._lose_sign_left <= 0:
            return False
        self._lose_sign_left -= 1
        return True

    async def fault(self) -> Response | None:
        """A fault answer for this API call, or None to serve it normally."""
        faults = self.faults
        if faults.slow_seconds:
            await asyncio.sleep(faults.slow_seconds)
        if faults.rate_timeout and self._rng.random() < faults.rate_timeout:
            self.audit.write("provider", "fault", fault="timeout")
            await asyncio.sleep(faults.timeout_seconds)
            return JSONResponse({"error": "GatewayTimeout", "errorCode": "504"}, status_code=504)
        too_many = False
        if self._burst_left > 0:
            self._burst_left -= 1
            too_many = True
        elif faults.rate_429 and self._rng.random() < faults.rate_429:
            too_many = True
        if too_many:
            self.audit.write("provider", "fault", fault="429")
            return JSONResponse(
                {"error": "TooManyRequests", "errorCode": "429", "userMsg": "Too many requests"},
                status_code=429,
                headers={"Retry-After": f"{faults.retry_after_seconds:g}"},
            )
        if faults.rate_5xx and self._rng.random() < faults.rate_5xx:
            self.audit.write("provider", "fault", fault="503")
            return JSONResponse(
                {"error": "ServiceUnavailable", "errorCode": "503"}, status_code=503
            )
        return None

    # ------------------------------------------------------------------ tokens
    def new_token(
        self,
        user: str,
        kind: Literal["access", "rm", "refresh"],
        ttl: float,
        *,
        early: bool = False,
    ) -> str:
        value = secrets.token_urlsafe(32)
        self.tokens[value] = _Token(user, kind, time.monotonic() + ttl, early)
        self.issued_tokens.append(value)
        return value

    def check_token(self, value: str, kind: str) -> _Token | None:
        token = self.tokens.get(value)
        if token is None or token.kind != kind or time.monotonic() >= token.expires:
            return None
        if token.early and token.uses >= 1:
            return None
        token.uses += 1
        return token

    # ------------------------------------------------------------------ signing
    def sign_for(self, tx: SigningTx) -> list[bytes]:
        key = tx.cert.key
        if self.faults.wrong_key_signatures:
            if self._wrong_key is None:
                self._wrong_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key = self._wrong_key
        return [sign_digest(key, doc.digest) for doc in tx.documents]

    def create_tx(self, tx: SigningTx) -> None:
        self.transactions[tx.id] = tx
        self.audit.write(
            tx.service,
            "sign_request",
            user=tx.account,
            transaction=tx.id,
            documents=len(tx.documents),
            certificate=tx.cert.alias,
        )
        loop = asyncio.get_running_loop()
        tx.timers.append(
            loop.call_later(max(0.0, tx.deadline - time.monotonic()), self.expire, tx.id)
        )
        self._apply_policy(tx, self.policies.get(tx.account))

    def _apply_policy(self, tx: SigningTx, policy: PhonePolicy | None) -> None:
        if policy is None or policy.action in ("manual", "expire"):
            return
        loop = asyncio.get_running_loop()
        what, code = policy.action, policy.fail_code

        def act() -> None:
            if what == "approve":
                self.approve(tx.id, via="policy")
            elif what == "reject":
                self.reject(tx.id, via="policy")
            else:
                self.fail(tx.id, code)

        tx.timers.append(loop.call_later(policy.after_seconds, act))

    def set_policy(self, user: str, policy: PhonePolicy) -> None:
        """Use ``policy`` for new requests and, from now on, for pending ones."""
        self.policies[user] = policy
        for tx in self.pending(user):
            self._apply_policy(tx, policy)

    def settle(self, tx: SigningTx) -> SigningTx:
        if tx.state == "pending" and time.monotonic() >= tx.deadline:
            self.expire(tx.id)
        return tx

    def pending(self, user: str) -> list[SigningTx]:
        return [
            tx
            for tx in list(self.transactions.values())
            if tx.account == user and self.settle(tx).state == "pending"
        ]

    def recent(self, user: str, limit: int = 10) -> list[SigningTx]:
        done = [t for t in self.transactions.values() if t.account == user and t.state != "pending"]
        return done[-limit:][::-1]

    def _resolve(self, tx: SigningTx, state: Any, event: str, **extra: Any) -> None:
        tx.state = state
        tx.awaiting_pin = False
        tx.resolved_wall = dt.datetime.now(dt.UTC)
        for timer in tx.timers:
            timer.cancel()
        tx.timers.clear()
        self.audit.write(
            tx.service,
            event,
            user=tx.account,
            transaction=tx.id,
            documents=len(tx.documents),
            **extra,
        )

    def approve(self, tx_id: str, *, via: str) -> bool:
        tx = self.transactions.get(tx_id)
        if tx is None or tx.state != "pending":
            return False
        if time.monotonic() >= tx.deadline:
            self.expire(tx_id)
            return False
        tx.signatures = self.sign_for(tx)
        self._resolve(tx, "approved", "approved", via=via)
        return True

    def reject(self, tx_id: str, *, via: str) -> bool:
        tx = self.transactions.get(tx_id)
        if tx is None or tx.state != "pending":
            return False
        self._resolve(tx, "rejected", "rejected", via=via)
        return True

    def fail(self, tx_id: str, code: str) -> bool:
        tx = self.transactions.get(tx_id)
        if tx is None or tx.state != "pending":
            return False
        tx.fail_code = code
        self._resolve(tx, "failed", "failed", code=code)
        return True

    def expire(self, tx_id: str) -> None:
        tx = self.transactions.get(tx_id)
        if tx is not None and tx.state == "pending":
            self._resolve(tx, "expired", "expired")

    def new_tx(
        self,
        *,
        tx_id: str,
        service: Literal["misa", "vnpt"],
        account: _Account,
        cert: _Cert,
        documents: list[Document],
        display_text: str,
        owner: str,
    ) -> SigningTx:
        now = time.monotonic()
        window = self.config.signing_deadline_seconds
        return SigningTx(
            id=tx_id,
            service=service,
            account=account.name,
            cert=cert,
            documents=documents,
            display_text=display_text,
            created=now,
            deadline=now + window,
            deadline_wall=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=window),
            owner=owner,
        )


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
