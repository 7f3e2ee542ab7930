"""Tasks over the C12-TS notice: read it through the unit's carrier, reconcile it with the
dues computed from the unit's declarations, write the outcome down.

Thin wrappers: the reading is the port's (``bhxh.submission.NoticeReader``), the
reconciliation ``bhxh.overview.reconcile_notice`` (over ``bhxh.contributions``); file and
CPU work runs in a worker thread. A notice that is refused writes nothing.
"""

from __future__ import annotations

import asyncio

from prefect import task
from prefect.cache_policies import NONE

from bhxh.overview import ContributionStatus, reconcile_notice, write_contribution_status
from bhxh.submission import C12Document, NoticeReader
from tasks.session import UnitSession

__all__ = ["read_contribution_notice", "reconcile_unit_contributions"]


@task(name="read_contribution_notice", cache_policy=NONE, persist_result=False)
async def read_contribution_notice(session: UnitSession, period: str) -> C12Document | None:
    """The unit's C12-TS notice of ``period`` from its carrier (or the file a person
    dropped, on the export route); None when there is none yet, or when the carrier
    cannot hand one over."""
    port = session.port
    if not isinstance(port, NoticeReader):
        return None
    return await port.contribution_notice(session.unit.unit_code, period)


@task(name="reconcile_unit_contributions", cache_policy=NONE, persist_result=False)
async def reconcile_unit_contributions(
    session: UnitSession, document: C12Document
) -> ContributionStatus:
    """The notice reconciled with the unit's declarations, and written down beside the
    period's dossiers (the month view reads it there).

    Raises:
        C12NoticeInvalid: the notice is refused; nothing is written.
    """
    status = await asyncio.to_thread(reconcile_notice, session.pipeline, document)
    outbox = session.unit.outbox_path(session.settings)
    await asyncio.to_thread(write_contribution_status, outbox, status)
    return status
