"""The firm's month at a glance: one overview per period of every unit and dossier.

Plain Python (no Prefect): the rows, the totals and the warnings are computed here from
the pipeline's typed views and what the unit blocks say (:class:`UnitFacts`); the Prefect
layer (``flows/_overview.py``) only publishes them (an artifact, the reports, events).

For every dossier of the period (:class:`DossierRow`): the procedure, the approvals it went
through, where it went (the I-VAN's gateway or an export for its software), the receipt
(``soHoSo``, ``dot``), the promised date (``Ngày hẹn trả``), its status, VSS's outcome and
the **next action** in plain words, in Vietnamese with the English beside it:

==========================  ===========================================================
status                      next action
==========================  ===========================================================
not signed / signed         run sign_and_submit (to sign, or to hand the dossier over)
waiting for approval        approve on the phone of <account>
submitted, numbered...      waiting for VSS
exported                    submit in the I-VAN software and enter the soHoSo
supplement requested        supplement requested: <VSS's message>
refused (by VSS or carrier) refused: <the message>
accepted                    nothing to do
==========================  ===========================================================

Warnings before they cost (:class:`OverviewWarning`), dates in Asia/Ho_Chi_Minh:

* a unit's certificate expires within ``certificate_warning_days`` or has expired;
* a period that has ended with nothing in a unit's inbox although the unit had dossiers
  the month before;
* a period whose contributions are due (the last day of the following month) within
  ``deadline_warning_days``, or overdue, with dossiers not accepted yet;
* a 05 change handed over ``change_pending_warning_days`` ago or more, still pending.

Example:
    >>> facts = UnitFacts("TA0001A", "Công ty TNHH An Phát", account="anphat.ketoan")
    >>> state = read_unit_state(facts, pipeline, Path("var/inbox"), "01/2026")  # doctest: +SKIP
    >>> overview = build_overview("01/2026", [state], now=dt.datetime.now(dt.UTC))
    >>> print(overview.to_markdown())  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bhxh.inbox import period_folder
from bhxh.pipeline import ROUND_STEPS, DossierView
from bhxh.store import Step
from bhxh.validation import validate_period

__all__ = [
    "ACTION_LABELS",
    "STATUS_LABELS",
    "VIETNAM",
    "WARNING_KINDS",
    "DossierRow",
    "Limits",
    "Overview",
    "OverviewWarning",
    "UnitFacts",
    "UnitRow",
    "UnitState",
    "build_overview",
    "contribution_due",
    "dossier_row",
    "dossier_status",
    "previous_period",
    "read_unit_state",
]

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

#: Every status a dossier can show: (Vietnamese, English), in the order of the totals.
STATUS_LABELS: Mapping[str, tuple[str, str]] = {
    "to_sign": ("Chưa ký", "not signed yet"),
    "waiting_approval": ("Chờ duyệt ký trên điện thoại", "waiting for approval on the phone"),
    "signed": ("Đã ký, chưa nộp", "signed, not handed over yet"),
    "submitting": ("Đang nộp, chưa có trả lời", "handed over, no answer yet"),
    "submitted": ("Đã nộp, chờ BHXH cấp số", "submitted, waiting for VSS"),
    "exported": ("Đã xuất tệp cho phần mềm I-VAN", "exported for the I-VAN software"),
    "numbered": ("Đã được cấp số hồ sơ", "numbered by VSS"),
    "processing": ("BHXH đang xử lý", "being processed by VSS"),
    "accepted": ("Đã được chấp nhận", "accepted"),
    "supplement_requested": ("BHXH yêu cầu bổ sung", "supplement requested"),
    "rejected": ("Bị từ chối", "refused"),
    "rejected_at_receipt": ("Bị từ chối tiếp nhận", "refused at receipt"),
    "failed": ("Bị I-VAN từ chối khi nộp", "refused when handed over"),
}

#: The next actions: (Vietnamese, English) templates; ``{account}`` / ``{message}`` filled in.
ACTION_LABELS: Mapping[str, tuple[str, str]] = {
    "sign": (
        "Chạy sign_and_submit để ký và nộp",
        "run sign_and_submit to sign and submit",
    ),
    "approve": ("Duyệt ký trên điện thoại của {account}", "approve on the phone of {account}"),
    "ask_again": (
        "Yêu cầu ký đã hết hạn: chạy lại sign_and_submit",
        "the approval request expired: run sign_and_submit again",
    ),
    "hand_over": (
        "Chạy lại sign_and_submit để nộp",
        "run sign_and_submit again to hand it over",
    ),
    "enter_receipt": (
        "Nộp qua phần mềm I-VAN rồi ghi số hồ sơ vào receipts.csv",
        "submit in the I-VAN software, then enter the soHoSo in receipts.csv",
    ),
    "wait": ("Chờ BHXH", "waiting for VSS"),
    "supplement": ("BHXH yêu cầu bổ sung: {message}", "supplement requested: {message}"),
    "refused": ("Bị từ chối: {message}", "refused: {message}"),
    "none": ("Không cần làm gì", "nothing to do"),
}

#: The kinds of warning: (Vietnamese, English) titles.
WARNING_KINDS: Mapping[str, tuple[str, str]] = {
    "certificate-expired": ("Chứng thư số đã hết hạn", "certificate expired"),
    "certificate-expiring": ("Chứng thư số sắp hết hạn", "certificate expiring"),
    "inbox-empty": ("Chưa có hồ sơ trong kỳ", "nothing in the inbox"),
    "deadline-near": ("Sắp đến hạn nộp", "contributions due soon"),
    "deadline-passed": ("Đã quá hạn nộp", "contributions overdue"),
    "change-pending": ("Thay đổi chứng thư (05) chưa được chấp nhận", "05 change still pending"),
}

#: VSS statuses a receipt may carry before the outcome.
_IN_PROGRESS = {"received", "numbered", "processing"}


# ------------------------------------------------------------------------------ periods
def _month_year(period: str) -> tuple[int, int]:
    month, year = validate_period(period)
    return month, year


def previous_period(period: str) -> str:
    """``"01/2026"`` -> ``"12/2025"``."""
    month, year = _month_year(period)
    return f"12/{year - 1}" if month == 1 else f"{month - 1:02d}/{year}"


def _last_day(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def contribution_due(period: str) -> dt.date:
    """The day a period's contributions are due: the last day of the following month."""
    month, year = _month_year(period)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return _last_day(*following)


def _period_ended(period: str, today: dt.date) -> bool:
    month, year = _month_year(period)
    return today > _last_day(year, month)


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(VIETNAM)


def _date_vn(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


# ------------------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class UnitFacts:
    """What the overview needs to know of a unit (from its block; nothing secret).

    ``account`` is the signer's provider account (whose phone approves); it may be empty
    when the caller did not look it up (then no dossier of the unit waits for a phone).
    """

    code: str
    name: str
    block: str = ""
    account: str = ""
    route: str = "gateway"
    ivan_code: str = ""
    certificate_serial: str | None = None
    certificate_not_after: dt.datetime | None = None


@dataclass(frozen=True)
class UnitState:
    """A unit and what the store and the inbox hold for it around one period."""

    facts: UnitFacts
    views: tuple[DossierView, ...] = ()  # the period's dossiers, oldest first
    previous: tuple[DossierView, ...] = ()  # the month before's dossiers
    changes: tuple[DossierView, ...] = ()  # the unit's 05 forms, any period
    inbox_folders: int = 0  # dossier folders waiting in the inbox for the period
    previous_inbox_folders: int = 0


@dataclass(frozen=True)
class Limits:
    """The warning thresholds, in days (``bhxh.settings.Settings`` holds the defaults)."""

    certificate_days: int = 30
    deadline_days: int = 7
    change_pending_days: int = 5


class _Pipeline(Protocol):
    def views(self, unit_code: str, period: str) -> list[DossierView]: ...


#: How far back a 05 change is looked for (its period is the month it was made in).
CHANGE_LOOKBACK_MONTHS = 12


def _folders(inbox_dir: Path, unit_code: str, period: str) -> int:
    folder = inbox_dir / unit_code / period_folder(period)
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _months_back(today: dt.date, n: int) -> list[str]:
    """The ``n`` periods ending with today's month, oldest first."""
    out = []
    month, year = today.month, today.year
    for _ in range(n):
        out.append(f"{month:02d}/{year}")
        month, year = (12, year - 1) if month == 1 else (month - 1, year)
    return out[::-1]


def read_unit_state(
    facts: UnitFacts,
    pipeline: _Pipeline,
    inbox_dir: Path,
    period: str,
    *,
    now: dt.datetime | None = None,
) -> UnitState:
    """Read one unit's dossiers (the period, the month before, its 05 forms of the last
    :data:`CHANGE_LOOKBACK_MONTHS` months) and its inbox.

    The 05 forms are read period by period, not from the unit's whole history, so that
    the cost of an overview does not grow with the years of dossiers in the store.
    """
    before = previous_period(period)
    today = _local(now or dt.datetime.now(dt.UTC)).date()
    changes = [
        v
        for p in _months_back(today, CHANGE_LOOKBACK_MONTHS)
        for v in pipeline.views(facts.code, p)
        if v.procedure == "05"
    ]
    return UnitState(
        facts=facts,
        views=tuple(pipeline.views(facts.code, period)),
        previous=tuple(pipeline.views(facts.code, before)),
        changes=tuple(changes),
        inbox_folders=_folders(Path(inbox_dir), facts.code, period),
        previous_inbox_folders=_folders(Path(inbox_dir), facts.code, before),
    )


# ------------------------------------------------------------------------------ rows
def _waiting_request(view: DossierView) -> tuple[int, dt.datetime | None] | None:
    """The round whose request went to the phone and is not applied: (round, expiry)."""
    for round_no in view.rounds:
        if view.is_signed(round_no):
            continue
        prepared_step, requested_step, _ = ROUND_STEPS[round_no]
        request = view.request(round_no)
        prepared = view.record.last(prepared_step)
        requested = view.record.last(requested_step)
        if request is None or request.transaction_id is None or requested is None:
            return None
        if prepared is not None and prepared.at > requested.at:
            return None  # prepared again after the request (another certificate)
        return round_no, request.expires_at
    return None


def dossier_status(view: DossierView) -> str:
    """The dossier's status, one of :data:`STATUS_LABELS`, from its journal."""
    result = view.result
    if result is not None:
        if result.status in STATUS_LABELS and result.status not in _IN_PROGRESS:
            return result.status
        if result.outcome == "supplement":
            return "supplement_requested"
        if result.outcome and result.outcome in STATUS_LABELS:
            return result.outcome
    if view.failure is not None:
        return "failed"
    receipt = view.receipt
    if receipt is not None:
        return receipt.status if receipt.status in ("numbered", "processing") else "numbered"
    if view.submitted:
        return "submitted"
    if view.exported:
        return "exported"
    if view.record.has(Step.SUBMITTING):
        return "submitting"
    if view.is_signed(2):
        return "signed"
    if _waiting_request(view) is not None:
        return "waiting_approval"
    return "to_sign"


def _message(view: DossierView) -> str:
    """What VSS (or the carrier) said last: the outcome's message, else the failure's."""
    result = view.result
    if result is not None and result.messages:
        return result.messages[-1]
    failure = view.failure
    if failure is not None:
        return failure.message
    if result is not None and result.outcome:
        return result.outcome
    return ""


def _action(code: str, **values: str) -> tuple[str, str]:
    vi, en = ACTION_LABELS[code]
    return vi.format(**values), en.format(**values)


@dataclass(frozen=True)
class DossierRow:
    """One dossier of the overview (no secrets: codes, receipts, VSS's words)."""

    unit: str
    unit_name: str
    dossier: str
    name: str
    procedure: str
    period: str
    approvals: int  # signing rounds this dossier went through
    approvals_needed: int
    route: str  # gateway | export | "" (not handed over yet)
    ivan_code: str
    so_ho_so: str
    dot: int | None
    promised_date: str  # ISO date, or ""
    status: str
    outcome: str
    message: str
    action: str  # a code of ACTION_LABELS
    action_vi: str
    action_en: str

    @property
    def status_vi(self) -> str:
        return STATUS_LABELS[self.status][0]

    @property
    def status_en(self) -> str:
        return STATUS_LABELS[self.status][1]

    @property
    def where(self) -> str:
        """Where it went, for people: ``gateway (I-VAN 00110)`` / ``export (I-VAN 00040)``."""
        if not self.route:
            return "-"
        return f"{self.route} (I-VAN {self.ivan_code})" if self.ivan_code else self.route

    def to_data(self) -> dict[str, Any]:
        """The row as plain data (an event's payload, a report's line)."""
        return {
            "unit": self.unit,
            "unit_name": self.unit_name,
            "dossier": self.dossier,
            "name": self.name,
            "procedure": self.procedure,
            "period": self.period,
            "approvals": self.approvals,
            "approvals_needed": self.approvals_needed,
            "route": self.route,
            "ivan_code": self.ivan_code,
            "so_ho_so": self.so_ho_so,
            "dot": self.dot,
            "promised_date": self.promised_date,
            "status": self.status,
            "status_vi": self.status_vi,
            "outcome": self.outcome,
            "message": self.message,
            "next_action": self.action_en,
            "next_action_vi": self.action_vi,
        }


def dossier_row(
    view: DossierView,
    *,
    unit_name: str = "",
    account: str = "",
    ivan_code: str = "",
    now: dt.datetime | None = None,
) -> DossierRow:
    """A dossier as the overview shows it, with its next action."""
    now = now or dt.datetime.now(dt.UTC)
    status = dossier_status(view)
    message = _message(view)
    if status == "waiting_approval":
        waiting = _waiting_request(view)
        expires = waiting[1] if waiting else None
        action = "ask_again" if expires is not None and expires < now else "approve"
    else:
        action = {
            "to_sign": "sign",
            "signed": "hand_over",
            "submitting": "hand_over",
            "submitted": "wait",
            "exported": "enter_receipt",
            "numbered": "wait",
            "processing": "wait",
            "accepted": "none",
            "supplement_requested": "supplement",
            "rejected": "refused",
            "rejected_at_receipt": "refused",
            "failed": "refused",
        }[status]
    vi, en = _action(
        action,
        account=account or "(tài khoản ký / the signing account)",
        message=message or "-",
    )
    receipt, result = view.receipt, view.result
    statuses = [s for s in (result, receipt) if s is not None]  # the latest first
    ack = view.acknowledgement
    promised = next((s.promised_date for s in statuses if s.promised_date), "")
    return DossierRow(
        unit=view.unit_code,
        unit_name=unit_name,
        dossier=view.id,
        name=view.name,
        procedure=view.procedure,
        period=view.period,
        approvals=sum(1 for r in view.rounds if view.is_signed(r)),
        approvals_needed=view.approvals_needed,
        route=ack.route if ack else "",
        ivan_code=ivan_code if ack else "",
        so_ho_so=next((s.so_ho_so for s in statuses if s.so_ho_so), ""),
        dot=next((s.dot for s in statuses if s.dot is not None), None),
        promised_date=str(promised),
        status=status,
        outcome=(result.outcome or "") if result else "",
        message=message,
        action=action,
        action_vi=vi,
        action_en=en,
    )


# ------------------------------------------------------------------------------ warnings
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
            self.period if self.kind in ("inbox-empty", "deadline-near", "deadline-passed") else ""
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
    if not _period_ended(period, today):
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
    if not open_:
        return None
    n = len(open_)
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


# ------------------------------------------------------------------------------ overview
@dataclass(frozen=True)
class UnitRow:
    """One unit of the overview: how many dossiers, approvals, its certificate."""

    unit: str
    name: str
    dossiers: int
    approvals: int  # distinct signing transactions approved for the period's dossiers
    route: str
    certificate_until: str  # ISO date, or ""
    open_actions: int  # dossiers with something to do


@dataclass(frozen=True)
class Overview:
    """The period's overview: units, dossiers, totals per status, warnings."""

    period: str
    generated_at: dt.datetime
    units: tuple[UnitRow, ...]
    rows: tuple[DossierRow, ...]
    warnings: tuple[OverviewWarning, ...]
    source: str = ""  # which run published it (a flow name)

    @property
    def totals(self) -> dict[str, int]:
        """Dossiers per status, in the order of :data:`STATUS_LABELS` (non-zero only)."""
        counts = Counter(r.status for r in self.rows)
        return {s: counts[s] for s in STATUS_LABELS if counts[s]}

    @property
    def due(self) -> dt.date:
        return contribution_due(self.period)

    def summary(self) -> str:
        """One line: what the description of the artifact says."""
        todo = sum(1 for r in self.rows if r.action != "none")
        return (
            f"Kỳ {self.period}: {len(self.units)} đơn vị, {len(self.rows)} hồ sơ, {todo} việc "
            f"cần làm, {len(self.warnings)} cảnh báo / period {self.period}: "
            f"{len(self.units)} unit(s), {len(self.rows)} dossier(s), {todo} to act on, "
            f"{len(self.warnings)} warning(s)"
        )

    def to_markdown(self) -> str:
        """The overview as Markdown for the Prefect UI (every cell escaped)."""
        local = _local(self.generated_at)
        lines = [
            f"# Tổng quan kỳ {self.period} · Period overview {self.period}",
            "",
            f"Cập nhật / updated **{local:%d/%m/%Y %H:%M}** (giờ Việt Nam, UTC+7)"
            + (f" by `{_code(self.source)}`" if self.source else "")
            + f" · hạn nộp / contributions due **{_date_vn(self.due)}**",
            "",
            "## Tổng theo trạng thái · Totals by status",
            "",
            "| Trạng thái | status | Số hồ sơ / dossiers |",
            "|---|---|---:|",
        ]
        for status, count in self.totals.items():
            vi, en = STATUS_LABELS[status]
            lines.append(f"| {_md(vi)} | {_md(en)} | {count} |")
        if not self.rows:
            lines.append("| Chưa có hồ sơ | no dossier yet | 0 |")
        lines += ["", "## Cảnh báo · Warnings", ""]
        if self.warnings:
            for w in self.warnings:
                lines.append(
                    f"- **{_md(w.title_vi)} / {_md(w.title_en)}**: {_md(w.message_vi)}. "
                    f"*{_md(w.message_en)}.*"
                )
        else:
            lines.append("Không có cảnh báo / no warnings.")
        lines += [
            "",
            "## Đơn vị · Units",
            "",
            "| Đơn vị / unit | Tên / name | Hồ sơ / dossiers | Việc cần làm / to act on "
            "| Lượt duyệt / approvals | Nộp qua / route | Chứng thư đến / certificate until |",
            "|---|---|---:|---:|---:|---|---|",
        ]
        for u in self.units:
            until = (
                _date_vn(dt.date.fromisoformat(u.certificate_until)) if u.certificate_until else "-"
            )
            lines.append(
                f"| **{_md(u.unit)}** | {_md(u.name)} | {u.dossiers} | {u.open_actions} | "
                f"{u.approvals} | {_md(u.route)} | {until} |"
            )
        lines += [
            "",
            "## Hồ sơ · Dossiers",
            "",
            "| Đơn vị / unit | Hồ sơ / dossier | Việc cần làm / next action "
            "| Trạng thái / status | Số hồ sơ / soHoSo | Đợt / dot | Hẹn trả / promised "
            "| Thủ tục / procedure | Lượt duyệt / approvals | Nộp qua / went to "
            "| Kết quả / outcome |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            promised = _date_vn(dt.date.fromisoformat(r.promised_date)) if r.promised_date else "-"
            lines.append(
                "| "
                + " | ".join(
                    [
                        _md(r.unit),
                        f"`{_code(r.dossier)}`",
                        f"**{_md(r.action_vi)}** / {_md(r.action_en)}",
                        f"{_md(r.status_vi)} / {_md(r.status_en)}",
                        _md(r.so_ho_so or "-"),
                        str(r.dot) if r.dot is not None else "-",
                        promised,
                        _md(r.procedure),
                        f"{r.approvals}/{r.approvals_needed}",
                        _md(r.where),
                        _md(r.outcome or "-"),
                    ]
                )
                + " |"
            )
        if not self.rows:
            lines.append("| - | - | Không có hồ sơ / no dossier | - | - | - | - | - | - | - | - |")
        return "\n".join(lines) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def _code(text: object) -> str:
    """Text for a code span (no escape works there): ids and names, nothing else."""
    return re.sub(r"[^A-Za-z0-9_.-]", "", str(text))


def _md(text: object) -> str:
    """A table cell: one line, HTML escaped, Markdown's special characters escaped."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def build_overview(
    period: str,
    units: Sequence[UnitState],
    *,
    now: dt.datetime | None = None,
    limits: Limits | None = None,
    source: str = "",
) -> Overview:
    """The period's overview of ``units`` (rows sorted by unit, then dossier age)."""
    validate_period(period)
    now = now or dt.datetime.now(dt.UTC)
    limits = limits or Limits()
    today = _local(now).date()
    unit_rows: list[UnitRow] = []
    rows: list[DossierRow] = []
    warnings: list[OverviewWarning] = []
    for state in sorted(units, key=lambda s: s.facts.code):
        facts = state.facts
        mine = [
            dossier_row(
                v, unit_name=facts.name, account=facts.account, ivan_code=facts.ivan_code, now=now
            )
            for v in state.views
        ]
        rows += mine
        approvals = {
            signed.transaction_id
            for v in state.views
            for r in v.rounds
            if (signed := v.signed(r)) is not None and signed.transaction_id
        }
        unit_rows.append(
            UnitRow(
                unit=facts.code,
                name=facts.name,
                dossiers=len(mine),
                approvals=len(approvals),
                route=facts.route,
                certificate_until=_local(facts.certificate_not_after).date().isoformat()
                if facts.certificate_not_after
                else "",
                open_actions=sum(1 for r in mine if r.action not in ("none", "wait")),
            )
        )
        found = [
            _certificate_warning(facts, period, now, limits),
            _inbox_warning(state, period, today),
            _deadline_warning(state, mine, period, today, limits),
        ]
        warnings += [w for w in found if w is not None]
        warnings += _change_warnings(state, period, now, limits)
    return Overview(
        period=period,
        generated_at=now,
        units=tuple(unit_rows),
        rows=tuple(rows),
        warnings=tuple(warnings),
        source=source,
    )
