"""A unit's dossiers of a period as rows a person reads: where each stands (status), the
next action in plain words (Vietnamese, English beside), the labels, and what the overview
reads of a unit (:class:`UnitFacts`, :class:`UnitState`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bhxh.intake import period_folder
from bhxh.overview.contributions import ContributionStatus, read_contribution_status
from bhxh.periods import VN_TZ, previous_period
from bhxh.pipeline import ROUND_STEPS, DossierView, Step

__all__ = [
    "ACTION_LABELS",
    "STATUS_LABELS",
    "UNIT_ACTION_LABELS",
    "UNIT_GLANCE",
    "UNIT_STATUS_LABELS",
    "WARNING_KINDS",
    "DossierRow",
    "Limits",
    "UnitFacts",
    "UnitState",
    "dossier_row",
    "dossier_status",
    "read_unit_state",
]


#: Every status a dossier can show: (Vietnamese, English), in the order of the totals.
STATUS_LABELS: Mapping[str, tuple[str, str]] = {
    # Not a journal status: the dossiers no run has read yet, counted from the units'
    # inboxes, so that the totals agree with the headline and the units' rows.
    "in_inbox": ("Trong hộp thư, chưa đọc", "in the inbox, not read yet"),
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

#: Where a unit stands for the period, in short words a person scans (Vietnamese, English),
#: in the order the overview sorts units: the ones that need the accountant first.
UNIT_STATUS_LABELS: Mapping[str, tuple[str, str]] = {
    "no_certificate": ("Chưa chọn chứng thư", "no certificate"),
    "certificate_expired": ("Chứng thư hết hạn", "certificate expired"),
    "refused": ("Bị từ chối", "refused"),
    "supplement": ("Cần bổ sung", "supplement"),
    "to_approve": ("Chờ duyệt trên điện thoại", "to approve"),
    "to_receipt": ("Cần nhập số hồ sơ", "receipt to type"),
    "to_sign": ("Cần ký", "to sign"),
    "to_hand_over": ("Cần nộp", "to hand over"),
    "waiting": ("Chờ BHXH", "waiting for VSS"),
    "nothing": ("Chưa có hồ sơ", "nothing yet"),
    "done": ("Xong", "done"),
}

#: Each unit status's symbol, for the month view's first column (scanned down the page,
#: not read): ⛔ the accountant must act, ✍ a signature or a number to type, 📱 the
#: signer's phone, ⏳ VSS, ✅ done, ➖ nothing yet.
UNIT_GLANCE: Mapping[str, str] = {
    "no_certificate": "⛔",
    "certificate_expired": "⛔",
    "refused": "⛔",
    "supplement": "⛔",
    "to_approve": "📱",
    "to_receipt": "✍",
    "to_sign": "✍",
    "to_hand_over": "✍",
    "waiting": "⏳",
    "nothing": "➖",
    "done": "✅",
}

#: The unit statuses that need the accountant (or the signer) to act.
UNIT_NEEDS_YOU = frozenset(
    {
        "no_certificate",
        "certificate_expired",
        "refused",
        "supplement",
        "to_approve",
        "to_receipt",
        "to_sign",
        "to_hand_over",
    }
)

#: The next actions of a unit that no single dossier names: (Vietnamese, English).
UNIT_ACTION_LABELS: Mapping[str, tuple[str, str]] = {
    "choose_certificate": (
        "Chạy setup_remote_signing để chọn chứng thư số, rồi chạy sign_and_submit",
        "run setup_remote_signing to choose the certificate, then run sign_and_submit",
    ),
    "renew_certificate": (
        "Gia hạn chứng thư số, rồi chạy setup_remote_signing để chọn chứng thư mới",
        "renew the certificate, then run setup_remote_signing to choose the new one",
    ),
    "nothing": (
        "Chưa có hồ sơ kỳ {period}: nếu có, đặt hồ sơ vào hộp thư đến",
        "nothing for {period}: if there is, put the dossiers in the inbox",
    ),
}

#: The kinds of warning: (Vietnamese, English) titles.
WARNING_KINDS: Mapping[str, tuple[str, str]] = {
    "certificate-expired": ("Chứng thư số đã hết hạn", "certificate expired"),
    "certificate-expiring": ("Chứng thư số sắp hết hạn", "certificate expiring"),
    "inbox-empty": ("Chưa có hồ sơ trong kỳ", "nothing in the inbox"),
    "deadline-near": ("Sắp đến hạn nộp", "contributions due soon"),
    "deadline-passed": ("Đã quá hạn nộp", "contributions overdue"),
    "change-pending": ("Thay đổi chứng thư (05) chưa được chấp nhận", "05 change still pending"),
    "underpaid": ("Đóng thiếu tiền BHXH", "contributions under-paid"),
    "payment-due": ("Sắp đến hạn đóng tiền BHXH", "contributions payment due soon"),
}

#: VSS statuses a receipt may carry before the outcome.
_IN_PROGRESS = {"received", "numbered", "processing"}


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(VN_TZ)


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
    inbox_folders: int = 0  # dossier folders in the inbox for the period
    previous_inbox_folders: int = 0
    inbox_names: tuple[str, ...] = ()  # their names (a dossier is named after its folder)
    #: The period's reconciled contributions (reconcile_contributions), if any.
    contributions: ContributionStatus | None = None

    @property
    def inbox_waiting(self) -> int:
        """The period's inbox folders not in the store yet (no run has read them)."""
        loaded = {v.name for v in self.views if not v.is_registration}
        if self.inbox_names:
            return sum(1 for name in self.inbox_names if name not in loaded)
        return max(0, self.inbox_folders - len(loaded))


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


def _folder_names(inbox_dir: Path, unit_code: str, period: str) -> tuple[str, ...]:
    folder = inbox_dir / unit_code / period_folder(period)
    if not folder.is_dir():
        return ()
    return tuple(
        sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    )


def _folders(inbox_dir: Path, unit_code: str, period: str) -> int:
    return len(_folder_names(inbox_dir, unit_code, period))


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
    outbox_dir: Path | None = None,
) -> UnitState:
    """Read one unit's dossiers (the period, the month before, its 05 forms of the last
    :data:`CHANGE_LOOKBACK_MONTHS` months), its inbox and, given its ``outbox_dir``, the
    period's reconciled contributions.

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
        inbox_folders=len(names := _folder_names(Path(inbox_dir), facts.code, period)),
        previous_inbox_folders=_folders(Path(inbox_dir), facts.code, before),
        inbox_names=names,
        contributions=read_contribution_status(Path(outbox_dir), facts.code, period)
        if outbox_dir is not None
        else None,
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
