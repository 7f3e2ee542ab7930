"""monthly_submission: every configured unit at once; track_results: receipts and results."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from prefect import flow, get_client
from prefect.artifacts import acreate_table_artifact
from prefect.logging import get_run_logger

from bhxh.gateway import FINAL_STATUSES
from bhxh.periods import default_period
from bhxh.pipeline import DossierView, VssStatus
from bhxh.settings import Settings
from blocks.unit import BhxhUnit
from flows._overview import publish_overview, publish_overviews
from flows._signing import artifact_key
from flows.sign_and_submit import Batching, DossierSummary, run_unit
from tasks.dossiers import read_dossier_status
from tasks.session import RunResources, UnitSession, open_unit_session

__all__ = ["list_unit_blocks", "monthly_submission", "track_results"]


async def list_unit_blocks() -> list[str]:
    """Names of every saved ``BhxhUnit`` block."""
    async with get_client() as client:
        documents = await client.read_block_documents_by_type("bhxh-unit", include_secrets=False)
    return sorted(d.name for d in documents if d.name and not d.is_anonymous)


@flow(name="monthly_submission")
async def monthly_submission(
    period: str | None = None,
    units: list[str] | None = None,
    batching: Batching = "per_unit",
    dry_run: bool = False,
) -> list[DossierSummary]:
    """Sign and submit the period's dossiers of every configured unit, concurrently.

    Every unit's phone is pinged at once and the approval waits overlap; one unit's
    failure does not stop the others (it is reported, and the run ends Failed). Every
    unit's work runs inside this one flow run, as task runs: a subflow per unit costs the
    Prefect API a flow run's writes each, and hundreds of them at once stalled the
    SQLite-backed local API. A monthly run never pauses for a person: a unit that needs one
    (a one-time code, a rejection after the bounded attempts) is reported with what to do,
    and ``sign_and_submit`` for that unit, started by hand, asks.

    Args:
        period: ``MM/yyyy``; default the current month in Vietnam's time.
        units: ``BhxhUnit`` block names; default every saved unit.
        batching: ``per_unit`` (at most two approvals per unit) or ``per_dossier``.
        dry_run: validate and list, sign nothing.

    Example:
        ```python
        import asyncio
        from flows import monthly_submission

        asyncio.run(monthly_submission(period="01/2026"))
        ```
    """
    logger = get_run_logger()
    period = period or default_period()
    names = units if units is not None else await list_unit_blocks()
    logger.info("Monthly submission %s for %d unit(s)", period, len(names))
    async with RunResources() as shared:
        outcomes = await asyncio.gather(
            *(
                run_unit(
                    name, period, batching, dry_run, False, shared=shared, summary_artifact=False
                )
                for name in names
            ),
            return_exceptions=True,
        )
    rows: list[DossierSummary] = []
    failures: list[str] = []
    for name, outcome in zip(names, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, Exception):
                raise outcome
            failures.append(f"{name}: {outcome}")
            rows.append(DossierSummary(name, "-", "-", 0, "", "failed", str(outcome)[:500]))
        else:
            rows += outcome
    await acreate_table_artifact(
        table=[r.__dict__ for r in rows],
        key=artifact_key("monthly", period),
        description=f"Monthly submission {period}: {len(names)} unit(s), {len(failures)} failed",
    )
    await publish_overview(period, source="monthly_submission")
    if failures:
        raise RuntimeError(
            f"{len(failures)} of {len(names)} unit(s) did not finish:\n- " + "\n- ".join(failures)
        )
    return rows


def _to_follow(session: UnitSession, period: str | None) -> list[DossierView]:
    """Handed-over dossiers without a final outcome yet (of one period, or of every one)."""
    pipeline = session.pipeline
    unit_code = session.unit.unit_code
    views = pipeline.views(unit_code, period) if period else pipeline.unit_views(unit_code)
    return [
        v
        for v in views
        if v.handed_over and (v.result is None or v.result.status not in FINAL_STATUSES)
    ]


@flow(name="track_results")
async def track_results(
    period: str | None = None,
    units: list[str] | None = None,
    max_wait_seconds: float = 60,
    poll_seconds: float = 5,
) -> list[dict[str, Any]]:
    """Follow handed-over dossiers until VSS gives a final outcome (or the wait ends).

    Reads the unit's carrier for every dossier submitted or exported without a final
    outcome yet (of one period, or of every period and the 04/05/06 forms when ``period``
    is empty): the gateway's status, or for the export route the receipts file in the
    export location. Records receipts (``soHoSo``, ``dot``) and results in the dossier
    store, and publishes them.

    Example:
        ```python
        import asyncio
        from flows import track_results

        asyncio.run(track_results(period="01/2026"))
        ```
    """
    settings = Settings()
    names = units if units is not None else await list_unit_blocks()
    latest: dict[str, tuple[DossierView, Any]] = {}
    changes = 0
    async with contextlib.AsyncExitStack() as stack:
        shared = await stack.enter_async_context(RunResources())
        followed: list[tuple[UnitSession, DossierView]] = []
        for name in names:
            unit = await BhxhUnit.aload_unit(name)
            session = await stack.enter_async_context(
                open_unit_session(name, unit, settings=settings, signing=False, shared=shared)
            )
            followed += [(session, v) for v in await asyncio.to_thread(_to_follow, session, period)]
        deadline = asyncio.get_running_loop().time() + max_wait_seconds
        while True:
            for session, view in followed:
                known = latest.get(view.id)
                if known is not None and known[1].status in FINAL_STATUSES:
                    continue
                # None: no news yet (an export whose receipt nobody entered).
                status = await read_dossier_status(session, view) or VssStatus(
                    known[1].status if known else str(view.state)
                )
                if known is None or known[1] != status:
                    changes += 1
                latest[view.id] = (view, status)
            open_ = [v for _, v in followed if latest[v.id][1].status not in FINAL_STATUSES]
            if not open_ or asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(poll_seconds)
    table = [
        {
            "unit": view.unit_code,
            "dossier": view.id,
            "procedure": view.procedure,
            "period": view.period,
            "status": status.status,
            "so_ho_so": status.so_ho_so,
            "dot": status.dot,
            "outcome": status.outcome,
        }
        for view, status in latest.values()
    ]
    await acreate_table_artifact(
        table=table,
        key=artifact_key("results", period or "open"),
        description=f"Results {period or '(every open dossier)'}: {changes} change(s)",
    )
    get_run_logger().info("%d dossier(s) followed, %d change(s)", len(latest), changes)
    periods = [period] if period else [view.period for view, _ in latest.values()]
    await publish_overviews(periods, source="track_results")
    return table
