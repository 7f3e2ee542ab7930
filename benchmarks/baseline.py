"""The bare baseline: the monthly run with asyncio + httpx and the same esign/bhxh code.

No Prefect: no flow or task runs, no blocks, no artifacts, no API. Everything else is the
same as ``monthly_submission`` in ``per_unit`` mode: per unit log in, list certificates,
read the registration, validate and open the dossiers in the same durable store, prepare
round 1 (every declaration), one batch request, the same polling schedule, apply, build
the envelopes, round 2 (every envelope), apply, write the outbox, submit each dossier.
File and CPU work runs in worker threads, as the tasks do.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from bhxh.envelope import build_envelope
from bhxh.gateway import GatewayClient
from bhxh.inbox import load_dossiers
from bhxh.models import Declaration, UnitInfo
from bhxh.outbox import write_outbox
from bhxh.settings import Settings
from bhxh.signature import apply_signature, prepare_signature
from bhxh.store import DossierRecord, DossierStore, Step
from bhxh.validation import validate_dossier
from esign.misa import MisaESignClient
from esign.models import Certificate, SignItem, Transaction, TxStatus

__all__ = ["BaselineUnit", "run_baseline"]

_ROUND = {
    1: (Step.PREPARED, Step.ROUND1_REQUESTED, Step.DECLARATIONS_SIGNED),
    2: (Step.ENVELOPE_PREPARED, Step.ROUND2_REQUESTED, Step.SIGNED),
}


@dataclass(frozen=True)
class BaselineUnit:
    """What the baseline needs to know of a unit (what the blocks hold in the flows)."""

    unit: UnitInfo
    username: str
    password: str
    certificate_serial: str


def _prepare(
    store: DossierStore, rec: DossierRecord, round_no: int, der: bytes
) -> tuple[DossierRecord, list[SignItem]]:
    now = dt.datetime.now(dt.UTC)
    if round_no == 1:
        sources = [
            (f.filename, store.read_file(rec, f.relpath))
            for f in rec.files
            if f.kind == "declaration"
        ]
    else:
        sources = [("BHXHDienTu.xml", store.read_file(rec, "envelope/BHXHDienTu.xml"))]
    items = []
    rows = []
    for index, (filename, data) in enumerate(sources):
        prepared = prepare_signature(data, der, signing_time=now)
        store.write_file(rec, f"prepared/r{round_no}/{filename}", prepared.xml)
        doc_id = f"{rec.id}-{round_no}{index:02d}"
        name = f"{rec.procedure} {rec.period} {rec.unit_code} {filename}"[:100]
        items.append(SignItem(doc_id, name, prepared.digest))
        rows.append(
            {
                "document_id": doc_id,
                "name": name,
                "file": filename,
                "digest": base64.b64encode(prepared.digest).decode(),
            }
        )
    rec = store.record(rec, _ROUND[round_no][0], items=rows)
    return rec, items


def _apply(
    store: DossierStore,
    rec: DossierRecord,
    round_no: int,
    tx: Transaction,
    der: bytes,
    outbox: Path,
) -> DossierRecord:
    prepared = rec.last(_ROUND[round_no][0])
    assert prepared is not None
    files = {}
    for item in prepared.data["items"]:
        xml = store.read_file(rec, f"prepared/r{round_no}/{item['file']}")
        signed = apply_signature(xml, tx.signatures[item["document_id"]], der)
        store.write_file(rec, f"{'signed' if round_no == 1 else 'final'}/{item['file']}", signed)
        files[item["file"]] = signed
    if round_no == 2:
        write_outbox(outbox, rec.unit_code, rec.period, rec.id, files)
    return store.record(rec, _ROUND[round_no][2], transaction_id=tx.id, files=sorted(files))


def _envelope(store: DossierStore, rec: DossierRecord, unit: UnitInfo) -> None:
    dossier = store.load_dossier(rec, unit)
    declarations = [
        Declaration(d.form, d.filename, store.read_file(rec, f"signed/{d.filename}"))
        for d in dossier.declarations
    ]
    envelope = build_envelope(dossier, declarations, dossier.attachments)
    store.write_file(rec, "envelope/BHXHDienTu.xml", envelope)


def _open(store: DossierStore, inbox: Path, unit: UnitInfo, period: str) -> list[DossierRecord]:
    dossiers = load_dossiers(inbox, unit, period)
    for dossier in dossiers:
        validate_dossier(dossier)
    return [store.open(d) for d in dossiers]


async def _wait(
    client: MisaESignClient,
    tx: Transaction,
    cert: Certificate,
    items: list[SignItem],
    settings: Settings,
) -> Transaction:
    delay = settings.poll_initial_seconds
    while True:
        current = await client.get_transaction(tx.id, cert, items)
        if current.status.terminal:
            return current
        await asyncio.sleep(delay)
        delay = min(delay * 1.6, settings.poll_max_seconds)


async def _sign_round(
    client: MisaESignClient,
    cert: Certificate,
    store: DossierStore,
    recs: list[DossierRecord],
    round_no: int,
    settings: Settings,
    outbox: Path,
) -> list[DossierRecord]:
    prepared = [await asyncio.to_thread(_prepare, store, r, round_no, cert.der) for r in recs]
    recs = [r for r, _ in prepared]
    items = [i for _, its in prepared for i in its]
    client_tx = f"{recs[0].unit_code}-r{round_no}-{uuid.uuid4().hex[:16]}"
    step = _ROUND[round_no][1]
    recs = [store.record(r, step, client_transaction_id=client_tx) for r in recs]
    tx = await client.request_signatures(cert, items, f"Kỳ {recs[0].period}", client_tx)
    recs = [
        store.record(r, step, client_transaction_id=client_tx, transaction_id=tx.id) for r in recs
    ]
    tx = await _wait(client, tx, cert, items, settings)
    if tx.status is not TxStatus.SUCCEEDED:
        raise RuntimeError(f"unit {recs[0].unit_code}: round {round_no} {tx.status.value}")
    return [await asyncio.to_thread(_apply, store, r, round_no, tx, cert.der, outbox) for r in recs]


async def _unit_run(
    bu: BaselineUnit,
    misa_url: str,
    client_id: str,
    client_key: str,
    gateway: GatewayClient,
    period: str,
    settings: Settings,
) -> int:
    store = DossierStore(settings.store_dir)
    inbox = settings.data_dir / "inbox"
    outbox = settings.data_dir / "outbox"
    unit = bu.unit
    async with MisaESignClient(
        misa_url, client_id, client_key, bu.username, bu.password,
        timeout=settings.http_timeout_seconds,
    ) as client:  # fmt: skip
        recs = await asyncio.to_thread(_open, store, inbox, unit, period)
        await client.login()
        certs = await client.list_certificates()
        cert = next(c for c in certs if c.serial.upper() == bu.certificate_serial.upper())
        registration = await gateway.registration(unit.code)
        assert registration.state == "registered"
        recs = await _sign_round(client, cert, store, recs, 1, settings, outbox)
        for rec in recs:
            await asyncio.to_thread(_envelope, store, rec, unit)
        recs = await _sign_round(client, cert, store, recs, 2, settings, outbox)
        for rec in recs:
            rec = store.record(rec, Step.SUBMITTING, file="BHXHDienTu.xml")
            content = store.read_file(rec, "final/BHXHDienTu.xml")
            ack = await gateway.submit(rec.id, rec.unit_code, "envelope", content)
            store.record(rec, Step.SUBMITTED, gateway_transaction_id=ack.transaction_id)
    return len(recs)


async def run_baseline(
    units: list[BaselineUnit],
    misa_url: str,
    client_id: str,
    client_key: str,
    gateway_url: str,
    gateway_key: str,
    period: str,
) -> int:
    """Every unit at once, as ``monthly_submission`` does; returns the dossiers submitted."""
    settings = Settings()
    async with GatewayClient(
        gateway_url, gateway_key, timeout=settings.http_timeout_seconds
    ) as gateway:
        counts = await asyncio.gather(
            *(
                _unit_run(u, misa_url, client_id, client_key, gateway, period, settings)
                for u in units
            )
        )
    return sum(counts)
