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

    prepare_round -> record_request (before the call) -> [provider: request]
    -> record_request (with the provider's id, right after its answer) -> [approval]
    -> apply_round

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
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bhxh.catalogue import ATTACHMENT_FORM, get_procedure
from bhxh.documents import build_envelope
from bhxh.errors import DossierInvalid, StoreError
from bhxh.intake import load_dossiers, validate_dossier
from bhxh.models import Attachment, Declaration, Dossier, UnitInfo
from bhxh.pipeline.layout import (
    ENVELOPE_FILE,
    ROUND_STEPS,
    Layout,
)
from bhxh.pipeline.outbox import (
    write_outbox,
)
from bhxh.pipeline.records import (
    Acknowledged,
    Failure,
    Prepared,
    PreparedItem,
    Signed,
    SigningRequest,
    VssStatus,
)
from bhxh.pipeline.store import (
    DossierJournal,
    DossierOutbox,
    DossierRecord,
    Step,
    StepRecord,
    StoredFile,
)
from bhxh.pipeline.views import (
    DossierKey,
    DossierView,
    KeyLike,
    OpenRequest,
    _display_name,
    _key,
    certificate_serial,
)
from bhxh.signing import (
    PreparedPdf,
    PreparedSignature,
    StampSpec,
    apply_signature,
    attachment_policy,
    finish_pdf_signature,
    prepare_pdf_signature,
    prepare_signature,
)
from bhxh.submission import Handover, Submission, SubmissionPort, UnknownOutcome

__all__ = [
    "Observer",
    "Pipeline",
]

log = logging.getLogger("bhxh.pipeline")


def _no_checkpoint(step: str) -> None:
    """The default checkpoint: nothing (tests pass a crash hook)."""


#: Told of every journal step written: (the dossier as it is now, the step). The Prefect
#: layer turns these into events; an observer's failure never stops the pipeline.
Observer = Callable[["DossierView", Step], None]


class Pipeline:
    """The steps of every dossier of one store, with an optional checkpoint hook.

    Args:
        store: the dossier journal (any backend; the folder journal by default).
        outbox_dir: where final files are also written for import into other software.
        checkpoint: called with a step name right after that step is journalled (the
            crash-point test hook; a no-op by default).
        observe: told of every journal step written (the dossier after it, the step).
    """

    def __init__(
        self,
        store: DossierJournal,
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
        *,
        covers: Sequence[str] | None = None,
        void: Sequence[str] = (),
    ) -> None:
        """Journal a round's transaction in every dossier it covers.

        Called twice per request: before the call (``transaction_id`` None, so a crash
        leaves a trace) and right after its answer (the provider's id, which a re-run
        resumes polling). ``covers``: every dossier id the one request covers, when it is
        more than ``keys`` (a request found again after a crash, some of whose dossiers
        were applied before it); by default the dossiers of ``keys``. ``void``: the
        references of earlier requests this one replaces (``SigningRequest.void``).
        """
        request = SigningRequest(
            client_transaction_id,
            transaction_id,
            expires_at,
            tuple(covers) if covers else tuple(_key(k).id for k in keys),
            tuple(void),
        )
        # Durable when this returns: before the call the provider must never see a request
        # the journal could forget; after it, its transaction id.
        with self.store.batch():
            for k in keys:
                self._journal(self.view(k).record, ROUND_STEPS[round_no][1], **request.to_data())

    def open_requests(self, keys: Sequence[KeyLike], round_no: int) -> list[OpenRequest]:
        """Requests earlier runs sent for this round and did not apply, to continue.

        Each is either answered (the provider's transaction id journalled) or unanswered:
        journalled before the send, the run stopped before its answer was (the request
        may have reached the provider; ``OpenRequest.transaction_id`` is None). A dossier
        whose journal missed the answer that another dossier of the same request holds
        (a run stopped between the two writes) joins that answered request. A request
        journalled before a re-preparation (another certificate) is not open.
        """
        entries: list[tuple[DossierView, SigningRequest]] = []
        answered: dict[str, SigningRequest] = {}  # client transaction id -> answered request
        for view in self.unsigned(keys, round_no):
            request = view.request(round_no)
            prepared_at = _at(view.record.last(ROUND_STEPS[round_no][0]))
            requested_at = _at(view.record.last(ROUND_STEPS[round_no][1]))
            if request is None or prepared_at is None:
                continue
            if requested_at is None or prepared_at > requested_at:
                continue
            if request.transaction_id is None and not request.client_transaction_id:
                continue
            entries.append((view, request))
            if request.transaction_id is not None and request.client_transaction_id:
                answered[request.client_transaction_id] = request
        groups: dict[tuple[str, str], list[DossierView]] = {}
        requests: dict[tuple[str, str], SigningRequest] = {}
        for view, request in entries:
            if request.transaction_id is None:
                request = answered.get(request.client_transaction_id, request)
            key = (
                ("tx", request.transaction_id)
                if request.transaction_id is not None
                else ("client", request.client_transaction_id)
            )
            groups.setdefault(key, []).append(view)
            requests.setdefault(key, request)
        out = []
        for key, pending in groups.items():
            request = requests[key]
            first = pending[0]
            items: list[PreparedItem] = []
            for dossier_id in request.dossiers:
                prepared = self.view(
                    DossierKey(dossier_id, first.unit_code, first.period)
                ).prepared(round_no)
                if prepared is None:
                    raise StoreError(f"dossier {dossier_id}: round {round_no} was not prepared")
                items.extend(prepared.items)
            out.append(
                OpenRequest(
                    request.transaction_id,
                    request.expires_at,
                    tuple(pending),
                    tuple(items),
                    request.client_transaction_id,
                    request.dossiers,
                    request.void,
                )
            )
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
            if isinstance(self.store, DossierOutbox):  # the record, shared by every worker
                self.store.write_outbox(view.unit_code, view.period, view.id, outbox)
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
