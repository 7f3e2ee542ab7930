"""Vendor-neutral values: certificates, items to sign, transactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = ["Certificate", "SignItem", "Transaction", "TxStatus", "certificate_from_der"]

_MAX_DOCUMENT_ID = 36
_MAX_NAME = 100


@dataclass(frozen=True)
class Certificate:
    """A signing certificate as listed by a provider, normalised.

    ``serial`` is upper-case hex without separators, from the DER (the flows compare it);
    ``subject`` is RFC 4514; ``mst`` is the tax code from the subject's ``UID=MST:...``
    attribute; ``chain`` holds the DER of the issuing CA(s) above ``der``. ``alias`` and
    ``wire_serial`` are the provider's own identifiers exactly as it listed them (MISA
    ``keyAlias``; VNPT ``cert_id`` and ``serial_number``, lower-case hex in every VNPT
    sample): a request that names the certificate sends them back byte for byte.
    ``wire_serial`` is empty when the provider listed no serial.
    """

    provider: str
    alias: str
    serial: str
    subject: str
    mst: str | None
    not_before: dt.datetime
    not_after: dt.datetime
    status: str
    der: bytes = field(repr=False)
    chain: tuple[bytes, ...] = field(default=(), repr=False)
    wire_serial: str = ""

    def is_usable(self, at: dt.datetime | None = None) -> bool:
        """Active and within its validity at ``at`` (default now)."""
        at = at or dt.datetime.now(dt.UTC)
        return self.status == "active" and self.not_before <= at <= self.not_after

    @property
    def common_name(self) -> str:
        cert = x509.load_der_x509_certificate(self.der)
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names:
            return ""
        value = names[0].value
        return value if isinstance(value, str) else value.decode()

    @property
    def issuer_name(self) -> str:
        """The issuer's common name (the CA), or "" when the certificate cannot be read."""
        try:
            cert = x509.load_der_x509_certificate(self.der)
        except ValueError:
            return ""
        names = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names:
            return cert.issuer.rfc4514_string()
        value = names[0].value
        return value if isinstance(value, str) else value.decode()

    def describe(self) -> str:
        """One line for people, read inside Vietnamese sentences: alias, serial, subject
        CN, validity (dd/mm/yyyy), the provider's status word as it gave it."""
        return (
            f"{self.alias} (sê-ri / serial {self.serial}, {self.common_name}, "
            f"MST {self.mst or '-'}, hiệu lực / valid {self.not_before:%d/%m/%Y} - "
            f"{self.not_after:%d/%m/%Y}, trạng thái / status {self.status})"
        )


def certificate_from_der(
    provider: str,
    alias: str,
    der: bytes,
    status: str,
    chain: Sequence[bytes] = (),
    *,
    wire_serial: str = "",
) -> Certificate:
    """Build a :class:`Certificate` from DER; identity and validity come from the DER itself.

    ``wire_serial`` is the serial as the provider wrote it (kept as is, never normalised).
    """
    cert = x509.load_der_x509_certificate(der)
    mst: str | None = None
    for attr in cert.subject.get_attributes_for_oid(NameOID.USER_ID):
        value = attr.value if isinstance(attr.value, str) else attr.value.decode()
        if value.startswith("MST:"):
            mst = value[4:]
    return Certificate(
        provider=provider,
        alias=alias,
        serial=format(cert.serial_number, "X"),
        subject=cert.subject.rfc4514_string(),
        mst=mst,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        status=status,
        der=der,
        chain=tuple(chain),
        wire_serial=wire_serial,
    )


@dataclass(frozen=True)
class SignItem:
    """One digest to sign: document id (<= 36 chars), display name (<= 100), SHA-256 digest,
    and what it is the digest of: ``kind`` ``"xml"`` (an XMLDSig SignedInfo) or ``"pdf"``
    (a PDF's signed attributes); a wire that names the file type says it (CA2)."""

    document_id: str
    name: str
    digest: bytes = field(repr=False)
    kind: str = "xml"

    def __post_init__(self) -> None:
        if not self.document_id or len(self.document_id) > _MAX_DOCUMENT_ID:
            raise ValueError(
                f"SignItem.document_id {self.document_id!r}: 1 to {_MAX_DOCUMENT_ID} characters"
            )
        if not self.name or len(self.name) > _MAX_NAME:
            raise ValueError(
                f"SignItem.name for document {self.document_id!r}: 1 to {_MAX_NAME} characters"
            )
        if not isinstance(self.digest, bytes) or len(self.digest) != 32:
            raise ValueError(
                f"SignItem.digest for document {self.document_id!r}: 32 bytes (SHA-256) expected"
            )
        if self.kind not in ("xml", "pdf"):
            raise ValueError(f"SignItem.kind for document {self.document_id!r}: xml or pdf")


class TxStatus(StrEnum):
    """Normalised transaction status."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self is not TxStatus.PENDING


@dataclass(frozen=True)
class Transaction:
    """A signing transaction, normalised. ``signatures`` maps document id -> raw RSA bytes.

    ``ask_again`` is False when the outcome is one a new request cannot change before a
    person acts (MySign 4005, out of signing quota; 13004, certificate expired or
    revoked): the flows then end the unit with ``message`` instead of asking the phone
    again.
    """

    id: str
    provider: str
    status: TxStatus
    signatures: dict[str, bytes] = field(default_factory=dict, repr=False)
    error_code: str | None = None
    message: str | None = None
    expires_at: dt.datetime | None = None
    ask_again: bool = True
