"""Publish the period overview: the artifact, the reports, the warnings as events.

Called at the end of ``monthly_submission``, ``sign_and_submit``, ``track_results`` and
``reconcile_contributions``.
The rows, totals and warnings are computed in ``bhxh.overview`` (plain Python) from every
saved unit block and the dossier store; here they become:

* a Markdown artifact with the stable key ``overview-<MM>-<YYYY>`` (one per period).
  Prefect keeps every artifact created under a key as a version of it and shows the
  latest on the key's page (Artifacts > ``overview-01-2026``): each publication is tied to
  the run that made it, and the page always shows the firm's month as it is now;
* ``tong-quan-<MM>-<YYYY>.csv`` / ``-canh-bao.csv`` / ``.xlsx`` in ``Settings.reports_dir``
  (``bhxh.overview``);
* a ``bhxh.warning.<kind>`` event per warning not announced yet today (``tasks.events``).

Publishing never fails a run: a problem is logged as a warning and the run goes on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Iterable

from prefect import get_client
from prefect.artifacts import acreate_markdown_artifact
from prefect.logging import get_logger, get_run_logger

from bhxh.overview import (
    Limits,
    Overview,
    ReportFiles,
    UnitFacts,
    UnitState,
    WarningLedger,
    build_overview,
    dossier_status,
    read_unit_state,
    write_reports,
)
from bhxh.periods import VN_TZ
from bhxh.pipeline import Pipeline, open_store
from bhxh.settings import Settings
from blocks.unit import BhxhUnit
from flows._artifacts import artifact_key
from tasks.events import emit_warnings

__all__ = ["overview_key", "publish_overview", "publish_overviews"]


def overview_key(period: str) -> str:
    """The artifact key of a period's overview: ``"01/2026"`` -> ``"overview-01-2026"``."""
    return artifact_key("overview", period)


async def _unit_blocks() -> list[tuple[str, BhxhUnit]]:
    """Every saved unit block, in one API call (unit blocks hold no secret).

    Two blocks naming the same unit code would show its dossiers twice: the block saved
    last is the one shown.
    """
    async with get_client() as client:
        documents = await client.read_block_documents_by_type("bhxh-unit", include_secrets=False)
    newest = dt.datetime.min.replace(tzinfo=dt.UTC)
    documents = sorted(documents, key=lambda d: d.updated or d.created or newest)
    by_code: dict[str, tuple[str, BhxhUnit]] = {}
    for doc in documents:
        if doc.name and not doc.is_anonymous:
            try:
                unit = BhxhUnit._from_block_document(doc)
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                # One unreadable block (a provider no longer installed, say) must not hide
                # every other company of the month.
                get_logger("bhxh.flows").warning(
                    "Khối đơn vị %s không đọc được, bỏ qua trong tổng quan / unit block %s "
                    "cannot be read, left out of the overview: %s",
                    doc.name,
                    doc.name,
                    str(exc).splitlines()[0],
                )
                continue
            by_code[unit.unit_code] = (doc.name, unit)
    return sorted(by_code.values(), key=lambda u: u[1].unit_code)


def _facts(block: str, unit: BhxhUnit, account: str = "") -> UnitFacts:
    return UnitFacts(
        code=unit.unit_code,
        name=unit.name,
        block=block,
        account=account,
        route=unit.route,
        ivan_code=unit.ivan_code,
        certificate_serial=unit.certificate_serial or None,
        certificate_not_after=unit.certificate_not_after,
    )


def _read_states(
    period: str, units: list[tuple[str, BhxhUnit]], settings: Settings
) -> list[UnitState]:
    pipeline = Pipeline(open_store(settings), settings.outbox_dir)
    return [
        read_unit_state(
            _facts(block, unit),
            pipeline,
            unit.inbox_path(settings),
            period,
            outbox_dir=unit.outbox_path(settings),  # the reconciled contributions
        )
        for block, unit in units
    ]


async def _with_accounts(
    states: list[UnitState], units: list[tuple[str, BhxhUnit]]
) -> list[UnitState]:
    """Name the signer's account of the units whose dossiers wait for a phone (only
    those: it costs a block read each)."""
    out = []
    for state, (block, unit) in zip(states, units, strict=True):
        if any(dossier_status(v) == "waiting_approval" for v in state.views):
            credentials = await unit.aload_credentials()
            state = dataclasses.replace(state, facts=_facts(block, unit, credentials.account))
        out.append(state)
    return out


def _limits(settings: Settings) -> Limits:
    return Limits(
        certificate_days=settings.certificate_warning_days,
        deadline_days=settings.deadline_warning_days,
        change_pending_days=settings.change_pending_warning_days,
    )


async def build_period_overview(
    period: str, *, source: str = "", settings: Settings | None = None
) -> Overview:
    """The period's overview of every saved unit, as the store and the inbox say now."""
    settings = settings or Settings()
    units = await _unit_blocks()
    states = await asyncio.to_thread(_read_states, period, units, settings)
    states = await _with_accounts(states, units)
    return build_overview(
        period, states, now=dt.datetime.now(dt.UTC), limits=_limits(settings), source=source
    )


async def publish_overview(
    period: str, *, source: str, settings: Settings | None = None
) -> Overview | None:
    """Build the period's overview and publish it (artifact, reports, warning events).

    Returns the overview, or None when it could not be published (logged, never raised).
    """
    logger = get_run_logger()
    settings = settings or Settings()
    try:
        overview = await build_period_overview(period, source=source, settings=settings)
        await acreate_markdown_artifact(
            markdown=overview.to_markdown(),
            key=overview_key(period),
            description=overview.summary(),
        )
        files: ReportFiles = await asyncio.to_thread(write_reports, overview, settings.reports_dir)
        ledger = WarningLedger(settings.reports_dir)
        today = dt.datetime.now(VN_TZ).date()
        fresh = await asyncio.to_thread(ledger.due, overview.warnings, today)
        emit_warnings(fresh)
    except Exception as exc:  # the overview is a view: it never fails the run
        logger.warning(
            "Không cập nhật được tổng quan kỳ %s / could not publish the overview of %s: %s",
            period,
            period,
            exc,
        )
        return None
    logger.info(
        "Tổng quan kỳ %s: %d hồ sơ, %d cảnh báo / overview of %s: %d dossier(s), %d "
        "warning(s). Artifact %s; báo cáo / reports %s, %s",
        period,
        len(overview.rows),
        len(overview.warnings),
        period,
        len(overview.rows),
        len(overview.warnings),
        overview_key(period),
        files.csv,
        files.xlsx,
    )
    for warning in overview.warnings:
        logger.warning("%s / %s", warning.message_vi, warning.message_en)
    return overview


async def publish_overviews(periods: Iterable[str], *, source: str) -> None:
    """:func:`publish_overview` for each period, oldest first."""
    settings = Settings()
    for period in sorted(set(periods), key=lambda p: (p[3:], p[:2])):
        await publish_overview(period, source=source, settings=settings)
