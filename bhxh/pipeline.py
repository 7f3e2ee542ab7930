"""The dossier pipeline: every journal-aware step of a dossier, typed, and the layout.

Plain Python (no Prefect). The Prefect tasks are thin wrappers over these methods, and the
bare benchmark baseline calls them directly, so both run the same steps. Two things live
here and nowhere else:

* **The layout** of a dossier's folder in the store (:class:`Layout`): which file each step
  reads and writes. Nothing outside this module builds a path inside a dossier folder.
* **The step payloads** (:class:`Prepared`, :class:`SigningRequest`, :class:`Signed`,
  :class:`Acknowledged`, :class:`VssStatus`, :class:`Failure`): what each journal entry
  holds, written and read through these types only. Callers read a dossier through
  :class:`DossierView`, never through raw step data or folders.

A business dossier (600, 602, 630...) goes through two signing rounds: round 1 signs every
declaration; the envelope ``BHXHDienTu.xml`` embeds the *signed* declarations and is
signed in round 2. A 04/05/06 form is its own envelope: round 2 only. Per round::

    prepare_round -> record_request (before the call) -> [provider: request, approval]
    -> record_request (with the provider's id) -> apply_round

then ``build_envelopes`` between the rounds, and ``submit`` after round 2 (``submitting`` is
journalled before the carrier is called, ``submitted`` after its answer). Every step reads
the journal first and does nothing it already did, so a re-run after a crash continues
where the last one stopped: a prepared round is not prepared again (same certificate), an
applied round is not applied again, a submitted dossier is not submitted again.

Example:
    >>> pipeline = Pipeline(DossierStore(), Path("var/outbox"))  # doctest: +SKIP
    >>> views = pipeline.load(unit, "01/2026", Path("var/inbox"))
    >>> items = pipeline.prepare_round(views, 1, certificate_der)
    >>> pipeline.record_request(views, 1, "TZ-r1-ab12", None, None)
    >>> ...  # send the digests of ``items`` to the provider, wait for the phone
    >>> pipeline.apply_round(views, 1, tx_id, signatures, certificate_der)
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography import x509

from bhxh.catalogue import ATTACHMENT_FORM, get_procedure
from bhxh.envelope import build_envelope
from bhxh.errors import DossierInvalid, StoreError
from bhxh.inbox import load_dossiers
from bhxh.models import Attachment, Declaration, Dossier, UnitInfo
from bhxh.outbox import write_outbox
from bhxh.pdfsign import (
    PreparedPdf,
    StampSpec,
    attachment_policy,
    finish_pdf_signature,
    prepare_pdf_signature,
)
from bhxh.signature import PreparedSignature, apply_signature, prepare_signature
from bhxh.store import DossierRecord, DossierStore, Step, StepRecord, StoredFile
from bhxh.submission import Handover, Submission, SubmissionPort, UnknownOutcome
from bhxh.validation import validate_dossier

__all__ = [
    "ROUND_STEPS",
    "Acknowledged",
    "DossierKey",
    "DossierView",
    "Failure",
    "Layout",
    "OpenRequest",
    "Pipeline",
    "Prepared",
    "PreparedItem",
    "Signed",
    "SigningRequest",
    "VssStatus",
    "certificate_serial",
]

Round = Literal[1, 2]

#: For each round: the (prepared, requested, signed) steps of the journal.
ROUND_STEPS: Mapping[int, tuple[Step, Step, Step]] = {
    1: (Step.PREPARED, Step.ROUND1_REQUESTED, Step.DECLARATIONS_SIGNED),
    2: (Step.ENVELOPE_PREPARED, Step.ROUND2_REQUESTED, Step.SIGNED),
}

ENVELOPE_FILE = "BHXHDienTu.xml"

log = logging.getLogger("bhxh.pipeline")


def _no_checkpoint(step: str) -> None:
    """The default checkpoint: nothing (tests pass a crash hook)."""


#: Told of every journal step written: (the dossier as it is now, the step). The Prefect
#: layer turns these into events; an observer's failure never stops the pipeline.
Observer = Callable[["DossierView", Step], None]


# ------------------------------------------------------------------------------ layout
class Layout:
    """Where each file of a dossier lives inside its store folder.

    ::

        source/<declaration>          the declarations as loaded (bytes never changed)
        attachments/<file>            the attachments as loaded
        prepared/r1/<declaration>     round 1 templates (empty SignatureValue)
        prepared/r1/<attachment>.pdf  round 1 PDFs with their reserved signature region
        signed/<declaration>          signed declarations (final bytes)
        signed/<attachment>.pdf       signed PDF attachments (final bytes)
        envelope/BHXHDienTu.xml       the envelope built from the signed declarations
        prepared/r2/<file>            round 2 template: the envelope or the 04/05/06 form
        final/<file>                  the signed envelope or form (final bytes, submitted)
    """

    @staticmethod
    def source(file: StoredFile) -> str:
        folder = "source" if file.kind == "declaration" else "attachments"
        return f"{folder}/{file.filename}"

    @staticmethod
    def prepared(round_no: int, filename: str) -> str:
        return f"prepared/r{round_no}/{filename}"

    @staticmethod
    def signed_declaration(filename: str) -> str:
        return f"signed/{filename}"

    @staticmethod
    def signed_attachment(filename: str) -> str:
        """A PDF attachment signed in round 1 (beside the signed declarations: the
        envelope refuses two files of one name, so they never collide)."""
        return f"signed/{filename}"

    ENVELOPE = f"envelope/{ENVELOPE_FILE}"

    @staticmethod
    def final(filename: str) -> str:
        return f"final/{filename}"


# ------------------------------------------------------------------------------ payloads
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class PreparedItem:
    """One document of a round: what the provider signs and where the template is.

    ``kind`` is ``xml`` (a declaration, envelope or form: an XMLDSig template) or ``pdf``
    (a PDF attachment signed in round 1; ``pdf_state`` is what ``bhxh.pdfsign`` needs to
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
    """A round's signing transaction as journalled (``transaction_id`` None: not sent yet)."""

    client_transaction_id: str
    transaction_id: str | None
    expires_at: dt.datetime | None
    dossiers: tuple[str, ...]  # every dossier the one request covers

    def to_data(self) -> dict[str, Any]:
        return {
            "client_transaction_id": self.client_transaction_id,
            "transaction_id": self.transaction_id,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "dossiers": list(self.dossiers),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any], dossier_id: str) -> SigningRequest:
        expires = data.get("expires_at")
        return cls(
            str(data.get("client_transaction_id", "")),
            data.get("transaction_id") or None,
            dt.datetime.fromisoformat(expires) if expires else None,
            tuple(data.get("dossiers") or (dossier_id,)),
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


# ------------------------------------------------------------------------------ views
@dataclass(frozen=True)
class DossierKey:
    """Which dossier: enough to find it in the store."""

    id: str
    unit_code: str
    period: str


@dataclass(frozen=True)
class DossierView:
    """A dossier as the flows see it: identity and typed state, read from its journal."""

    record: DossierRecord

    @property
    def key(self) -> DossierKey:
        return DossierKey(self.record.id, self.record.unit_code, self.record.period)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def unit_code(self) -> str:
        return self.record.unit_code

    @property
    def period(self) -> str:
        return self.record.period

    @property
    def procedure(self) -> str:
        return self.record.procedure

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def state(self) -> Step:
        return self.record.state

    @property
    def is_registration(self) -> bool:
        """A 04/05/06 form (the catalogue says so): its own envelope, one round."""
        return get_procedure(self.record.procedure).kind == "registration"

    @property
    def rounds(self) -> tuple[Round, ...]:
        """The signing rounds this dossier goes through: (2,) for a form, (1, 2) otherwise."""
        return (2,) if self.is_registration else (1, 2)

    @property
    def approvals_needed(self) -> int:
        """Phone approvals when signed alone: 1 for a 04/05/06 form, 2 otherwise."""
        return len(self.rounds)

    def prepared(self, round_no: int) -> Prepared | None:
        entry = self.record.last(ROUND_STEPS[round_no][0])
        return Prepared.from_data(entry.data) if entry else None

    def request(self, round_no: int) -> SigningRequest | None:
        entry = self.record.last(ROUND_STEPS[round_no][1])
        return SigningRequest.from_data(entry.data, self.id) if entry else None

    def signed(self, round_no: int) -> Signed | None:
        entry = self.record.last(ROUND_STEPS[round_no][2])
        return Signed.from_data(entry.data) if entry else None

    def is_signed(self, round_no: int) -> bool:
        return self.record.has(ROUND_STEPS[round_no][2])

    @property
    def certificate_serial(self) -> str | None:
        """The certificate named by the latest prepared round (round 2 first)."""
        for round_no in (2, 1):
            prepared = self.prepared(round_no)
            if prepared is not None:
                return prepared.certificate_serial or None
        return None

    @property
    def acknowledgement(self) -> Acknowledged | None:
        """The hand-over: a carrier's acknowledgement, or the export."""
        entry = self.record.last(Step.SUBMITTED) or self.record.last(Step.EXPORTED)
        return Acknowledged.from_data(entry.data) if entry else None

    @property
    def submitted(self) -> bool:
        """A carrier acknowledged it (the gateway route)."""
        return self.record.has(Step.SUBMITTED)

    @property
    def exported(self) -> bool:
        """Written out for the unit's I-VAN software (the export route)."""
        return self.record.has(Step.EXPORTED)

    @property
    def handed_over(self) -> bool:
        """Submitted or exported: nothing more for a signing run to send."""
        return self.submitted or self.exported

    @property
    def route(self) -> str | None:
        ack = self.acknowledgement
        return ack.route if ack else None

    @property
    def receipt(self) -> VssStatus | None:
        entry = self.record.last(Step.RECEIPT)
        return VssStatus.from_data(entry.data) if entry else None

    @property
    def result(self) -> VssStatus | None:
        entry = self.record.last(Step.RESULT)
        return VssStatus.from_data(entry.data) if entry else None

    @property
    def failure(self) -> Failure | None:
        entry = self.record.last(Step.FAILED)
        return Failure.from_data(entry.data) if entry else None

    @property
    def done(self) -> bool:
        """Nothing left for a signing run: handed over, or stopped with a failure."""
        return self.handed_over or self.failure is not None


@dataclass(frozen=True)
class OpenRequest:
    """A transaction an earlier run sent for this round and did not apply.

    ``pending`` are the dossiers still waiting for it; ``items`` every document the one
    request covered (the provider signs all of them, including documents of dossiers
    applied before a crash), in request order.
    """

    transaction_id: str
    expires_at: dt.datetime | None
    pending: tuple[DossierView, ...]
    items: tuple[PreparedItem, ...]


def certificate_serial(certificate_der: bytes) -> str:
    """The serial as the journal records it: upper-case hex, no separators."""
    return format(x509.load_der_x509_certificate(certificate_der).serial_number, "X")


def _display_name(view: DossierView, filename: str) -> str:
    return f"{view.procedure} {view.period} {view.unit_code} {filename}"[:100]


KeyLike = DossierKey | DossierView


def _key(item: KeyLike) -> DossierKey:
    return item.key if isinstance(item, DossierView) else item


# ------------------------------------------------------------------------------ pipeline
class Pipeline:
    """The steps of every dossier of one store, with an optional checkpoint hook.

    Args:
        store: the dossier store (the durable record).
        outbox_dir: where final files are also written for import into other software.
        checkpoint: called with a step name right after that step is journalled (the
            crash-point test hook; a no-op by default).
        observe: told of every journal step written (the dossier after it, the step).
    """

    def __init__(
        self,
        store: DossierStore,
        outbox_dir: Path,
        *,
        checkpoint: Callable[[str], None] = _no_checkpoint,
        observe: Observer | None = None,
    ) -> None:
        self.store = store
        self.outbox_dir = Path(outbox_dir)
        self.checkpoint = checkpoint
        self.observe = observe

    def _journal(self, record: DossierRecord, step: Step, **data: Any) -> DossierRecord:
        """Append a step to a dossier's journal, then tell the observer."""
        new = self.store.record(record, step, **data)
        if self.observe is not None:
            try:
                self.observe(DossierView(new), step)
            except Exception:  # an observer never stops the pipeline
                log.warning("observer failed for dossier %s, step %s", new.id, step, exc_info=True)
        return new

    # -------------------------------------------------------------- reading
    def view(self, key: KeyLike) -> DossierView:
        k = _key(key)
        return DossierView(self.store.get(k.unit_code, k.period, k.id))

    def views(self, unit_code: str, period: str) -> list[DossierView]:
        """Every dossier of a unit for a period, oldest first."""
        return [DossierView(r) for r in self.store.list(unit_code, period)]

    def unit_views(self, unit_code: str) -> list[DossierView]:
        """Every dossier of a unit, any period (the 04/05/06 forms included), oldest first."""
        return [DossierView(r) for r in self.store.list_unit(unit_code)]

    def read_file(self, key: KeyLike, relpath: str) -> bytes:
        view = self.view(key)
        return self.store.read_file(view.record, relpath)

    def final_file(self, key: KeyLike) -> tuple[str, bytes]:
        """The signed envelope or form (what is submitted): file name and bytes."""
        view = self.view(key)
        signed = view.signed(2)
        if signed is None or len(signed.files) != 1:
            raise StoreError(f"dossier {view.id}: not signed yet, nothing to submit")
        (filename,) = signed.files
        return filename, self.store.read_file(view.record, Layout.final(filename))

    def dossier(self, key: KeyLike, unit: UnitInfo) -> Dossier:
        """The dossier rebuilt from the files it was opened with."""
        view = self.view(key)
        rec = view.record
        if unit.code != rec.unit_code:
            raise StoreError(f"dossier {rec.id} belongs to unit {rec.unit_code}, not {unit.code}")
        files = [(f, self.store.read_file(rec, Layout.source(f))) for f in rec.files]
        return Dossier(
            unit=unit,
            period=rec.period,
            procedure=rec.procedure,
            name=rec.name,
            declarations=tuple(
                Declaration(f.form, f.filename, data)
                for f, data in files
                if f.kind == "declaration"
            ),
            attachments=tuple(
                Attachment(f.filename, data) for f, data in files if f.kind == "attachment"
            ),
        )

    # -------------------------------------------------------------- load
    def open(self, dossier: Dossier) -> DossierView:
        """Put a dossier in the store (idempotent: the same files give the same dossier)."""
        files: list[tuple[StoredFile, str, bytes]] = []
        for d in dossier.declarations:
            stored = StoredFile("declaration", d.form, d.filename, d.sha256)
            files.append((stored, Layout.source(stored), d.content))
        for a in dossier.attachments:
            stored = StoredFile(
                "attachment", ATTACHMENT_FORM, a.filename, hashlib.sha256(a.content).hexdigest()
            )
            files.append((stored, Layout.source(stored), a.content))
        rec = self.store.create(
            dossier.unit.code, dossier.period, dossier.procedure, dossier.name, files
        )
        return DossierView(rec)

    def load(self, unit: UnitInfo, period: str, inbox_dir: Path) -> list[DossierView]:
        """Read the period's dossiers from the inbox, validate them all, open them.

        Nothing is written when any dossier is invalid: the error lists every problem of
        every dossier. Dossiers of the period already in the store and not done (an earlier
        run's, or a 05 form made by setup) are returned too, so that a re-run continues
        them.

        Raises:
            DossierInvalid: one or more dossiers were refused (nothing was stored).
        """
        dossiers = load_dossiers(Path(inbox_dir), unit, period)
        problems: list[str] = []
        for dossier in dossiers:
            try:
                validate_dossier(dossier)
            except DossierInvalid as exc:
                problems.append(str(exc))
            for attachment in dossier.attachments:
                # Refused before any approval: not a PDF, encrypted, broken, too large...
                try:
                    attachment_policy(
                        attachment.filename,
                        attachment.content,
                        unit=unit.code,
                        dossier=dossier.name,
                    )
                except DossierInvalid as exc:
                    problems.append(str(exc))
        if problems:
            raise DossierInvalid(
                f"unit {unit.code}, period {period}: {len(problems)} dossier(s) refused, "
                "nothing was signed:\n- " + "\n- ".join(problems)
            )
        with self.store.batch():
            opened = {self.open(d).id for d in dossiers}
        return [v for v in self.views(unit.code, period) if v.id in opened or not v.done]

    def open_form(self, unit: UnitInfo, period: str, kind: str, form_xml: bytes) -> DossierView:
        """Put a 04/05/06 form in the store as a one-round dossier."""
        procedure = get_procedure(kind)
        if procedure.kind != "registration":
            raise DossierInvalid(f"unit {unit.code}: procedure {kind} is not a 04/05/06 form")
        form = next(iter(procedure.required_forms))
        return self.open(
            Dossier(
                unit=unit,
                period=period,
                procedure=kind,
                name=f"{kind}-{form}",
                declarations=(Declaration(form=form, filename=f"{form}.xml", content=form_xml),),
            )
        )

    # -------------------------------------------------------------- rounds
    def _round_sources(self, view: DossierView, round_no: int) -> list[tuple[str, bytes]]:
        rec = view.record
        if round_no == 1 or view.is_registration:
            return [
                (f.filename, self.store.read_file(rec, Layout.source(f)))
                for f in rec.files
                if f.kind == "declaration"
            ]
        return [(ENVELOPE_FILE, self.store.read_file(rec, Layout.ENVELOPE))]

    def _pdf_attachments(self, view: DossierView) -> list[StoredFile]:
        """The attachments signed in round 1 (the PDFs; others are embedded as they are)."""
        return [
            f
            for f in view.record.files
            if f.kind == "attachment" and f.filename.lower().endswith(".pdf")
        ]

    def prepare_dossier(
        self,
        key: KeyLike,
        round_no: int,
        certificate_der: bytes,
        *,
        now: dt.datetime | None = None,
        chain_der: Sequence[bytes] = (),
        stamp: StampSpec | None = None,
    ) -> Prepared:
        """Phase one for one dossier and round: templates on disk, digests journalled.

        Round 1 prepares every declaration and, in the same transaction, every PDF
        attachment (``chain_der`` goes into its CMS, ``stamp`` is drawn on its page 1);
        round 2 the envelope or the 04/05/06 form. Already prepared with the same
        certificate: the journalled digests are returned (the templates on disk are the
        ones they were computed from).
        """
        view = self.view(key)
        if round_no not in view.rounds:
            raise StoreError(f"dossier {view.id}: has no signing round {round_no}")
        serial = certificate_serial(certificate_der)
        last = view.prepared(round_no)
        if last is not None and last.certificate_serial == serial:
            return last
        when = now or dt.datetime.now(dt.UTC)
        items = []
        for index, (filename, data) in enumerate(self._round_sources(view, round_no)):
            template = prepare_signature(data, certificate_der, signing_time=when)
            self.store.write_file(view.record, Layout.prepared(round_no, filename), template.xml)
            items.append(
                PreparedItem(
                    f"{view.id}-{round_no}{index:02d}",
                    _display_name(view, filename),
                    filename,
                    template.digest,
                    template_sha256=hashlib.sha256(template.xml).hexdigest(),
                )
            )
        if round_no == 1 and not view.is_registration:
            for index, stored in enumerate(self._pdf_attachments(view), start=len(items)):
                pdf = prepare_pdf_signature(
                    self.store.read_file(view.record, Layout.source(stored)),
                    certificate_der,
                    chain_der,
                    signing_time=when,
                    stamp=stamp,
                    unit=view.unit_code,
                    dossier=view.id,
                    filename=stored.filename,
                )
                self.store.write_file(view.record, Layout.prepared(1, stored.filename), pdf.pdf)
                items.append(
                    PreparedItem(
                        f"{view.id}-1{index:02d}",
                        _display_name(view, stored.filename),
                        stored.filename,
                        pdf.digest,
                        kind="pdf",
                        pdf_state=pdf.to_state(),
                    )
                )
        prepared = Prepared(serial, tuple(items))
        self._journal(view.record, ROUND_STEPS[round_no][0], **prepared.to_data())
        return prepared

    def prepare_round(
        self,
        keys: Sequence[KeyLike],
        round_no: int,
        certificate_der: bytes,
        *,
        chain_der: Sequence[bytes] = (),
        stamp: StampSpec | None = None,
    ) -> dict[str, Prepared]:
        """Phase one for every dossier of a round (one signing time for all): by dossier id."""
        now = dt.datetime.now(dt.UTC)
        # One durability barrier for the round (the request that follows is journalled,
        # and made durable, before anything is sent).
        with self.store.batch():
            return {
                _key(k).id: self.prepare_dossier(
                    k, round_no, certificate_der, now=now, chain_der=chain_der, stamp=stamp
                )
                for k in keys
            }

    def unsigned(self, keys: Iterable[KeyLike], round_no: int) -> list[DossierView]:
        """The dossiers of ``keys`` whose round ``round_no`` is not applied yet."""
        return [v for v in (self.view(k) for k in keys) if not v.is_signed(round_no)]

    def record_request(
        self,
        keys: Sequence[KeyLike],
        round_no: int,
        client_transaction_id: str,
        transaction_id: str | None,
        expires_at: dt.datetime | None,
    ) -> None:
        """Journal a round's transaction in every dossier it covers.

        Called twice per request: before the call (``transaction_id`` None, so a crash
        leaves a trace) and after it (the provider's id, which a re-run resumes polling).
        """
        request = SigningRequest(
            client_transaction_id,
            transaction_id,
            expires_at,
            tuple(_key(k).id for k in keys),
        )
        # Durable when this returns: before the call the provider must never see a request
        # the journal could forget; after it, its transaction id.
        with self.store.batch():
            for k in keys:
                self._journal(self.view(k).record, ROUND_STEPS[round_no][1], **request.to_data())

    def open_requests(self, keys: Sequence[KeyLike], round_no: int) -> list[OpenRequest]:
        """Transactions earlier runs sent for this round and did not apply, to continue.

        A request journalled before a re-preparation (another certificate) is not open.
        """
        by_tx: dict[str, list[DossierView]] = {}
        requests: dict[str, SigningRequest] = {}
        for view in self.unsigned(keys, round_no):
            request = view.request(round_no)
            prepared_at = _at(view.record.last(ROUND_STEPS[round_no][0]))
            requested_at = _at(view.record.last(ROUND_STEPS[round_no][1]))
            if request is None or request.transaction_id is None or prepared_at is None:
                continue
            if requested_at is None or prepared_at > requested_at:
                continue
            by_tx.setdefault(request.transaction_id, []).append(view)
            requests[request.transaction_id] = request
        out = []
        for tx_id, pending in by_tx.items():
            request = requests[tx_id]
            first = pending[0]
            items: list[PreparedItem] = []
            for dossier_id in request.dossiers:
                prepared = self.view(
                    DossierKey(dossier_id, first.unit_code, first.period)
                ).prepared(round_no)
                if prepared is None:
                    raise StoreError(f"dossier {dossier_id}: round {round_no} was not prepared")
                items.extend(prepared.items)
            out.append(OpenRequest(tx_id, request.expires_at, tuple(pending), tuple(items)))
        return out

    def apply_dossier(
        self,
        key: KeyLike,
        round_no: int,
        transaction_id: str,
        signatures: Mapping[str, bytes],
        certificate_der: bytes,
    ) -> DossierView:
        """Phase two for one dossier and round: values inserted and checked, then journalled.

        After round 2 the final files (the signed envelope or form, and the signed
        declarations it embeds) are also written to the outbox.
        """
        view = self.view(key)
        signed_step = ROUND_STEPS[round_no][2]
        if view.is_signed(round_no):
            return view
        prepared = view.prepared(round_no)
        if prepared is None:
            raise StoreError(f"dossier {view.id}: round {round_no} was not prepared")
        missing = [i for i in prepared.items if i.document_id not in signatures]
        if missing:
            raise StoreError(
                f"dossier {view.id}: transaction {transaction_id} returned no signature for "
                + ", ".join(f"document {i.document_id} ({i.file})" for i in missing)
            )
        pdfs = [i for i in prepared.items if i.kind == "pdf"]
        for item in pdfs:
            template = self.store.read_file(view.record, Layout.prepared(round_no, item.file))
            state = PreparedPdf.from_state(dict(item.pdf_state or {}), template)
            signed_pdf = finish_pdf_signature(state, signatures[item.document_id], certificate_der)
            self.store.write_file(view.record, Layout.signed_attachment(item.file), signed_pdf)
        if pdfs:
            self.checkpoint(f"r{round_no}-pdfs-signed")
        files: dict[str, bytes] = {}
        for item in prepared.items:
            if item.kind == "pdf":
                continue
            value = signatures[item.document_id]
            template = self.store.read_file(view.record, Layout.prepared(round_no, item.file))
            # The journal holds the template's digest and SHA-256: when the bytes on disk
            # are the ones prepared, apply needs no second parse and canonicalisation.
            signed = apply_signature(
                template,
                value,
                certificate_der,
                prepared=PreparedSignature(template, item.digest) if item.template_sha256 else None,
                prepared_sha256=item.template_sha256 or None,
            )
            target = (
                Layout.signed_declaration(item.file) if round_no == 1 else Layout.final(item.file)
            )
            self.store.write_file(view.record, target, signed)
            files[item.file] = signed
        if round_no == 2:
            outbox = dict(files)
            if not view.is_registration:
                for f in view.record.files:
                    if f.kind == "declaration":
                        outbox[f.filename] = self.store.read_file(
                            view.record, Layout.signed_declaration(f.filename)
                        )
                for f in self._pdf_attachments(view):
                    outbox[f.filename] = self.store.read_file(
                        view.record, Layout.signed_attachment(f.filename)
                    )
            write_outbox(self.outbox_dir, view.unit_code, view.period, view.id, outbox)
        self._journal(
            view.record,
            signed_step,
            **Signed(transaction_id, tuple(sorted(files))).to_data(),
        )
        return self.view(view.key)

    def apply_round(
        self,
        keys: Sequence[KeyLike],
        round_no: int,
        transaction_id: str,
        signatures: Mapping[str, bytes],
        certificate_der: bytes,
    ) -> list[DossierView]:
        """Phase two for every dossier of a round, each journalled as soon as it is applied."""
        out = []
        with self.store.batch():  # durable once the round is applied: never asked again
            for k in keys:
                out.append(
                    self.apply_dossier(k, round_no, transaction_id, signatures, certificate_der)
                )
                self.checkpoint(f"r{round_no}-applying")
        return out

    def build_envelope(self, key: KeyLike, unit: UnitInfo) -> None:
        """``BHXHDienTu.xml`` from the signed declarations and the attachments (once)."""
        view = self.view(key)
        if view.is_registration or self.store.has_file(view.record, Layout.ENVELOPE):
            return
        if not view.is_signed(1):
            raise StoreError(f"dossier {view.id}: declarations are not signed yet")
        dossier = self.dossier(view, unit)
        declarations = [
            Declaration(
                d.form,
                d.filename,
                self.store.read_file(view.record, Layout.signed_declaration(d.filename)),
            )
            for d in dossier.declarations
        ]
        signed_pdfs = {f.filename for f in self._pdf_attachments(view)}
        attachments = [
            Attachment(
                a.filename,
                self.store.read_file(view.record, Layout.signed_attachment(a.filename)),
            )
            if a.filename in signed_pdfs
            else a
            for a in dossier.attachments
        ]
        envelope = build_envelope(dossier, declarations, attachments)
        self.store.write_file(view.record, Layout.ENVELOPE, envelope)

    def build_envelopes(self, keys: Sequence[KeyLike], unit: UnitInfo) -> None:
        with self.store.batch():
            for k in keys:
                self.build_envelope(k, unit)

    # -------------------------------------------------------------- submission
    def submission(self, key: KeyLike) -> Submission:
        """What is handed to the carrier: the signed envelope or form, the signed
        declarations it embeds, and the approvals that signed them."""
        view = self.view(key)
        filename, content = self.final_file(view)
        declarations = (
            {}
            if view.is_registration
            else {
                f.filename: self.store.read_file(view.record, Layout.signed_declaration(f.filename))
                for f in view.record.files
                if f.kind == "declaration"
            }
        )
        approvals = tuple(s.transaction_id for r in view.rounds if (s := view.signed(r)))
        return Submission(
            dossier_id=view.id,
            unit_code=view.unit_code,
            procedure=view.procedure,
            period=view.period,
            kind="registration" if view.is_registration else "envelope",
            filename=filename,
            content=content,
            declarations=declarations,
            approvals=approvals,
        )

    def _record_handover(self, view: DossierView, handover: Handover) -> DossierView:
        step = Step.EXPORTED if handover.state == "exported" else Step.SUBMITTED
        ack = Acknowledged(
            handover.transaction_id,
            handover.received_at,
            handover.duplicate,
            handover.route,
            handover.location,
        )
        self._journal(view.record, step, **ack.to_data())
        return self.view(view.key)

    async def submit_dossier(self, key: KeyLike, port: SubmissionPort) -> DossierView:
        """Hand one signed envelope or form to the carrier once.

        ``submitting`` is journalled before the carrier is called. With a carrier that
        takes no idempotency key, a dossier whose earlier attempt may have reached it (a
        ``submitting`` without an answer, or an answer lost now) is looked up by its natural
        key before anything is sent again. Journal writes (fsync) run in a worker thread:
        they must not stall an event loop that other units share.

        Raises:
            SubmissionRefused: the carrier refused the dossier (its code and words).
            UnknownOutcome: the answer was lost and the carrier cannot tell yet; the next
                attempt looks it up first.
        """
        view = await asyncio.to_thread(self.view, key)
        if view.handed_over:
            return view
        submission = await asyncio.to_thread(self.submission, view)
        idempotent = port.capabilities.idempotency_key
        if not idempotent and view.record.has(Step.SUBMITTING):
            found = await port.find(submission.natural_key, view.id)
            if found is not None:
                return await asyncio.to_thread(self._record_handover, view, found)
        await asyncio.to_thread(
            self._journal, view.record, Step.SUBMITTING, file=submission.filename
        )
        self.checkpoint("submitting")
        try:
            handover = await port.submit(submission)
        except UnknownOutcome:
            if idempotent:
                raise
            found = await port.find(submission.natural_key, view.id)
            if found is None:
                raise
            handover = found
        self.checkpoint("submit-acknowledged")
        return await asyncio.to_thread(self._record_handover, view, handover)

    async def submit(
        self,
        keys: Sequence[KeyLike],
        port: SubmissionPort,
        *,
        refused: type[Exception] | tuple[type[Exception], ...] = (),
    ) -> list[str]:
        """Hand over every signed dossier of ``keys`` not handed over (or failed) yet.

        An exception of a ``refused`` type (the carrier refused the dossier at receipt) is
        journalled as ``failed`` with its code and words and does not stop the others;
        returns one problem line per refused dossier.
        """
        problems: list[str] = []
        for k in keys:
            view = await asyncio.to_thread(self.view, k)
            if not view.is_signed(2) or view.done:
                continue
            try:
                await self.submit_dossier(view, port)
            except refused as exc:
                failure = Failure(str(exc), getattr(exc, "code", None))
                await asyncio.to_thread(self.record_failure, view, failure)
                problems.append(f"dossier {view.id} ({view.procedure}) refused: {exc}")
        return problems

    def record_failure(self, key: KeyLike, failure: Failure) -> None:
        self._journal(self.view(key).record, Step.FAILED, **failure.to_data())

    def record_status(self, key: KeyLike, status: VssStatus) -> DossierView:
        """Journal a receipt (a new ``soHoSo``) and a result (a new outcome), once each."""
        view = self.view(key)
        receipt, result = view.receipt, view.result
        if status.so_ho_so and (receipt is None or receipt.so_ho_so != status.so_ho_so):
            self._journal(view.record, Step.RECEIPT, **status.to_data())
        if status.outcome and (result is None or result.outcome != status.outcome):
            self._journal(self.view(view.key).record, Step.RESULT, **status.to_data())
        return self.view(view.key)


def _at(entry: StepRecord | None) -> dt.datetime | None:
    return entry.at if entry else None
