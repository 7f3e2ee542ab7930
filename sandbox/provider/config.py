"""What the provider sandbox plays, as configuration: integrator clients, accounts and
their certificates, phone policies, fault switches (the ``[provider]`` part of the sandbox
file, see :mod:`sandbox.config`)."""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AccountConfig",
    "Ca2ClientConfig",
    "CertificateSpec",
    "ClientsConfig",
    "FaultsConfig",
    "MisaClientConfig",
    "MySignClientConfig",
    "PhonePolicy",
    "ProviderConfig",
    "VnptClientConfig",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MisaClientConfig(_Model):
    """An integrator's MISA clientId / clientKey pair, and its result webhook if registered."""

    client_id: str
    client_key: str
    webhook_url: str | None = Field(
        None,
        description="The URL this integrator registered for MISA's result webhook (guide 1.2, "
        "3.8): the sandbox POSTs there when one of its requests is approved, rejected, "
        "failed or expires.",
    )


class VnptClientConfig(_Model):
    """An integrator's VNPT sp_id / sp_password pair."""

    sp_id: str
    sp_password: str


class MySignClientConfig(_Model):
    """An integrator's Viettel MySign client: what Viettel issued to it (client id, secret,
    RAS profile) and, for callbacks (``async`` = 3), what the integrator registered with
    Viettel: its auth and result URLs and the client id / secret it issued to Viettel."""

    client_id: str
    client_secret: str
    profile_id: str = "adss:ras:profile:001"
    callback_auth_url: str | None = None
    callback_result_url: str | None = None
    callback_client_id: str = ""
    callback_client_secret: str = ""
    callback_method: Literal["GET", "POST"] = Field(
        "GET",
        description="The method of both callback calls: the document prints GET (with a "
        "JSON body); POST for receivers that take no body on GET.",
    )


class Ca2ClientConfig(_Model):
    """An integrator's CA2 RemoteSigning sp_id / sp_password pair."""

    sp_id: str
    sp_password: str


class ClientsConfig(_Model):
    """Integrator credentials the provider accepts."""

    misa: list[MisaClientConfig] = Field(default_factory=list)
    vnpt: list[VnptClientConfig] = Field(default_factory=list)
    mysign: list[MySignClientConfig] = Field(default_factory=list)
    ca2: list[Ca2ClientConfig] = Field(default_factory=list)


class CertificateSpec(_Model):
    """A certificate of an account, issued from the test PKI when the app starts."""

    pki_name: str = Field(description="Name in the test PKI (letters, digits, - and _).")
    tax_code: str = Field(description="MST carried as UID=MST:<tax code> in the subject.")
    unit_name: str = Field(description="The unit's name (subject CN).")
    ca: Literal["misa", "vnpt", "mysign", "ca2", "token"] = "misa"
    variant: Literal["valid", "expired", "not_yet_valid", "revoked"] = "valid"
    key_status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE"
    alias: str | None = Field(None, description="Provider alias (default: the pki name).")


class AccountConfig(_Model):
    """A signer's account: MISA user name + password, a VNPT / CA2 user id (ID / tax code), or
    a Viettel MySign user id (``MST_<tax code>``)."""

    username: str = Field(validation_alias=AliasChoices("username", "user_id"))
    password: str = ""
    two_factor_code: str | None = None
    provider: Literal["misa", "vnpt", "mysign", "ca2"] = "misa"
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
        description="The next N sign requests (MISA, VNPT or CA2) create the transaction (the "
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
