"""Tasks over ``bhxh.pipeline``: load, prepare and apply a round, build envelopes, submit.

Each task is a thin wrapper: the step itself (journal first, nothing done twice) is in
``bhxh.pipeline``; file and CPU work runs in a worker thread so that the event loop other
units share is not stalled.

Granularity: one task run per unit and step (``prepare_round``, ``apply_round``,
``build_envelopes``, ``submit_dossiers``), whatever the number of dossiers, because every
task run costs writes in the Prefect database, and a monthly run of hundreds of units must
stay in the tens of task runs per unit. Journal writes around a signing request are not
tasks at all (``record_signing_request``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence

from prefect import task
from prefect.cache_policies import NONE
from prefect.logging import get_run_logger

from bhxh.gateway import Registration, SubmissionRefused
from bhxh.pipeline import DossierView, Prepared, VssStatus
from tasks.session import UnitSession

__all__ = [
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


@task(name="load_dossiers", cache_policy=NONE, persist_result=False)
async def load_dossiers(session: UnitSession, period: str) -> list[DossierView]:
    """The period's dossiers from the inbox, validated and opened (nothing when one fails)."""
    unit = session.unit
    return await asyncio.to_thread(
        session.pipeline.load, unit.unit_info(), period, unit.inbox_path(session.settings)
    )


@task(name="open_registration_dossier", cache_policy=NONE, persist_result=False)
async def open_registration_dossier(
    session: UnitSession, period: str, kind: str, form_xml: bytes
) -> DossierView:
    """A 04/05/06 form put in the store as a one-round dossier."""
    return await asyncio.to_thread(
        session.pipeline.open_form, session.unit.unit_info(), period, kind, form_xml
    )


@task(name="prepare_round", cache_policy=NONE, persist_result=False)
async def prepare_round(
    session: UnitSession, views: list[DossierView], round_no: int, certificate_der: bytes
) -> dict[str, Prepared]:
    """Phase one for every dossier of a unit's round, in one task run: by dossier id."""
    return await asyncio.to_thread(session.pipeline.prepare_round, views, round_no, certificate_der)


async def record_signing_request(
    session: UnitSession,
    views: Sequence[DossierView],
    round_no: int,
    client_transaction_id: str,
    transaction_id: str | None,
    expires_at: dt.datetime | None,
) -> None:
    """Journal the round's request in every dossier it covers (twice: before and after).

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
    )


@task(name="apply_round", cache_policy=NONE, persist_result=False)
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


@task(name="build_envelopes", cache_policy=NONE, persist_result=False)
async def build_envelopes(session: UnitSession, views: list[DossierView]) -> None:
    """``BHXHDienTu.xml`` for every business dossier of ``views``, in one task run."""
    await asyncio.to_thread(session.pipeline.build_envelopes, views, session.unit.unit_info())


@task(name="submit_dossiers", cache_policy=NONE, persist_result=False)
async def submit_dossiers(session: UnitSession, views: list[DossierView]) -> list[str]:
    """Submit every signed dossier not submitted (or refused) yet, in one task run.

    A refusal is journalled (``failed``, with the gateway's code and words) and does not
    stop the others; returns one problem line per refused dossier.
    """
    problems = await session.pipeline.submit(views, session.gateway, refused=SubmissionRefused)
    logger = get_run_logger()
    for view in views:
        current = await asyncio.to_thread(session.pipeline.view, view)
        ack = current.acknowledgement
        if ack is not None and not view.submitted:
            logger.info(
                "Đã nộp hồ sơ %s / dossier submitted (gateway %s)",
                current.id,
                ack.gateway_transaction_id,
            )
    return problems


@task(name="read_dossier_status", cache_policy=NONE, persist_result=False)
async def read_dossier_status(session: UnitSession, view: DossierView) -> VssStatus:
    """The gateway's status of a submitted dossier; receipts and results are journalled."""
    status = await session.gateway.status(view.id)
    vss = VssStatus(
        status=status.status,
        so_ho_so=status.so_ho_so,
        dot=status.dot,
        promised_date=status.promised_date.isoformat() if status.promised_date else None,
        outcome=status.outcome,
        messages=tuple(status.messages),
    )
    await asyncio.to_thread(session.pipeline.record_status, view, vss)
    return vss


@task(name="read_registration", cache_policy=NONE, persist_result=False)
async def read_registration(session: UnitSession) -> Registration:
    """What VSS has on file for the unit: state and registered certificate."""
    return await session.gateway.registration(session.unit.unit_code)
