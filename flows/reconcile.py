"""reconcile_contributions: each unit's C12-TS notice of a period, read through its
carrier and reconciled with the dues its declarations make, before the payment deadline.

Per unit: the notice is read (the gateway's C12 call; on the export route the portal's
answer the accountant dropped as ``<unit>/<MM-YYYY>/c12/C12-TS.json`` or ``.xlsx``),
checked, reconciled (``bhxh.contributions``) and written down beside the period's dossiers
(``bhxh.overview``), so that the month view shows due / paid / difference / deadline
without calling anyone. Each unit's outcome is an artifact; the period's overview is
published at the end (its warnings become events: under-paid, deadline near).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from prefect import flow
from prefect.logging import get_run_logger
from pydantic import Field

from bhxh import periods
from bhxh.errors import InputRefused
from bhxh.overview import ContributionStatus, vnd
from bhxh.submission import NOTICE_FOLDER, NOTICE_JSON, NOTICE_XLSX
from blocks.unit import BhxhUnit
from flows._artifacts import artifact_key, count, publish_markdown, publish_table, text
from flows._failures import RunScope, explain, run_explained
from flows._forms import FORM_OPTIONAL_PERIOD_PATTERN, UnitNames, check_period, check_unit_names
from flows._naming import name_this_run
from flows._overview import publish_overview
from flows.errors import NoticesRefused
from tasks.contributions import (
    read_contribution_notice,
    reads_notices,
    reconcile_unit_contributions,
)
from tasks.session import RunResources, open_unit_session

__all__ = ["ReconcileOutcome", "reconcile_contributions"]

if TYPE_CHECKING:
    ReconcilePeriod = str | None
else:
    ReconcilePeriod = Annotated[
        str,
        Field(
            json_schema_extra={
                "pattern": FORM_OPTIONAL_PERIOD_PATTERN,
                "title": "Kỳ đối chiếu / Period (MM/yyyy; để trống = tháng trước / empty = "
                "the month before)",
                "example": "10/2026",
            },
        ),
    ]

#: What happened to a unit: (Vietnamese, English).
OUTCOME_LABELS = {
    "matched": ("Khớp, đã nộp đủ", "matched, paid in full"),
    "short": ("Nộp thiếu", "under-paid"),
    "over": ("Nộp thừa", "over-paid"),
    "differs": ("Có chênh lệch cần xem", "differences to look at"),
    "no_notice": ("Chưa có thông báo C12-TS", "no C12-TS notice yet"),
    "refused": ("Thông báo bị từ chối, chưa ghi gì", "notice refused, nothing written"),
}


@dataclass(frozen=True)
class ReconcileOutcome:
    """One unit's outcome: what the run's table and result say (no secret)."""

    unit: str
    name: str
    period: str
    outcome: str  # a key of OUTCOME_LABELS
    due: int | None = None
    paid: int | None = None
    difference: int | None = None  # paid - due: negative when short
    deadline: str = ""  # ISO date
    message: str = ""

    def to_data(self) -> dict[str, Any]:
        vi, en = OUTCOME_LABELS[self.outcome]
        return {
            "Đơn vị / unit": self.unit,
            "Tên / name": self.name,
            "Kỳ / period": self.period,
            "Kết quả / outcome": f"{vi} / {en}",
            "Phải đóng / due": vnd(self.due) if self.due is not None else "",
            "Đã nộp / paid": vnd(self.paid) if self.paid is not None else "",
            "Chênh lệch / difference": vnd(self.difference) if self.difference is not None else "",
            "Hạn đóng / deadline": self.deadline,
            "Ghi chú / note": self.message,
        }


def _outcome(status: ContributionStatus) -> str:
    if status.short:
        return "short"
    if status.difference > 0:
        return "over"
    return "differs" if status.lines else "matched"


def _unit_markdown(unit: BhxhUnit, status: ContributionStatus) -> str:
    vi, en = OUTCOME_LABELS[_outcome(status)]
    if status.difference < 0:
        diff = f"thiếu / short **{vnd(-status.difference)}**"
    elif status.difference > 0:
        diff = f"thừa / over {vnd(status.difference)}"
    else:
        diff = "0 đ"
    lines = [
        f"# Đối chiếu C12-TS kỳ {status.period} · {text(unit.name)} ({unit.unit_code})",
        "",
        f"**{vi}** / {en}.",
        "",
        "| Phải đóng / due | Đã nộp / paid | Chênh lệch / difference | Hạn đóng / deadline |",
        "|---:|---:|---:|---|",
        f"| {vnd(status.due)} | {vnd(status.paid)} | {diff} | {status.deadline:%d/%m/%Y} |",
        "",
        f"Tính từ tờ khai / computed from the declarations: **{vnd(status.computed_due)}**; "
        f"số lao động trên thông báo / headcount on the notice: {status.headcount}, tính từ "
        f"tờ khai / declared: {status.computed_headcount}. Nguồn / source: "
        f"`{text(status.source)}`.",
        "",
        "## Giải thích · Explained",
        "",
    ]
    if status.lines:
        lines += [f"- {text(line.message_vi)} — *{text(line.message_en)}*" for line in status.lines]
    else:
        lines.append("Thông báo khớp với tờ khai và đã nộp đủ / the notice agrees and is paid.")
    return "\n".join(lines) + "\n"


def _no_notice_message(unit: BhxhUnit, period: str, readable: bool) -> str:
    if not readable:
        where = f"{unit.unit_code}/{periods.folder_name(*_month(period))}/{NOTICE_FOLDER}/"
        place_vi, place_en = (
            ("nơi xuất tệp", "the export location")
            if unit.route == "export" and unit.export_block
            else ("thư mục tệp đã ký (outbox)", "the outbox")
        )
        return (
            f"Tải thông báo C12-TS kỳ {period} từ cổng BHXH, lưu thành {NOTICE_JSON} hoặc "
            f"{NOTICE_XLSX} trong thư mục {where} của {place_vi} / download the {period} "
            f"C12-TS notice from the VSS portal and save it as {NOTICE_JSON} or {NOTICE_XLSX} "
            f"in {where} of {place_en}"
        )
    return (
        f"I-VAN chưa có thông báo C12-TS kỳ {period}; chạy lại sau / the carrier has no "
        f"C12-TS notice for {period} yet; run again later"
    )


def _month(period: str) -> tuple[int, int]:
    parsed = periods.parse_period(period)
    assert parsed is not None
    return parsed


async def _reconcile_unit(
    name: str, period: str, shared: RunResources
) -> tuple[ReconcileOutcome, bool]:
    """One unit's outcome, and whether its notice was refused."""
    logger = get_run_logger()
    unit = await BhxhUnit.aload_unit(name)
    async with open_unit_session(name, unit, signing=False, shared=shared) as session:
        readable = reads_notices(session.port)
        try:
            document = await read_contribution_notice(session, period)
            if document is None:
                message = _no_notice_message(unit, period, readable)
                logger.info("%s: %s", unit.unit_code, message)
                return ReconcileOutcome(
                    unit.unit_code, unit.name, period, "no_notice", message=message
                ), False
            status = await reconcile_unit_contributions(session, document)
        except InputRefused as exc:
            message = str(exc)
            logger.error("%s: %s", unit.unit_code, message)
            return ReconcileOutcome(
                unit.unit_code, unit.name, period, "refused", message=message
            ), True
    for line in status.lines:
        logger.warning("%s / %s", line.message_vi, line.message_en)
    await publish_markdown(
        _unit_markdown(unit, status),
        artifact_key("doi-chieu", unit.unit_code, period),
        f"Đối chiếu C12-TS / reconciliation {unit.unit_code} {period}: phải đóng / due "
        f"{vnd(status.due)}, đã nộp / paid {vnd(status.paid)}",
    )
    return ReconcileOutcome(
        unit.unit_code,
        unit.name,
        period,
        _outcome(status),
        due=status.due,
        paid=status.paid,
        difference=status.difference,
        deadline=status.deadline.isoformat(),
        message=" ".join(line.message_vi for line in status.lines),
    ), False


@flow(name="reconcile_contributions", validate_parameters=False)
async def reconcile_contributions(
    period: ReconcilePeriod = "",
    units: UnitNames = (),
) -> list[ReconcileOutcome]:
    """Đối chiếu thông báo C12-TS với tờ khai / reconcile each unit's C12-TS contribution
    notice with the dues its declarations make, before the payment deadline.

    Reads each unit's notice through its carrier (on the export route, the file the
    accountant saved in the period's c12 folder), checks it, reconciles it and writes
    the outcome beside the period's dossiers; publishes each unit's outcome (due, paid,
    difference, deadline and every difference explained) and the period's overview.

    Args:
        period: Kỳ cần đối chiếu (MM/yyyy); để trống = tháng trước, như lượt chạy theo lịch
            sau ngày 15, ví dụ 10/2026 / the period to reconcile (MM/yyyy); empty = the month
            before, as the scheduled run after the 15th does, e.g. 10/2026.
        units: Các công ty cần đối chiếu, chọn một hoặc nhiều trong danh sách (tên, mã số
            thuế, mã đơn vị); để trống = mọi đơn vị đã lưu / the companies to reconcile, one
            or more chosen in the list (name, tax code, unit code); empty = every saved unit.

    Example:
        ```python
        import asyncio
        from flows import reconcile_contributions

        asyncio.run(reconcile_contributions(period="01/2026"))
        ```
    """
    scope = RunScope("reconcile_contributions")

    async def body() -> list[ReconcileOutcome]:
        chosen = check_period(period, empty_means=periods.previous_period(periods.default_period()))
        names = await check_unit_names(list(units or ()))
        await name_this_run(names, chosen)
        outcomes: list[ReconcileOutcome] = []
        refused: list[str] = []
        async with contextlib.AsyncExitStack() as stack:
            shared = await stack.enter_async_context(RunResources())
            for name in names:
                try:
                    outcome, was_refused = await _reconcile_unit(name, chosen, shared)
                except Exception as exc:  # one unit's trouble never hides the others'
                    why = explain(exc)
                    outcome = ReconcileOutcome(
                        name, "", chosen, "refused", message=why.message()[:500]
                    )
                    was_refused = True
                outcomes.append(outcome)
                if was_refused:
                    refused.append(f"{outcome.unit}: {outcome.message}")
        short = sum(1 for o in outcomes if o.outcome == "short")
        await publish_table(
            [o.to_data() for o in outcomes],
            artifact_key("doi-chieu", chosen),
            f"Đối chiếu C12-TS kỳ {chosen} / reconciliation {chosen}: "
            f"{count(len(outcomes), 'đơn vị', 'unit')}, {short} nộp thiếu / under-paid",
        )
        await publish_overview(chosen, source="reconcile_contributions")
        if refused:
            raise NoticesRefused(
                f"{len(refused)}/{len(names)} đơn vị / unit(s):\n- " + "\n- ".join(refused)
            )
        return outcomes

    return await run_explained(scope, body)
