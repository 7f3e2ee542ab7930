"""Configuration of the sandbox gateway: keys, trust, pre-registered units, timing,
scripted outcomes and faults.

Example:
    >>> GatewayConfig(
    ...     api_keys=["test-key"],
    ...     units=[UnitConfig(unit_code="TZ1234A", tax_code="0101234567", name="ACME",
    ...                       agency_code="07906", certificate="acme-token")],
    ...     outcomes=OutcomesConfig(by_dossier={"d-2": "rejected"}),
    ... )  # doctest: +ELLIPSIS
    GatewayConfig(...)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "FaultsConfig",
    "GatewayConfig",
    "LoseResponseConfig",
    "Outcome",
    "OutcomesConfig",
    "PaymentConfig",
    "RegistrationState",
    "TrustConfig",
    "UnitConfig",
]

Outcome = Literal["accepted", "rejected_at_receipt", "rejected", "supplement"]
RegistrationState = Literal["registered", "change_pending", "stopped", "unknown"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrustConfig(_Model):
    """Which test-PKI authorities the gateway trusts (the root is always the PKI's root)."""

    intermediates: list[str] | None = Field(
        None, description="CA names (misa, vnpt, token) to trust; None trusts every one."
    )
    check_revocation: bool = Field(True, description="Consult the CAs' CRLs.")
    max_signing_age_days: float = Field(
        30.0,
        gt=0,
        description="A SigningTime older than this (or in the future) is refused: it is "
        "not covered by the signature, so it is only believed within this window, and the "
        "certificate is judged at receipt whatever time it claims.",
    )
    require_signed_pdf: bool = Field(
        True,
        description="Refuse an envelope whose .pdf attachment (CT-DK) is not signed by the "
        "unit over the whole file (sandbox/gateway/pdf_check.py), as the flows sign every "
        "PDF attachment in round 1. False plays a carrier that takes unsigned PDFs.",
    )


class PaymentConfig(_Model):
    """A transfer a unit made to VSS (the portal's payment history, code 514: ``soUnc``,
    ``ngayNop``, ``soTien``); it shows on the C12-TS notice of the month of ``ngayNop``."""

    soUnc: str = Field(min_length=1, max_length=30, description="The bank order's number.")
    ngayNop: str = Field(
        pattern=r"^\d{2}/\d{2}/\d{4}$", description="The day it was paid, dd/MM/yyyy."
    )
    soTien: int = Field(gt=0, description="The amount, whole VND.")


class UnitConfig(_Model):
    """A unit VSS already knows (registered before this sandbox started)."""

    unit_code: str  # MaSoBHXH
    tax_code: str  # MaSoThue
    name: str
    agency_code: str = "07906"  # CoQuanQuanLy
    certificate: str | None = Field(
        None, description="Name of the registered certificate in the test PKI."
    )
    certificate_ca: Literal["misa", "vnpt", "token"] = Field(
        "token",
        description="If the certificate does not exist yet, issue it from this CA "
        "(default: a USB-token certificate, as before remote signing).",
    )
    state: RegistrationState = "registered"
    ivan_code: str = Field(
        "00110", description="The I-VAN the unit is registered with (MaIVAN); MISA by default."
    )
    payments: list[PaymentConfig] = Field(
        default_factory=list,
        description="Transfers the unit made (for its C12-TS notices: line C).",
    )


class OutcomesConfig(_Model):
    """Scripted results: per dossier id first, then per unit, then the default."""

    by_dossier: dict[str, Outcome] = Field(default_factory=dict)
    by_unit: dict[str, Outcome] = Field(default_factory=dict)
    default: Outcome = "accepted"

    def for_dossier(self, dossier_id: str, unit_code: str) -> Outcome:
        return self.by_dossier.get(dossier_id) or self.by_unit.get(unit_code) or self.default


class LoseResponseConfig(_Model):
    """Record a submission, then lose the answer (the client cannot know it was recorded)."""

    count: int = Field(0, ge=0, description="The first N first-time submissions lose it.")
    dossier_ids: list[str] = Field(default_factory=list, description="These (first time) too.")
    mode: Literal["drop", "502"] = Field(
        "drop", description="drop: the connection breaks mid-answer; 502: a bare 502."
    )


class FaultsConfig(_Model):
    """Faults on request, for resilience tests."""

    burst_503: int = Field(0, ge=0, description="The first N API requests answer 503.")
    rate_503: float = Field(0.0, ge=0, le=1, description="Then this fraction answers 503.")
    slow_seconds: float = Field(0.0, ge=0, description="Delay before every API answer.")
    lose_response_after_record: LoseResponseConfig = Field(default_factory=LoseResponseConfig)
    seed: int = 0


class GatewayConfig(_Model):
    """Everything the sandbox gateway needs besides the test PKI and the audit log."""

    api_keys: list[SecretStr] = Field(default_factory=list, description="Accepted bearer keys.")
    trust: TrustConfig = Field(default_factory=TrustConfig)
    units: list[UnitConfig] = Field(default_factory=list)
    result_delay_seconds: float = Field(
        0.0, ge=0, description="Receipt -> outcome (numbering happens on the way)."
    )
    numbering_delay_seconds: float | None = Field(
        None, ge=0, description="Receipt -> soHoSo; None: at the outcome."
    )
    change_delay_seconds: float = Field(
        0.0, ge=0, description="How long an accepted 05 stays change_pending."
    )
    promised_working_days: int = Field(5, ge=0, description="Ngayhentra = receipt + N days.")
    outcomes: OutcomesConfig = Field(default_factory=OutcomesConfig)
    faults: FaultsConfig = Field(default_factory=FaultsConfig)
    max_bytes: int = Field(20 * 1024 * 1024, gt=0, description="Largest document accepted.")
    max_depth: int = Field(64, gt=0)
    idempotency_keys: bool = Field(
        True,
        description="Take the dossier id as an idempotency key (the contract's default). "
        "False plays a carrier that takes none: the same dossier sent twice is received "
        "twice, and a lost answer can only be resolved by a lookup by natural key.",
    )
    notice_read: bool = Field(
        True,
        description="Offer GET /units/{unit}/notices/c12/{MM-YYYY}: the unit's C12-TS "
        "contribution notice, computed from the accepted D02-TS and the unit's payments.",
    )
    interest_rate_percent: float = Field(
        0.0,
        ge=0,
        description="Monthly interest on an under-payment carried over (B.5.2, in %); "
        "0: none (our choice for the sandbox).",
    )
    registration_read: bool = Field(
        True,
        description="Offer GET /units/{unit}/registration. False plays the known carriers, "
        "which do not tell a unit's software what VSS has on file.",
    )
