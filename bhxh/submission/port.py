"""The submission port and its vocabulary: how a signed dossier is handed to the unit's
I-VAN, and what comes back.

What reaches VSS, and how: there is no public wire between a unit's software and VSS. An
I-VAN (a licensed carrier, see ``bhxh.catalogue.IVANS``) carries dossiers to VSS under its
own contract with VSS, and the VSS portal's API is a captcha-guarded web app, not a
submission interface. This module is therefore the *port* a carrier adapter plugs into:

* ``GatewayAdapter`` (``bhxh.submission.gateway``), the reference adapter, speaks the
  project's JSON contract (``GatewayClient``; the sandbox gateway plays a carrier and VSS
  behind it). An I-VAN that offers an API is reached by writing an adapter like it.
* ``ExportAdapter`` (``bhxh.submission.export``), the route that works today for an
  accountant who uses an I-VAN's own software: the signed envelope (or form) and its
  signed declarations are written to an export location with a manifest; the dossier
  becomes ``exported``, and its receipt comes back from a person (a paused run's form)
  or a receipts file.

Adapters declare what their carrier offers (:class:`Capabilities`), and the pipeline acts
on it: without an idempotency key, a lost answer is resolved by looking the dossier up by
its natural key (unit, procedure, period, content hash) before any second send; without a
registration read, the unit's registration is tracked locally from its 04/05/06 dossiers
(``bhxh.overview.local_registration``).

Every adapter passes the conformance kit (``bhxh.submission.conformance.SubmissionPortSuite``).

This module owns the vocabulary every adapter speaks (statuses, receipts, registrations,
refusals); adapters import it, never the other way round. It imports only the base layer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from bhxh.errors import SubmissionError

__all__ = [
    "FINAL_STATUSES",
    "REGISTRATION_STATES",
    "Acknowledgement",
    "C12Document",
    "Capabilities",
    "DossierKind",
    "DossierNotFound",
    "DossierStatus",
    "Handover",
    "NaturalKey",
    "NoticeReader",
    "RegisteredCertificate",
    "Registration",
    "RegistrationUnavailable",
    "Submission",
    "SubmissionPort",
    "SubmissionRefused",
    "UnknownOutcome",
]

#: What a dossier is to a carrier: a business dossier's envelope or a 04/05/06 form.
DossierKind = Literal["envelope", "registration"]
#: Statuses after which a dossier does not change any more.
FINAL_STATUSES = frozenset({"accepted", "rejected_at_receipt", "rejected", "supplement_requested"})
#: A unit's registration states; ``unknown`` is a normal state (nothing read or tracked yet).
REGISTRATION_STATES = ("registered", "change_pending", "stopped", "unknown")


# ------------------------------------------------------------------------------ refusals
class SubmissionRefused(SubmissionError, ValueError):
    """The carrier refused the dossier at receipt (the gateway's 422): ``code`` and its
    exact ``message``."""

    def __init__(self, code: str, message: str, dossier_id: str) -> None:
        super().__init__(f"dossier {dossier_id} refused by the gateway ({code}): {message}")
        self.code = code
        self.message = message
        self.dossier_id = dossier_id


class UnknownOutcome(SubmissionError, ConnectionError):
    """A submission may or may not have been recorded, and the gateway cannot tell yet.

    Retrying later with the same dossier id and bytes is safe.
    """

    def __init__(self, message: str, dossier_id: str) -> None:
        super().__init__(message)
        self.dossier_id = dossier_id


class DossierNotFound(SubmissionError, LookupError):
    """The carrier never received this dossier id."""


# ------------------------------------------------------------------------------ values
@dataclass(frozen=True)
class Acknowledgement:
    """The gateway's receipt of a submission.

    ``duplicate`` is true when the gateway had already received this dossier (a retry, or
    a receipt recovered through a status read after a lost answer).
    """

    transaction_id: str
    dossier_id: str
    received_at: dt.datetime
    duplicate: bool


@dataclass(frozen=True)
class DossierStatus:
    """Where a dossier stands: ``soHoSo`` (``so_ho_so``), ``dot``, dates, outcome."""

    dossier_id: str
    status: str
    so_ho_so: str | None
    dot: int | None
    promised_date: dt.date | None
    completed_date: dt.date | None
    outcome: str | None
    messages: tuple[str, ...]
    transaction_id: str
    received_at: dt.datetime

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class RegisteredCertificate:
    """The certificate VSS has on file for a unit."""

    serial: str  # hexadecimal, upper case
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime


@dataclass(frozen=True)
class Registration:
    """A unit's e-transaction registration: registered / change_pending / stopped / unknown.

    ``source`` says who knows: ``carrier`` (read from the carrier) or ``local`` (tracked
    from the unit's own 04/05/06 dossiers, see ``bhxh.overview.local_registration``);
    ``pending_serial`` is the certificate a 04/05 not yet answered names (local tracking only).
    """

    unit_code: str
    state: str
    tax_code: str | None
    certificate: RegisteredCertificate | None
    source: str = "carrier"
    pending_serial: str | None = None

    @property
    def serial(self) -> str | None:
        """The registered certificate's serial, upper-case hex, if known."""
        return self.certificate.serial.upper() if self.certificate else None


# ------------------------------------------------------------------------------ the port
class RegistrationUnavailable(SubmissionError, NotImplementedError):
    """The carrier cannot tell what VSS has on file for a unit (no registration read)."""


@dataclass(frozen=True)
class Capabilities:
    """What a carrier offers, as its adapter declares it.

    Attributes:
        idempotency_key: the carrier takes our dossier id as an idempotency key: sending
            the same dossier again returns the first receipt, never a second submission.
        registration_read: the carrier can read which certificate VSS has on file for a
            unit (and whether the unit is registered, changing or stopped).
        numbers_receipts: the carrier reports the receipt (``soHoSo``, ``dot``) and the
            outcome itself (a status read); otherwise a person or a receipts file does.
        notice_read: the carrier hands over the unit's C12-TS contribution notice of a
            period (:class:`NoticeReader`); otherwise a person drops the portal's answer as
            a file (the export route reads it from the unit's ``c12/`` folder).
    """

    idempotency_key: bool
    registration_read: bool
    numbers_receipts: bool
    notice_read: bool = False


@dataclass(frozen=True)
class NaturalKey:
    """What identifies a dossier to any carrier, whatever its own ids."""

    unit_code: str
    procedure: str
    period: str  # MM/yyyy
    sha256: str  # of the signed envelope or form

    def matches(self, other: NaturalKey) -> bool:
        return self == other


@dataclass(frozen=True)
class Submission:
    """A signed dossier, ready to hand over."""

    dossier_id: str
    unit_code: str
    procedure: str
    period: str
    kind: DossierKind
    filename: str  # BHXHDienTu.xml, or the 04/05/06 form's file
    content: bytes = field(repr=False)
    declarations: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    approvals: tuple[str, ...] = ()  # the signing transaction ids, round 1 then round 2

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def natural_key(self) -> NaturalKey:
        return NaturalKey(self.unit_code, self.procedure, self.period, self.sha256)


@dataclass(frozen=True)
class Handover:
    """The carrier took the dossier: how, under which id, and when."""

    route: str  # the carrier's registered name (``gateway``, ``export``, ...)
    state: Literal["submitted", "exported"]
    transaction_id: str  # the carrier's id (gateway) or the manifest's path (export)
    received_at: str  # ISO 8601
    duplicate: bool
    location: str = ""  # export: where the files are


@dataclass(frozen=True)
class C12Document:
    """A unit's C12-TS notice of a period (Thông báo kết quả đóng BHXH, BHYT, BHTN,
    BHTNLĐ-BNN) as it reached us, before it is read into the model
    (``bhxh.contributions``).

    ``data`` has the VSS portal's shape (its answer to code 137, as the public
    ``finizi-app/bhxh-proxy-worker`` documents it): ``maCqBhxh``, ``tenCqBhxh`` and the
    rows ``c12s`` (``stt``, ``noiDung``, ``bhxh``, ``bhyt``, ``bhtn``, ``bhtnld``,
    ``cong``), amounts as the portal writes them (strings of digits). A workbook dropped by
    a person is checked cell by cell and handed over in the same shape.

    Attributes:
        unit_code: the unit (MaSoBHXH).
        period: the notice's month, ``MM/yyyy``.
        data: the portal's answer.
        origin: ``carrier`` (read from the carrier) or ``file`` (a file a person dropped).
        source: where it came from, for people: the carrier's name or the file's path.
    """

    unit_code: str
    period: str
    data: Mapping[str, Any] = field(repr=False)
    origin: Literal["carrier", "file"]
    source: str


@runtime_checkable
class NoticeReader(Protocol):
    """A carrier adapter that can hand over a unit's C12-TS notice (an addition to the
    port: an adapter without it is still a port; the flows then have no notice to read).

    ``contribution_notice`` returns None while there is no notice for the period (the
    carrier has none yet, or nobody dropped the file).
    """

    async def contribution_notice(self, unit_code: str, period: str) -> C12Document | None: ...


@runtime_checkable
class SubmissionPort(Protocol):
    """What the pipeline and the flows need of a carrier adapter.

    ``status`` returns None while the carrier has no news of the dossier (an export whose
    receipt nobody entered yet); ``find`` returns None when the carrier never received it.
    ``registration`` raises :class:`RegistrationUnavailable` unless the capabilities say
    ``registration_read``.
    """

    name: str
    capabilities: Capabilities

    async def submit(self, submission: Submission) -> Handover: ...

    async def find(self, key: NaturalKey, dossier_id: str) -> Handover | None: ...

    async def status(self, key: NaturalKey, dossier_id: str) -> DossierStatus | None: ...

    async def registration(self, unit_code: str) -> Registration: ...

    async def aclose(self) -> None: ...
