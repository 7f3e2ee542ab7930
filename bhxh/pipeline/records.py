"""The typed payloads of the journal's steps: what a step wrote, read back as values (the
flows and the overview read these, never raw journal keys)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Acknowledged",
    "Failure",
    "Prepared",
    "PreparedItem",
    "Signed",
    "SigningRequest",
    "VssStatus",
]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class PreparedItem:
    """One document of a round: what the provider signs and where the template is.

    ``kind`` is ``xml`` (a declaration, envelope or form: an XMLDSig template) or ``pdf``
    (a PDF attachment signed in round 1; ``pdf_state`` is what ``bhxh.signing`` needs to
    finish it after the approval, the prepared PDF itself is the template file).
    """

    document_id: str  # <= 36 characters, unique in the transaction
    name: str  # shown on the phone, <= 100 characters
    file: str  # the file's name; its template is at Layout.prepared(round, file)
    digest: bytes  # SHA-256 to sign (RSA PKCS#1 v1.5)
    kind: str = "xml"
    pdf_state: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    template_sha256: str = ""  # of the XML template as written: apply's quick check

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "document_id": self.document_id,
            "name": self.name,
            "file": self.file,
            "digest": _b64(self.digest),
        }
        if self.template_sha256:
            data["template_sha256"] = self.template_sha256
        if self.kind != "xml":
            data["kind"] = self.kind
            data["pdf_state"] = dict(self.pdf_state or {})
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PreparedItem:
        return cls(
            data["document_id"],
            data["name"],
            data["file"],
            base64.b64decode(data["digest"]),
            str(data.get("kind", "xml")),
            data.get("pdf_state"),
            str(data.get("template_sha256", "")),
        )


@dataclass(frozen=True)
class Prepared:
    """A prepared round: the certificate the templates name, and the documents."""

    certificate_serial: str
    items: tuple[PreparedItem, ...]

    def to_data(self) -> dict[str, Any]:
        return {
            "certificate_serial": self.certificate_serial,
            "items": [i.to_data() for i in self.items],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Prepared:
        return cls(
            str(data.get("certificate_serial", "")),
            tuple(PreparedItem.from_data(i) for i in data["items"]),
        )


@dataclass(frozen=True)
class SigningRequest:
    """A round's signing transaction as journalled (``transaction_id`` None: not answered
    yet: journalled before the send, or the run stopped before the answer was).

    ``void``: references of earlier requests this one replaces, void (never used, though
    they may be on the phone), shown on the phone with it; kept so that a run that stops
    before this request is answered announces them again.
    """

    client_transaction_id: str
    transaction_id: str | None
    expires_at: dt.datetime | None
    dossiers: tuple[str, ...]  # every dossier the one request covers
    void: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "client_transaction_id": self.client_transaction_id,
            "transaction_id": self.transaction_id,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "dossiers": list(self.dossiers),
        }
        if self.void:
            data["void"] = list(self.void)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any], dossier_id: str) -> SigningRequest:
        expires = data.get("expires_at")
        return cls(
            str(data.get("client_transaction_id", "")),
            data.get("transaction_id") or None,
            dt.datetime.fromisoformat(expires) if expires else None,
            tuple(data.get("dossiers") or (dossier_id,)),
            tuple(str(r) for r in data.get("void") or ()),
        )


@dataclass(frozen=True)
class Signed:
    """A round applied: the transaction that signed it and the final files."""

    transaction_id: str
    files: tuple[str, ...]

    def to_data(self) -> dict[str, Any]:
        return {"transaction_id": self.transaction_id, "files": list(self.files)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Signed:
        return cls(str(data.get("transaction_id", "")), tuple(data.get("files") or ()))


@dataclass(frozen=True)
class Acknowledged:
    """How the dossier was handed over: the carrier's acknowledgement, or the export.

    ``route`` is ``gateway`` (a carrier took it: journal step ``submitted``) or ``export``
    (written out for the I-VAN's software: ``exported``); ``gateway_transaction_id`` is
    the carrier's id, or the export manifest's path.
    """

    gateway_transaction_id: str
    received_at: str
    duplicate: bool
    route: str = "gateway"
    location: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "gateway_transaction_id": self.gateway_transaction_id,
            "received_at": self.received_at,
            "duplicate": self.duplicate,
            "route": self.route,
            "location": self.location,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Acknowledged:
        return cls(
            str(data.get("gateway_transaction_id", "")),
            str(data.get("received_at", "")),
            bool(data.get("duplicate", False)),
            str(data.get("route", "gateway")),
            str(data.get("location", "")),
        )


@dataclass(frozen=True)
class VssStatus:
    """What VSS says of a submitted dossier: receipt (``soHoSo``, ``dot``) and outcome."""

    status: str
    so_ho_so: str | None = None
    dot: int | None = None
    promised_date: str | None = None  # ISO date
    outcome: str | None = None
    messages: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "so_ho_so": self.so_ho_so,
            "dot": self.dot,
            "promised_date": self.promised_date,
            "outcome": self.outcome,
            "messages": list(self.messages),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> VssStatus:
        return cls(
            str(data.get("status", "")),
            data.get("so_ho_so"),
            data.get("dot"),
            data.get("promised_date"),
            data.get("outcome"),
            tuple(data.get("messages") or ()),
        )


@dataclass(frozen=True)
class Failure:
    """Why a dossier stopped (a refusal at receipt, say): the carrier's code and words."""

    message: str
    code: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Failure:
        return cls(str(data.get("message", "")), data.get("code"))
