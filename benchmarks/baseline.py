"""The bare baseline: the monthly run with asyncio + httpx and the same pipeline.

No Prefect: no flow or task runs, no blocks, no artifacts, no API. The dossier steps are
``bhxh.pipeline``'s, exactly the ones the tasks wrap (load and validate, prepare a round,
journal the request, apply, build the envelopes, submit), so the comparison measures
orchestration, not two implementations. What is written here is the orchestration a
person would write without Prefect: per unit log in, list certificates, read the
registration, two rounds (one batch request each, the same polling schedule through
``esign.waiting``), submit; every unit at once. File and CPU work runs in worker threads,
as the tasks do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass

from bhxh.models import UnitInfo
from bhxh.pipeline import DossierStore, DossierView, Pipeline
from bhxh.settings import Settings
from bhxh.submission import GatewayAdapter, GatewayClient, SubmissionRefused
from esign.errors import TransportError
from esign.misa import MisaESignClient
from esign.models import Certificate, SignItem, Transaction, TxStatus
from esign.waiting import wait_for_outcome

__all__ = ["BaselineUnit", "run_baseline"]

#: Sign requests in a row that may fail in transport before a round stops (as the flows).
UNKNOWN_SENDS = 5


@dataclass(frozen=True)
class BaselineUnit:
    """What the baseline needs to know of a unit (what the blocks hold in the flows)."""

    unit: UnitInfo
    username: str
    password: str
    certificate_serial: str


async def _sign_round(
    client: MisaESignClient,
    cert: Certificate,
    pipeline: Pipeline,
    views: list[DossierView],
    round_no: int,
    settings: Settings,
) -> None:
    """One batch request for the round, waited for, applied: what a person would write,
    with the recovery the flows have (a lost sign answer is replaced by a new request,
    bounded; a failed read of the transaction is read again)."""
    prepared = await asyncio.to_thread(
        pipeline.prepare_round, views, round_no, cert.der, chain_der=cert.chain
    )
    items = [SignItem(i.document_id, i.name, i.digest) for v in views for i in prepared[v.id].items]
    for lost in range(1, UNKNOWN_SENDS + 1):
        client_tx = f"{views[0].unit_code}-r{round_no}-{uuid.uuid4().hex[:16]}"
        await asyncio.to_thread(pipeline.record_request, views, round_no, client_tx, None, None)
        try:
            tx = await client.request_signatures(cert, items, f"Kỳ {views[0].period}", client_tx)
        except TransportError:
            await asyncio.sleep(min(5.0, settings.poll_initial_seconds * lost))
            continue
        break
    else:
        raise RuntimeError(f"unit {views[0].unit_code}: round {round_no}: sign requests lost")
    await asyncio.to_thread(
        pipeline.record_request, views, round_no, client_tx, tx.id, tx.expires_at
    )
    tx_id = tx.id
    deadline = tx.expires_at or dt.datetime.now(dt.UTC) + dt.timedelta(
        seconds=settings.approval_window_seconds
    )

    async def read() -> Transaction | None:
        try:
            return await client.get_transaction(tx_id, cert, items)
        except TransportError:
            return None

    tx = await wait_for_outcome(
        read,
        tx,
        deadline=deadline,
        first_delay=settings.poll_initial_seconds,
        max_delay=settings.poll_max_seconds,
    )
    if tx.status is not TxStatus.SUCCEEDED:
        raise RuntimeError(f"unit {views[0].unit_code}: round {round_no} {tx.status.value}")
    await asyncio.to_thread(pipeline.apply_round, views, round_no, tx.id, tx.signatures, cert.der)


async def _unit_run(
    bu: BaselineUnit,
    misa_url: str,
    client_id: str,
    client_key: str,
    port: GatewayAdapter,
    period: str,
    settings: Settings,
) -> int:
    pipeline = Pipeline(DossierStore(settings.store_dir), settings.outbox_dir)
    unit = bu.unit
    async with MisaESignClient(
        misa_url, client_id, client_key, bu.username, bu.password,
        timeout=settings.http_timeout_seconds,
    ) as client:  # fmt: skip
        views = await asyncio.to_thread(pipeline.load, unit, period, settings.inbox_dir)
        await client.login()
        certs = await client.list_certificates()
        cert = next(c for c in certs if c.serial.upper() == bu.certificate_serial.upper())
        registration = await port.registration(unit.code)
        assert registration.state == "registered"
        await _sign_round(client, cert, pipeline, views, 1, settings)
        await asyncio.to_thread(pipeline.build_envelopes, views, unit)
        await _sign_round(client, cert, pipeline, views, 2, settings)
        problems = await pipeline.submit(views, port, refused=SubmissionRefused)
        if problems:
            raise RuntimeError("; ".join(problems))
    return sum(1 for v in views if pipeline.view(v).submitted)


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
        port = await GatewayAdapter.connect(gateway)
        counts = await asyncio.gather(
            *(_unit_run(u, misa_url, client_id, client_key, port, period, settings) for u in units)
        )
    return sum(counts)
