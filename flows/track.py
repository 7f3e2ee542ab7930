"""track_results: receipts (soHoSo, dot) and results of handed-over dossiers, until VSS
gives a final outcome or the wait ends."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from prefect import flow
from prefect.logging import get_run_logger

from bhxh.pipeline import DossierView, VssStatus
from bhxh.settings import Settings
from bhxh.submission import FINAL_STATUSES
from blocks.unit import BhxhUnit
from flows._artifacts import UnitProgress, artifact_key, count_en, publish_table, status_label
from flows._failures import RunScope, run_explained
from flows._forms import (
    MaxWait,
    OptionalPeriod,
    PollEvery,
    UnitNames,
    check_period,
    check_unit_names,
)
from flows._naming import name_this_run
from flows._outcomes import track_outcome
from flows._overview import publish_overviews
from tasks.dossiers import read_dossier_status
from tasks.session import RunResources, UnitSession, open_unit_session

__all__ = ["track_results"]


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


@flow(name="track_results", validate_parameters=False)
async def track_results(
    period: OptionalPeriod = "",
    units: UnitNames = (),
    max_wait_seconds: MaxWait = 60,
    poll_seconds: PollEvery = 5,
) -> list[dict[str, Any]]:
    """Theo dõi số hồ sơ và kết quả của hồ sơ đã nộp / follow handed-over dossiers until
    VSS gives a final outcome (or the wait ends).

    Reads the unit's carrier for every dossier submitted or exported without a final
    outcome yet: by default of every period, the 04, 05 and 06 forms of setup included.
    For the gateway route it reads the gateway's status, for the export route the receipts
    file in the export location. Records receipts (soHoSo, dot) and results in the dossier
    store, and publishes them.

    Args:
        period: Chỉ theo dõi một kỳ (MM/yyyy); để trống = mọi hồ sơ chưa có kết quả của mọi
            kỳ, cả tờ khai 04/05/06, ví dụ 10/2026 / follow one period only (MM/yyyy);
            empty = every dossier without a final outcome, of every period, the 04/05/06
            forms included, e.g. 10/2026.
        units: Các công ty cần theo dõi, chọn một hoặc nhiều trong danh sách (tên, mã số
            thuế, mã đơn vị); để trống = mọi đơn vị đã lưu / the companies to follow, one or
            more chosen in the list (name, tax code, unit code); empty = every saved unit.
        max_wait_seconds: Chờ kết quả tối đa bấy nhiêu giây (0 đến 86400, mặc định 60; 0 =
            đọc một lần) / wait at most this many seconds for outcomes (0 to 86400, default
            60; 0 = read once).
        poll_seconds: Hỏi lại BHXH sau mỗi bấy nhiêu giây (0 đến 3600, mặc định 5) / ask VSS
            again every this many seconds (0 to 3600, default 5).

    Example:
        ```python
        import asyncio
        from flows import track_results

        asyncio.run(track_results(period="01/2026"))
        ```
    """
    scope = RunScope("track_results")

    async def body() -> list[dict[str, Any]]:
        shown, names = (
            check_period(period, empty_means=""),
            await check_unit_names(list(units or ())),
        )
        await name_this_run(names, shown or None)
        return await _track(
            shown,
            names,
            float(max_wait_seconds),
            float(poll_seconds),
        )

    return await run_explained(
        scope, body, lambda table: track_outcome(check_period(period, empty_means=""), table)
    )


async def _track(
    period: str, names: list[str], max_wait_seconds: float, poll_seconds: float
) -> list[dict[str, Any]]:
    settings = Settings()
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
            found = await asyncio.to_thread(_to_follow, session, period or None)
            followed += [(session, v) for v in found]
        progress = await UnitProgress.start(
            len(names),
            artifact_key("ket-qua-tien-do", "results-progress", period or "open"),
            f"theo dõi kết quả {period or 'mọi kỳ'}",
            f"following results of {period or 'every period'}",
        )
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
            still = {
                s.unit_block for s, v in followed if latest[v.id][1].status not in FINAL_STATUSES
            }
            for name in names:  # a unit is finished once none of its dossiers is open
                if name not in still:
                    await progress.finished(name)
            if not still or asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(poll_seconds)
        for name in names:  # the wait is over: what is open is left to the next run
            await progress.finished(name)
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
    shown = [
        {
            "Đơn vị / unit": row["unit"],
            "Hồ sơ / dossier": row["dossier"],
            "Thủ tục / procedure": row["procedure"],
            "Kỳ / period": row["period"],
            "Trạng thái / status": status_label(row["status"]),
            "Số hồ sơ / soHoSo": row["so_ho_so"] or "",
            "Đợt / dot": row["dot"] if row["dot"] is not None else "",
            "Kết quả / outcome": status_label(row["outcome"]) if row["outcome"] else "",
        }
        for row in table
    ]
    which_vi, which_en = (period, period) if period else ("mọi kỳ", "every period")
    await publish_table(
        shown,
        artifact_key("ket-qua", "results", period or "open"),
        f"Kết quả {which_vi}: {len(table)} hồ sơ, {changes} thay đổi / results {which_en}: "
        f"{count_en(len(table), 'dossier')}, {count_en(changes, 'change')}",
    )
    get_run_logger().info(
        "Đã theo dõi %d hồ sơ, %d thay đổi / followed %s, %s",
        len(latest),
        changes,
        count_en(len(latest), "dossier"),
        count_en(changes, "change"),
    )
    periods = [period] if period else [view.period for view, _ in latest.values()]
    await publish_overviews(periods, source="track_results")
    return table
