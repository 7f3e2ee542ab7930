"""Tasks over ``bhxh``: load and validate dossiers, prepare, apply, build envelopes, submit.

Every task writes the dossier's new state to the store before it returns, and reads the
store first, so that a re-run continues where the last one stopped. Round 1 signs the
declarations of a business dossier; round 2 signs its envelope, or a 04/05/06 form.

Granularity: the flows use one task run per unit and step (``prepare_round``,
``apply_round``, ``build_envelopes``, ``submit_dossiers``), whatever the number of
dossiers, because every task run costs writes in the Prefect database and a monthly run
of hundreds of units must stay in the tens of task runs per unit. Each does, for every
dossier of the unit in turn, the one-dossier step below it (``_prepare_dossier``,
``_apply_signatures``, ``_build_dossier_envelope``, ``_submit_one``).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from prefect import task
from prefect.cache_policies import NONE
from prefect.logging import get_run_logger

from bhxh.catalogue import get_procedure
from bhxh.envelope import build_envelope
from bhxh.errors import DossierInvalid, StoreError
from bhxh.gateway import Registration
from bhxh.inbox import load_dossiers as load_inbox
from bhxh.models import Declaration, Dossier, UnitInfo
from bhxh.outbox import write_outbox
from bhxh.signature import apply_signature, prepare_signature
from bhxh.store import DossierRecord, DossierStore, Step, StoredFile
from bhxh.validation import validate_dossier
from esign.models import SignItem
from tasks._runtime import crash_point, get_gateway

__all__ = [
    "ROUND_STEPS",
    "DossierRef",
    "apply_round",
    "build_envelopes",
    "load_dossiers",
    "open_registration_dossier",
    "prepare_round",
    "read_dossier_status",
    "read_registration",
    "record_signing_request",
    "submit_dossiers",
]

#: For each round: (prepared, requested, signed) steps.
ROUND_STEPS: dict[int, tuple[Step, Step, Step]] = {
    1: (Step.PREPARED, Step.ROUND1_REQUESTED, Step.DECLARATIONS_SIGNED),
    2: (Step.ENVELOPE_PREPARED, Step.ROUND2_REQUESTED, Step.SIGNED),
}
FINAL_DIR = "final"


@dataclass(frozen=True)
class DossierRef:
    """A dossier in the store, as the flows see it (no file contents)."""

    id: str
    unit_code: str
    period: str
    procedure: str
    name: str
    approvals: int  # 1 for 04/05/06, 2 for business dossiers
    state: str

    @property
    def is_registration(self) -> bool:
        return self.approvals == 1


def ref_of(rec: DossierRecord) -> DossierRef:
    return DossierRef(
        id=rec.id,
        unit_code=rec.unit_code,
        period=rec.period,
        procedure=rec.procedure,
        name=rec.name,
        approvals=get_procedure(rec.procedure).approvals,
        state=str(rec.state),
    )


def items_of(rec: DossierRecord, round_no: int) -> list[SignItem]:
    """The digests recorded when the round was prepared."""
    prepared = rec.last(ROUND_STEPS[round_no][0])
    if prepared is None:
        raise StoreError(f"dossier {rec.id}: round {round_no} was not prepared")
    return [
        SignItem(i["document_id"], i["name"], base64.b64decode(i["digest"]))
        for i in prepared.data["items"]
    ]


def _store(store_dir: str) -> DossierStore:
    return DossierStore(Path(store_dir))


def _display_name(rec: DossierRecord, filename: str) -> str:
    return f"{rec.procedure} {rec.period} {rec.unit_code} {filename}"[:100]


def _load_dossiers(unit: UnitInfo, period: str, inbox_dir: str, store_dir: str) -> list[DossierRef]:
    """Read the period's dossiers from the inbox, validate them all, open them in the store.

    Nothing is written when any dossier is invalid: the error lists every problem of
    every dossier. Dossiers already in the store (earlier runs, or a 05 made by
    ``setup_remote_signing``) are returned too, so that a re-run continues them.
    """
    dossiers = load_inbox(Path(inbox_dir), unit, period)
    problems: list[str] = []
    for dossier in dossiers:
        try:
            validate_dossier(dossier)
        except DossierInvalid as exc:
            problems.append(str(exc))
    if problems:
        raise DossierInvalid(
            f"unit {unit.code}, period {period}: {len(problems)} dossier(s) refused, nothing "
            "was signed:\n- " + "\n- ".join(problems)
        )
    store = _store(store_dir)
    opened = {store.open(d).id for d in dossiers}
    records = [r for r in store.list(unit.code, period) if r.id in opened or not _done(r)]
    return [ref_of(r) for r in records]


def _done(rec: DossierRecord) -> bool:
    return rec.has(Step.SUBMITTED) or rec.has(Step.FAILED)


def _open_registration_dossier(
    unit: UnitInfo, period: str, kind: str, form_xml: bytes, store_dir: str
) -> DossierRef:
    """Put a 04/05/06 form in the store as a one-approval dossier."""
    procedure = get_procedure(kind)
    form = next(iter(procedure.required_forms))
    dossier = Dossier(
        unit=unit,
        period=period,
        procedure=kind,
        name=f"{kind}-{form}",
        declarations=(Declaration(form=form, filename=f"{form}.xml", content=form_xml),),
    )
    return ref_of(_store(store_dir).open(dossier))


def _declaration_files(rec: DossierRecord) -> list[StoredFile]:
    return [f for f in rec.files if f.kind == "declaration"]


def _prepare_dossier(
    ref: DossierRef, round_no: int, certificate_der: bytes, store_dir: str
) -> list[SignItem]:
    """Phase one for one dossier and round: signature templates on disk, digests recorded.

    Round 1: every declaration. Round 2: the envelope (built before) or the 04/05/06 form.
    Already prepared with the same certificate: the recorded digests are returned as is.
    """
    store = _store(store_dir)
    rec = store.get(ref.unit_code, ref.period, ref.id)
    prepared_step = ROUND_STEPS[round_no][0]
    serial = _serial(certificate_der)
    last = rec.last(prepared_step)
    if last is not None and last.data.get("certificate_serial") == serial:
        return items_of(rec, round_no)
    now = dt.datetime.now(dt.UTC)
    items: list[dict[str, str]] = []
    if round_no == 1 or ref.is_registration:
        sources = [(f.filename, store.read_file(rec, f.relpath)) for f in _declaration_files(rec)]
    else:
        sources = [("BHXHDienTu.xml", store.read_file(rec, "envelope/BHXHDienTu.xml"))]
    for index, (filename, data) in enumerate(sources):
        prepared = prepare_signature(data, certificate_der, signing_time=now)
        store.write_file(rec, f"prepared/r{round_no}/{filename}", prepared.xml)
        items.append(
            {
                "document_id": f"{rec.id}-{round_no}{index:02d}",
                "name": _display_name(rec, filename),
                "file": filename,
                "digest": base64.b64encode(prepared.digest).decode(),
            }
        )
    rec = store.record(rec, prepared_step, certificate_serial=serial, items=items)
    return items_of(rec, round_no)


def _serial(certificate_der: bytes) -> str:
    from cryptography import x509

    return format(x509.load_der_x509_certificate(certificate_der).serial_number, "X")


def _record_signing_request(
    refs: list[DossierRef],
    round_no: int,
    client_transaction_id: str,
    transaction_id: str | None,
    expires_at: dt.datetime | None,
    store_dir: str,
) -> None:
    """Write the round's transaction into every dossier it covers.

    Called twice per request: before the call (``transaction_id`` None, so a crash leaves
    a trace) and after it (with the provider's id, which a re-run resumes polling).
    """
    store = _store(store_dir)
    step = ROUND_STEPS[round_no][1]
    for ref in refs:
        rec = store.get(ref.unit_code, ref.period, ref.id)
        store.record(
            rec,
            step,
            client_transaction_id=client_transaction_id,
            transaction_id=transaction_id,
            expires_at=expires_at.isoformat() if expires_at else None,
            dossiers=[r.id for r in refs],
        )


def _apply_signatures(
    ref: DossierRef,
    round_no: int,
    transaction_id: str,
    signatures: dict[str, bytes],
    certificate_der: bytes,
    store_dir: str,
    outbox_dir: str,
) -> DossierRef:
    """Phase two for one dossier and round: insert the values, verify, record.

    After round 2 the final document is also written to the outbox.
    """
    store = _store(store_dir)
    rec = store.get(ref.unit_code, ref.period, ref.id)
    signed_step = ROUND_STEPS[round_no][2]
    if rec.has(signed_step):
        return ref_of(rec)
    prepared = rec.last(ROUND_STEPS[round_no][0])
    assert prepared is not None
    files: dict[str, bytes] = {}
    for item in prepared.data["items"]:
        value = signatures.get(item["document_id"])
        if value is None:
            raise StoreError(
                f"dossier {rec.id}: transaction {transaction_id} returned no signature for "
                f"document {item['document_id']} ({item['file']})"
            )
        prepared_xml = store.read_file(rec, f"prepared/r{round_no}/{item['file']}")
        signed = apply_signature(prepared_xml, value, certificate_der)
        folder = "signed" if round_no == 1 else FINAL_DIR
        store.write_file(rec, f"{folder}/{item['file']}", signed)
        files[item["file"]] = signed
    if round_no == 2:
        write_outbox(Path(outbox_dir), rec.unit_code, rec.period, rec.id, files)
    rec = store.record(rec, signed_step, transaction_id=transaction_id, files=sorted(files))
    return ref_of(rec)


def _build_dossier_envelope(ref: DossierRef, unit: UnitInfo, store_dir: str) -> None:
    """Build ``BHXHDienTu.xml`` from the signed declarations and the attachments."""
    store = _store(store_dir)
    rec = store.get(ref.unit_code, ref.period, ref.id)
    if store.has_file(rec, "envelope/BHXHDienTu.xml"):
        return
    signed = rec.last(Step.DECLARATIONS_SIGNED)
    if signed is None:
        raise StoreError(f"dossier {rec.id}: declarations are not signed yet")
    dossier = store.load_dossier(rec, unit)
    declarations = [
        Declaration(d.form, d.filename, store.read_file(rec, f"signed/{d.filename}"))
        for d in dossier.declarations
    ]
    envelope = build_envelope(dossier, declarations, dossier.attachments)
    store.write_file(rec, "envelope/BHXHDienTu.xml", envelope)


async def _submit_one(ref: DossierRef, gateway_block: str, store_dir: str) -> DossierRef:
    """Submit one signed envelope / form once; the dossier id is the idempotency key.

    Journal writes (fsync) run in a worker thread: they must not stall the event loop
    that every other unit of a monthly run shares.
    """
    store = _store(store_dir)
    rec = store.get(ref.unit_code, ref.period, ref.id)
    if rec.has(Step.SUBMITTED):
        return ref_of(rec)
    signed = rec.last(Step.SIGNED)
    if signed is None:
        raise StoreError(f"dossier {rec.id}: not signed yet, nothing to submit")
    (filename,) = signed.data["files"]
    content = store.read_file(rec, f"{FINAL_DIR}/{filename}")
    kind: Literal["envelope", "registration"] = (
        "registration" if ref.is_registration else "envelope"
    )
    rec = await asyncio.to_thread(store.record, rec, Step.SUBMITTING, file=filename)
    crash_point("submitting")
    gateway = await get_gateway(gateway_block)
    ack = await gateway.submit(rec.id, rec.unit_code, kind, content)
    crash_point("submit-acknowledged")
    rec = await asyncio.to_thread(
        store.record,
        rec,
        Step.SUBMITTED,
        gateway_transaction_id=ack.transaction_id,
        received_at=str(ack.received_at),
        duplicate=ack.duplicate,
    )
    get_run_logger().info("Dossier %s submitted (gateway %s)", rec.id, ack.transaction_id)
    return ref_of(rec)


@task(name="submit_dossiers", cache_policy=NONE, persist_result=False)
async def submit_dossiers(refs: list[DossierRef], gateway_block: str, store_dir: str) -> list[str]:
    """Submit every signed dossier of ``refs`` not submitted (or refused) yet, in one task run.

    A refusal is recorded (``failed``, with the gateway's code) and does not stop the
    others; returns one problem line per refused dossier.
    """
    from bhxh.gateway import SubmissionRefused

    store = _store(store_dir)
    problems: list[str] = []
    for ref in refs:
        rec = store.get(ref.unit_code, ref.period, ref.id)
        if not rec.has(Step.SIGNED) or rec.has(Step.SUBMITTED) or rec.has(Step.FAILED):
            continue
        try:
            await _submit_one(ref, gateway_block, store_dir)
        except SubmissionRefused as exc:
            rec = store.get(ref.unit_code, ref.period, ref.id)
            await asyncio.to_thread(store.record, rec, Step.FAILED, message=str(exc), code=exc.code)
            problems.append(f"dossier {ref.id} ({ref.procedure}) refused: {exc}")
    return problems


@task(name="read_dossier_status", cache_policy=NONE, persist_result=False)
async def read_dossier_status(
    ref: DossierRef, gateway_block: str, store_dir: str
) -> dict[str, object]:
    """The gateway's status of a submitted dossier; receipts and results are recorded."""
    store = _store(store_dir)
    rec = store.get(ref.unit_code, ref.period, ref.id)
    gateway = await get_gateway(gateway_block)
    status = await gateway.status(rec.id)
    data: dict[str, object] = {
        "status": status.status,
        "so_ho_so": status.so_ho_so,
        "dot": status.dot,
        "promised_date": str(status.promised_date) if status.promised_date else None,
        "outcome": status.outcome,
        "messages": list(status.messages),
    }
    receipt = rec.last(Step.RECEIPT)
    if status.so_ho_so and (receipt is None or receipt.data.get("so_ho_so") != status.so_ho_so):
        rec = store.record(rec, Step.RECEIPT, **data)
    result = rec.last(Step.RESULT)
    if status.outcome and (result is None or result.data.get("outcome") != status.outcome):
        rec = store.record(rec, Step.RESULT, **data)
    return data


@task(name="load_dossiers", cache_policy=NONE, persist_result=False)
async def load_dossiers(
    unit: UnitInfo, period: str, inbox_dir: str, store_dir: str
) -> list[DossierRef]:
    """Runs ``_load_dossiers`` in a worker thread (file and CPU work off the event loop)."""
    return await asyncio.to_thread(_load_dossiers, unit, period, inbox_dir, store_dir)


@task(name="open_registration_dossier", cache_policy=NONE, persist_result=False)
async def open_registration_dossier(
    unit: UnitInfo, period: str, kind: str, form_xml: bytes, store_dir: str
) -> DossierRef:
    """Runs ``_open_registration_dossier`` in a worker thread."""
    return await asyncio.to_thread(
        _open_registration_dossier, unit, period, kind, form_xml, store_dir
    )


async def record_signing_request(
    refs: list[DossierRef],
    round_no: int,
    client_transaction_id: str,
    transaction_id: str | None,
    expires_at: dt.datetime | None,
    store_dir: str,
) -> None:
    """Runs ``_record_signing_request`` in a worker thread.

    Not a task: it is a journal write around ``request_signatures`` (twice per round), and
    a task run per journal write was most of a monthly run's load on the Prefect API.
    """
    return await asyncio.to_thread(
        _record_signing_request,
        refs,
        round_no,
        client_transaction_id,
        transaction_id,
        expires_at,
        store_dir,
    )


def _prepare_round(
    refs: list[DossierRef], round_no: int, certificate_der: bytes, store_dir: str
) -> dict[str, list[SignItem]]:
    return {ref.id: _prepare_dossier(ref, round_no, certificate_der, store_dir) for ref in refs}


@task(name="prepare_round", cache_policy=NONE, persist_result=False)
async def prepare_round(
    refs: list[DossierRef], round_no: int, certificate_der: bytes, store_dir: str
) -> dict[str, list[SignItem]]:
    """Phase one for every dossier of a unit's round, in one task run: items by dossier id."""
    return await asyncio.to_thread(_prepare_round, refs, round_no, certificate_der, store_dir)


def _apply_round(
    refs: list[DossierRef],
    round_no: int,
    transaction_id: str,
    signatures: dict[str, bytes],
    certificate_der: bytes,
    store_dir: str,
    outbox_dir: str,
) -> list[DossierRef]:
    out = []
    for ref in refs:
        out.append(
            _apply_signatures(
                ref, round_no, transaction_id, signatures, certificate_der, store_dir, outbox_dir
            )
        )
        crash_point(f"r{round_no}-applying")
    return out


@task(name="apply_round", cache_policy=NONE, persist_result=False)
async def apply_round(
    refs: list[DossierRef],
    round_no: int,
    transaction_id: str,
    signatures: dict[str, bytes],
    certificate_der: bytes,
    store_dir: str,
    outbox_dir: str,
) -> list[DossierRef]:
    """Phase two for every dossier of a unit's round, in one task run (each one recorded
    as soon as it is applied, so a crash in between resumes cleanly)."""
    return await asyncio.to_thread(
        _apply_round,
        refs,
        round_no,
        transaction_id,
        signatures,
        certificate_der,
        store_dir,
        outbox_dir,
    )


def _build_envelopes(refs: list[DossierRef], unit: UnitInfo, store_dir: str) -> None:
    for ref in refs:
        _build_dossier_envelope(ref, unit, store_dir)


@task(name="build_envelopes", cache_policy=NONE, persist_result=False)
async def build_envelopes(refs: list[DossierRef], unit: UnitInfo, store_dir: str) -> None:
    """``BHXHDienTu.xml`` for every dossier of ``refs``, in one task run."""
    return await asyncio.to_thread(_build_envelopes, refs, unit, store_dir)


@task(name="read_registration", cache_policy=NONE, persist_result=False)
async def read_registration(unit_code: str, gateway_block: str) -> Registration:
    """What VSS has on file for the unit: state and registered certificate."""
    gateway = await get_gateway(gateway_block)
    return await gateway.registration(unit_code)
