"""Runs a person can find: a flow run named by unit and period (``an-phat-12-2026``) and
tagged ``unit:<block>`` and ``period:<MM-YYYY>``, so that the UI's run list filters by
company and month.

Prefect names a run when it is created, before the flow has read its unit; the flow
renames and tags its own run once it knows them (a child run started by a parent does the
same, so it gets its unit's tags too).
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import get_client
from prefect.context import FlowRunContext
from prefect.logging import get_logger

from bhxh.intake import validate_period
from bhxh.periods import folder_name

__all__ = ["name_this_run", "run_name", "run_tags"]


def _period_part(period: str | None) -> str:
    if not period:
        return "moi-ky"  # every period
    return folder_name(*validate_period(period))


def run_name(units: Sequence[str], period: str | None) -> str:
    """``an-phat-12-2026`` for one unit; ``3-don-vi-12-2026`` for several."""
    who = units[0] if len(units) == 1 else f"{len(units)}-don-vi"
    return f"{who}-{_period_part(period)}"


def run_tags(units: Sequence[str], period: str | None) -> list[str]:
    """One tag per unit and one for the period."""
    tags = [f"unit:{u}" for u in units]
    if period:
        tags.append(f"period:{_period_part(period)}")
    return tags


async def name_this_run(units: Sequence[str], period: str | None) -> None:
    """Rename and tag the current flow run (nothing outside a flow run). Never fails a
    run: the name is a convenience."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    run = context.flow_run
    tags = list(dict.fromkeys([*(run.tags or []), *run_tags(units, period)]))
    try:
        async with get_client() as client:
            await client.update_flow_run(run.id, name=run_name(units, period), tags=tags)
    except Exception:  # the run goes on under Prefect's own name
        get_logger("bhxh.flows").debug("the run could not be renamed or tagged", exc_info=True)
