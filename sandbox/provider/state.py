"""The provider's memory: accounts with their certificates, tokens, signing transactions,
phone policies and the fault switches, with what changes them (approve, reject, expire...).

Signatures are real: RSA PKCS#1 v1.5 over the submitted SHA-256 digest with the key of
the account's certificate from the test PKI.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.responses import JSONResponse, Response

from sandbox.audit import AuditLog
from sandbox.pki import IssuedCertificate, TestPKI, sign_digest
from sandbox.provider.config import (
    AccountConfig,
    CertificateSpec,
    FaultsConfig,
    PhonePolicy,
    ProviderConfig,
)

__all__ = ["Account", "Cert", "Document", "ProviderState", "SigningTx"]


@dataclass
class Cert:
    """A certificate of an account: the issued key pair, its DER and chain, its serials."""

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
class Account:
    """A signer's account, its certificates and its login state (failures, lock, 2FA)."""

    config: AccountConfig
    misa_user_id: str
    certs: list[Cert]
    failures: int = 0
    locked_until: float = 0.0
    two_factor_pending: float = 0.0

    @property
    def name(self) -> str:
        return self.config.username


@dataclass
class _Token:
    user: str
    kind: Literal["access", "rm", "refresh", "mysign"]
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
    service: Literal["misa", "vnpt", "mysign", "ca2"]
    account: str
    cert: Cert
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
    #: MySign ``async`` = 3: the integrator is called back once the signer acted.
    callback: bool = False

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
        self.accounts: dict[str, Account] = {}
        for acc in config.accounts:
            certs = [self._issue(pki, spec) for spec in acc.certificates]
            misa_id = acc.misa_user_id or str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"misa:{acc.username}")
            )
            self.accounts[acc.username] = Account(acc, misa_id, certs)
        self.tokens: dict[str, _Token] = {}
        #: Every token value ever issued, in memory only (secret-hygiene tests search for them).
        self.issued_tokens: list[str] = []
        self.transactions: dict[str, SigningTx] = {}
        #: VNPT transaction_id -> transaction. Unique across integrators: the status call
        #: (3.4) names the id alone (the sandbox's reading of the document).
        self.vnpt_ids: dict[str, str] = {}
        #: CA2 transaction_id -> transaction; the status call names the id with the
        #: integrator's credentials and the user (the sandbox keys it by the id alone).
        self.ca2_ids: dict[str, str] = {}
        self.csrf: dict[str, tuple[str, float]] = {}
        self._rng = random.Random(config.faults.seed)
        self._burst_left = config.faults.burst_429
        self._lose_sign_left = config.faults.lose_sign_response
        self._wrong_key: rsa.RSAPrivateKey | None = None
        #: Called with each transaction that has just ended (a wire's callback, if any:
        #: MISA's webhook, MySign's async=3 calls).
        self.on_resolved: list[Callable[[SigningTx], None]] = []

    @staticmethod
    def _issue(pki: TestPKI, spec: CertificateSpec) -> Cert:
        issued = pki.issue(
            spec.pki_name,
            tax_code=spec.tax_code,
            unit_name=spec.unit_name,
            ca=spec.ca,
            variant=spec.variant,
        )
        cert = issued.certificate
        return Cert(
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
        kind: Literal["access", "rm", "refresh", "mysign"],
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
        for hook in self.on_resolved:
            hook(tx)

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
        service: Literal["misa", "vnpt", "mysign", "ca2"],
        account: Account,
        cert: Cert,
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
