"""Warnings before they cost: a certificate about to expire, dossiers left in the inbox,
a deadline near or passed, a 05 change still waiting. Each has a kind (for programs and
events), a sentence in Vietnamese with English beside it, and the unit it is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bhxh.contributions import format_vnd
from bhxh.overview.contributions import vnd
from bhxh.overview.rows import (
    WARNING_KINDS,
    DossierRow,
    Limits,
    UnitFacts,
    UnitState,
    _date_vn,
    _local,
)
from bhxh.periods import contribution_due, period_ended, previous_period
from bhxh.pipeline import DossierView, Step

__all__ = ["OverviewWarning"]


@dataclass(frozen=True)
class OverviewWarning:
    """Something that will cost if nobody acts: which unit, what, by when.

    ``key`` identifies the situation (the same warning on another day has the same key),
    so that its event is announced once a day, not at every overview.
    """

    kind: str  # a key of WARNING_KINDS
    unit: str
    unit_name: str
    period: str
    message_vi: str
    message_en: str
    days: int  # days left (negative: days past)
    date: str  # ISO date of the deadline or expiry
    dossier: str = ""
    procedure: str = ""

    @property
    def key(self) -> str:
        where = self.dossier or (
            self.period
            if self.kind
            in ("inbox-empty", "deadline-near", "deadline-passed", "underpaid", "payment-due")
            else ""
        )
        return f"{self.kind}:{self.unit}:{where}"

    @property
    def title_vi(self) -> str:
        return WARNING_KINDS[self.kind][0]

    @property
    def title_en(self) -> str:
        return WARNING_KINDS[self.kind][1]

    def to_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "unit": self.unit,
            "unit_name": self.unit_name,
            "period": self.period,
            "dossier": self.dossier,
            "procedure": self.procedure,
            "days": self.days,
            "date": self.date,
            "message": self.message_en,
            "message_vi": self.message_vi,
        }


def _certificate_warning(
    unit: UnitFacts, period: str, now: dt.datetime, limits: Limits
) -> OverviewWarning | None:
    if unit.certificate_not_after is None:
        return None
    end = _local(unit.certificate_not_after).date()
    days = (end - _local(now).date()).days  # calendar days, in Vietnam
    serial = unit.certificate_serial or "?"
    if unit.certificate_not_after <= now:
        return OverviewWarning(
            "certificate-expired",
            unit.code,
            unit.name,
            period,
            f"{unit.code}: chứng thư số {serial} đã hết hạn ngày {_date_vn(end)}; không ký "
            "được hồ sơ nào. Gia hạn, rồi chạy setup_remote_signing để chọn chứng thư mới",
            f"{unit.code}: certificate {serial} expired on {_date_vn(end)}; nothing can be "
            "signed. Renew it, then run setup_remote_signing to choose the new one",
            days,
            end.isoformat(),
        )
    if days <= limits.certificate_days:
        return OverviewWarning(
            "certificate-expiring",
            unit.code,
            unit.name,
            period,
            f"{unit.code}: chứng thư số {serial} hết hạn ngày {_date_vn(end)} (còn {days} "
            "ngày). Gia hạn, rồi chạy setup_remote_signing (nộp tờ khai 05)",
            f"{unit.code}: certificate {serial} expires on {_date_vn(end)} ({days} day(s) "
            "left). Renew it, then run setup_remote_signing (it submits the 05 change)",
            days,
            end.isoformat(),
        )
    return None


def _business(views: Iterable[DossierView]) -> list[DossierView]:
    return [v for v in views if not v.is_registration]


def _inbox_warning(state: UnitState, period: str, today: dt.date) -> OverviewWarning | None:
    unit = state.facts
    if not period_ended(period, today):
        return None  # the month is not over: its dossiers may still come
    if state.inbox_folders or _business(state.views):
        return None
    before = len(_business(state.previous)) or state.previous_inbox_folders
    if not before:
        return None
    earlier = previous_period(period)
    return OverviewWarning(
        "inbox-empty",
        unit.code,
        unit.name,
        period,
        f"{unit.code}: chưa có hồ sơ nào trong hộp thư đến cho kỳ {period}, trong khi kỳ "
        f"{earlier} có {before} hồ sơ",
        f"{unit.code}: nothing in the inbox for {period}, though {earlier} had {before} dossier(s)",
        (contribution_due(period) - today).days,
        contribution_due(period).isoformat(),
    )


def _deadline_warning(
    state: UnitState, rows: Sequence[DossierRow], period: str, today: dt.date, limits: Limits
) -> OverviewWarning | None:
    unit = state.facts
    due = contribution_due(period)
    days = (due - today).days
    if days > limits.deadline_days:
        return None
    business = {v.id for v in _business(state.views)}
    open_ = [r for r in rows if r.dossier in business and r.status != "accepted"]
    n = len(open_) + state.inbox_waiting  # the inbox's dossiers are not accepted either
    if not business and not n:
        return _nothing_warning(state, period, due, days)
    if not n:
        return None
    if days < 0:
        return OverviewWarning(
            "deadline-passed",
            unit.code,
            unit.name,
            period,
            f"{unit.code}: kỳ {period} đã quá hạn nộp {-days} ngày (hạn {_date_vn(due)}), "
            f"{n} hồ sơ chưa được chấp nhận",
            f"{unit.code}: {period} is {-days} day(s) overdue (due {_date_vn(due)}), {n} "
            "dossier(s) not accepted yet",
            days,
            due.isoformat(),
        )
    return OverviewWarning(
        "deadline-near",
        unit.code,
        unit.name,
        period,
        f"{unit.code}: hạn nộp kỳ {period} là {_date_vn(due)} (còn {days} ngày), {n} hồ sơ "
        "chưa được chấp nhận",
        f"{unit.code}: {period} is due on {_date_vn(due)} ({days} day(s) left), {n} "
        "dossier(s) not accepted yet",
        days,
        due.isoformat(),
    )


def _nothing_warning(state: UnitState, period: str, due: dt.date, days: int) -> OverviewWarning:
    """The deadline is near (or passed) and the unit has no dossier at all for the period."""
    unit = state.facts
    kind = "deadline-passed" if days < 0 else "deadline-near"
    when_vi = f"đã quá hạn {-days} ngày" if days < 0 else f"còn {days} ngày"
    when_en = f"{-days} day(s) overdue" if days < 0 else f"{days} day(s) left"
    return OverviewWarning(
        kind,
        unit.code,
        unit.name,
        period,
        f"{unit.code}: chưa có hồ sơ nào cho kỳ {period}, hạn nộp {_date_vn(due)} ({when_vi}); "
        "nếu đơn vị có thay đổi trong kỳ, đặt hồ sơ vào hộp thư đến",
        f"{unit.code}: nothing for {period} yet, due {_date_vn(due)} ({when_en}); if the unit "
        "has changes this period, put the dossiers in the inbox",
        days,
        due.isoformat(),
    )


def _change_warnings(
    state: UnitState, period: str, now: dt.datetime, limits: Limits
) -> list[OverviewWarning]:
    unit = state.facts
    out = []
    for view in state.changes:
        if not view.handed_over:
            continue
        result = view.result
        if result is not None and result.outcome:
            continue  # accepted or refused: no longer pending
        handed = view.record.last(Step.SUBMITTED) or view.record.last(Step.EXPORTED)
        assert handed is not None
        since = _local(handed.at).date()
        days = (_local(now).date() - since).days
        if days < limits.change_pending_days:
            continue
        out.append(
            OverviewWarning(
                "change-pending",
                unit.code,
                unit.name,
                period,
                f"{unit.code}: tờ khai 05 (hồ sơ {view.id}) nộp ngày {_date_vn(since)} vẫn "
                f"chưa được BHXH chấp nhận sau {days} ngày; hồ sơ ký bằng chứng thư mới sẽ bị "
                "từ chối cho đến khi được chấp nhận",
                f"{unit.code}: the 05 change (dossier {view.id}) handed over on "
                f"{_date_vn(since)} is still pending after {days} day(s); dossiers signed with "
                "the new certificate are refused until it is accepted",
                -days,
                since.isoformat(),
                dossier=view.id,
                procedure=view.procedure,
            )
        )
    return out


def _contribution_warning(
    state: UnitState, period: str, today: dt.date, limits: Limits
) -> OverviewWarning | None:
    """The reconciled notice says the unit is short: ``payment-due`` when the deadline is
    within ``deadline_days`` (or passed), ``underpaid`` before that."""
    status = state.contributions
    if status is None or not status.short:
        return None
    unit = state.facts
    days = status.days_left(today)
    due_on = _date_vn(status.deadline)
    amounts_vi = (
        f"còn thiếu {vnd(-status.difference)} (phải đóng {vnd(status.due)}, đã nộp "
        f"{vnd(status.paid)})"
    )
    amounts_en = (
        f"{format_vnd(-status.difference, 'en')} short (due {format_vnd(status.due, 'en')}, "
        f"paid {format_vnd(status.paid, 'en')})"
    )
    if days < 0:
        when_vi, when_en = f"đã quá hạn {-days} ngày", f"{-days} day(s) overdue"
    else:
        when_vi, when_en = f"còn {days} ngày", f"{days} day(s) left"
    kind = "payment-due" if days <= limits.deadline_days else "underpaid"
    return OverviewWarning(
        kind,
        unit.code,
        unit.name,
        period,
        f"{unit.code}: kỳ {period} {amounts_vi}; hạn đóng {due_on} ({when_vi})",
        f"{unit.code}: {period} is {amounts_en}; due on {due_on} ({when_en})",
        days,
        status.deadline.isoformat(),
    )
