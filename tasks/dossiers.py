"""Tasks over ``bhxh.pipeline``: load, prepare and apply a round, build envelopes, submit.

Each task is a thin wrapper: the step itself (journal first, nothing done twice) is in
``bhxh.pipeline``; file and CPU work runs in a worker thread so that the event loop other
units share is not stalled.

Granularity: one task run per unit and step (``prepare_round``, ``apply_round``,
``submit_dossiers``), whatever the number of dossiers, because every task run costs writes
in the Prefect database, and a monthly run of hundreds of units must stay in the tens of
task runs per unit. The envelopes are built inside round 2's ``prepare_round``, and
journal writes around a signing request are not tasks at all
(``record_signing_request``). Every task here is a ``unit_task``: its arguments (the
dossiers' views, with their journals) are handed over without Prefect walking them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence

from prefect.logging import get_run_logger

from bhxh.overview import local_registration
from bhxh.pipeline import DossierView, Prepared, VssStatus
from bhxh.submission import DossierStatus, Registration, SubmissionRefused
from esign.models import Certificate
from tasks._unwalked import unit_task
from tasks.crash import crash_point
from tasks.session import UnitSession

__all__ = [
    "apply_round",
    "load_dossiers",
    "open_registration_dossier",
    "prepare_round",
    "read_dossier_status",
    "read_dossier_statuses",
    "read_registration",
    "record_receipt",
    "record_signing_request",
    "submit_dossiers",
    "to_vss_status",
]


@unit_task("load_dossiers")
async def load_dossiers(session: UnitSession, period: str) -> list[DossierView]:
    """The period's dossiers from the inbox, validated and opened (nothing when one fails)."""
    unit = session.unit
    return await asyncio.to_thread(
        session.pipeline.load, unit.unit_info(), period, unit.inbox_path(session.settings)
    )


@unit_task("open_registration_dossier")
async def open_registration_dossier(
    session: UnitSession, period: str, kind: str, form_xml: bytes
) -> DossierView:
    """A 04/05/06 form put in the store as a one-round dossier."""
    return await asyncio.to_thread(
        session.pipeline.open_form, session.unit.unit_info(), period, kind, form_xml
    )


@unit_task("prepare_round")
async def prepare_round(
    session: UnitSession, views: list[DossierView], round_no: int, certificate: Certificate
) -> dict[str, Prepared]:
    """Phase one for every dossier of a unit's round, in one task run: by dossier id.

    Round 1 takes the PDF attachments along (signed with the certificate's chain in their
    CMS, stamped as the unit block says). Round 2 first builds the envelope
    (``BHXHDienTu.xml``, what round 2 signs) of every business dossier that has none yet:
    built once, kept in the dossier's folder, so a re-run finds it and builds nothing.
    It was a task run of its own; here it costs none (issue 29), and its log line says
    it happened.
    """
    if round_no == 2:
        business = [v for v in views if not v.is_registration]
        if business:
            await asyncio.to_thread(
                session.pipeline.build_envelopes, business, session.unit.unit_info()
            )
            n = len(business)
            get_run_logger().info(
                "Đã lập phong bì BHXHDienTu.xml cho %d hồ sơ / envelopes of %d %s ready",
                n,
                n,
                "dossier" if n == 1 else "dossiers",
            )
            crash_point("envelopes-built")
    return await asyncio.to_thread(
        session.pipeline.prepare_round,
        views,
        round_no,
        certificate.der,
        chain_der=certificate.chain,
        stamp=session.unit.stamp_spec(),
    )


async def record_signing_request(
    session: UnitSession,
    views: Sequence[DossierView],
    round_no: int,
    client_transaction_id: str,
    transaction_id: str | None,
    expires_at: dt.datetime | None,
    *,
    covers: Sequence[str] | None = None,
    void: Sequence[str] = (),
) -> None:
    """Journal the round's request in every dossier of ``views`` (before the send, with the
    ``void`` references it replaces; the answer is journalled by
    ``tasks.signing.request_signatures`` itself; and a request found again after a crash,
    ``covers`` naming every dossier it covered).

    Not a task: a task run per journal write was most of a monthly run's load on the
    Prefect API.
    """
    await asyncio.to_thread(
        session.pipeline.record_request,
        views,
        round_no,
        client_transaction_id,
        transaction_id,
        expires_at,
        covers=covers,
        void=void,
    )


@unit_task("apply_round")
async def apply_round(
    session: UnitSession,
    views: list[DossierView],
    round_no: int,
    transaction_id: str,
    signatures: Mapping[str, bytes],
    certificate_der: bytes,
) -> list[DossierView]:
    """Phase two for every dossier of a unit's round, in one task run (each dossier
    journalled as soon as it is applied, so a crash in between resumes cleanly)."""
    return await asyncio.to_thread(
        session.pipeline.apply_round, views, round_no, transaction_id, signatures, certificate_der
    )


@unit_task("submit_dossiers")
async def submit_dossiers(session: UnitSession, views: list[DossierView]) -> list[str]:
    """Hand every signed dossier not handed over (or refused) yet to the unit's I-VAN, in
    one task run: through its gateway, or exported for its software.

    A refusal is journalled (``failed``, with the carrier's code and words) and does not
    stop the others; returns one problem line per refused dossier.
    """
    problems = await session.pipeline.submit(views, session.port, refused=SubmissionRefused)
    logger = get_run_logger()
    for view in views:
        current = await asyncio.to_thread(session.pipeline.view, view)
        ack = current.acknowledgement
        if ack is None or view.handed_over:
            continue
        if current.exported:
            logger.info(
                "Đã xuất hồ sơ %s để nộp qua phần mềm I-VAN / dossier exported for the "
                "I-VAN's software: %s",
                current.id,
                ack.location,
            )
        else:
            logger.info(
                "Đã nộp hồ sơ %s / dossier submitted (gateway %s)",
                current.id,
                ack.gateway_transaction_id,
            )
    return problems


def to_vss_status(status: DossierStatus) -> VssStatus:
    """The carrier's status as the journal keeps it."""
    return VssStatus(
        status=status.status,
        so_ho_so=status.so_ho_so,
        dot=status.dot,
        promised_date=status.promised_date.isoformat() if status.promised_date else None,
        outcome=status.outcome,
        messages=tuple(status.messages),
    )


@unit_task("read_dossier_status")
async def read_dossier_status(session: UnitSession, view: DossierView) -> VssStatus | None:
    """The carrier's status of a handed-over dossier (None: no news yet, e.g. an export
    whose receipt nobody entered); receipts and results are journalled."""
    key = (await asyncio.to_thread(session.pipeline.submission, view)).natural_key
    status = await session.port.status(key, view.id)
    if status is None:
        return None
    vss = to_vss_status(status)
    await asyncio.to_thread(session.pipeline.record_status, view, vss)
    return vss


@unit_task("read_dossier_statuses")
async def read_dossier_statuses(
    session: UnitSession, views: Sequence[DossierView]
) -> dict[str, VssStatus | None]:
    """The carrier's status of several handed-over dossiers, in one task run (the wait for
    receipts at the end of a run reads them a few times); receipts and results are
    journalled."""
    found: dict[str, VssStatus | None] = {}
    for view in views:
        key = (await asyncio.to_thread(session.pipeline.submission, view)).natural_key
        status = await session.port.status(key, view.id)
        vss = to_vss_status(status) if status is not None else None
        if vss is not None:
            await asyncio.to_thread(session.pipeline.record_status, view, vss)
        found[view.id] = vss
    return found


@unit_task("record_receipt")
async def record_receipt(session: UnitSession, view: DossierView, receipt: VssStatus) -> None:
    """Journal a receipt a person typed (the export route: the soHoSo the I-VAN gave)."""
    await asyncio.to_thread(session.pipeline.record_status, view, receipt)


@unit_task("read_registration")
async def read_registration(session: UnitSession) -> Registration:
    """What VSS has on file for the unit: from the carrier when it can read it, else
    tracked locally from the unit's 04/05/06 dossiers (``bhxh.overview``)."""
    unit = session.unit
    if session.port.capabilities.registration_read:
        return await session.port.registration(unit.unit_code)
    views = await asyncio.to_thread(session.pipeline.unit_views, unit.unit_code)
    return local_registration(
        unit.unit_code,
        views,
        recorded_state=unit.registration_state,
        recorded_serial=unit.registered_serial,
        tax_code=unit.tax_code,
    )
