"""Tasks over the C12-TS notice: read it through the unit's carrier, reconcile it with the
dues computed from the unit's declarations, write the outcome down.

Thin wrappers: the reading is the port's (``bhxh.submission.NoticeReader``), the
reconciliation ``bhxh.overview.reconcile_notice`` (over ``bhxh.contributions``); file and
CPU work runs in a worker thread. A notice that is refused writes nothing.
"""

from __future__ import annotations

import asyncio

from bhxh.overview import ContributionStatus, reconcile_notice, write_contribution_status
from bhxh.submission import C12Document, ExportAdapter, LocalFolderSink, NoticeReader
from tasks._unwalked import unit_task
from tasks.session import UnitSession

__all__ = ["read_contribution_notice", "reads_notices", "reconcile_unit_contributions"]


def reads_notices(port: object) -> bool:
    """Whether the unit's carrier hands over notices itself (else a person drops them)."""
    capabilities = getattr(port, "capabilities", None)
    return isinstance(port, NoticeReader) and bool(getattr(capabilities, "notice_read", False))


@unit_task("read_contribution_notice")
async def read_contribution_notice(session: UnitSession, period: str) -> C12Document | None:
    """The unit's C12-TS notice of ``period``: from its carrier when the carrier hands
    notices over (``notice_read``), else the file a person dropped in the unit's
    ``<unit>/<MM-YYYY>/c12/`` folder (the export route's location, or the unit's outbox
    for a carrier without the read); None when there is none yet."""
    port = session.port
    unit_code = session.unit.unit_code
    if reads_notices(port) or isinstance(port, ExportAdapter):
        assert isinstance(port, NoticeReader)
        return await port.contribution_notice(unit_code, period)
    dropped = ExportAdapter(LocalFolderSink(session.unit.outbox_path(session.settings)))
    return await dropped.contribution_notice(unit_code, period)


@unit_task("reconcile_unit_contributions")
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
