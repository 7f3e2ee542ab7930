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
from collections.abc import Sequence
from dataclasses import dataclass

from bhxh.intake import validate_period
from bhxh.overview.contributions import ContributionStatus, lines_text, vnd
from bhxh.overview.rows import (
    ACTION_LABELS,
    STATUS_LABELS,
    UNIT_ACTION_LABELS,
    UNIT_GLANCE,
    UNIT_NEEDS_YOU,
    UNIT_STATUS_LABELS,
    DossierRow,
    Limits,
    UnitState,
    _date_vn,
    _local,
    dossier_row,
)
from bhxh.overview.warnings import (
    OverviewWarning,
    _certificate_warning,
    _change_warnings,
    _contribution_warning,
    _deadline_warning,
    _inbox_warning,
)
from bhxh.periods import contribution_due

__all__ = ["Overview", "UnitRow", "build_overview"]


# ------------------------------------------------------------------------------ overview
@dataclass(frozen=True)
class UnitRow:
    """One unit of the overview: where it stands, what unblocks it, its dossiers.

    ``dossiers`` counts the period's dossiers in the store, ``inbox`` the ones still
    waiting in the inbox (no run has read them yet); ``open_actions`` the dossiers of
    either kind that wait for the accountant (or the signer), not for VSS.
    """

    unit: str
    name: str
    dossiers: int
    approvals: int  # distinct signing transactions approved for the period's dossiers
    route: str
    certificate_until: str  # ISO date, or ""
    open_actions: int  # dossiers with something to do
    inbox: int = 0  # dossier folders in the inbox not read by any run yet
    certificate_chosen: bool = True
    status: str = "done"  # a key of UNIT_STATUS_LABELS
    action_vi: str = ""
    action_en: str = ""
    #: The period's reconciled contributions (due, paid, difference, deadline), if any.
    contributions: ContributionStatus | None = None

    @property
    def status_vi(self) -> str:
        return UNIT_STATUS_LABELS[self.status][0]

    @property
    def status_en(self) -> str:
        return UNIT_STATUS_LABELS[self.status][1]

    @property
    def glance(self) -> str:
        """The status at a glance: a symbol and its words ("✅ Xong", "📱 Chờ duyệt trên
        điện thoại"), Vietnamese only: the column's title carries the English."""
        return f"{UNIT_GLANCE[self.status]} {self.status_vi}"

    @property
    def needs_you(self) -> bool:
        """True when the unit waits for the accountant (or its signer), not for VSS."""
        return self.status in UNIT_NEEDS_YOU


#: The unit status a dossier's next action gives, most urgent first.
_BY_ACTION = {
    "refused": "refused",
    "supplement": "supplement",
    "approve": "to_approve",
    "enter_receipt": "to_receipt",
    "ask_again": "to_sign",
    "sign": "to_sign",
    "hand_over": "to_hand_over",
    "wait": "waiting",
}
_RANK = {status: n for n, status in enumerate(UNIT_STATUS_LABELS)}


def _unit_status(
    state: UnitState, rows: Sequence[DossierRow], period: str, now: dt.datetime
) -> tuple[str, str, str]:
    """The unit's status and the one next action that unblocks it: (status, vi, en)."""
    facts = state.facts
    inbox = state.inbox_waiting
    to_sign = inbox + sum(1 for r in rows if r.action in ("sign", "ask_again"))
    if facts.certificate_serial is None and (to_sign or not rows):
        return "no_certificate", *UNIT_ACTION_LABELS["choose_certificate"]
    expired = facts.certificate_not_after is not None and facts.certificate_not_after <= now
    if expired and to_sign:
        return "certificate_expired", *UNIT_ACTION_LABELS["renew_certificate"]
    for action, status in _BY_ACTION.items():
        row = next((r for r in rows if r.action == action), None)
        if row is not None:
            return status, row.action_vi, row.action_en
        if action == "sign" and inbox:
            return "to_sign", *ACTION_LABELS["sign"]
    if rows:
        return "done", *ACTION_LABELS["none"]
    vi, en = UNIT_ACTION_LABELS["nothing"]
    return "nothing", vi.format(period=period), en.format(period=period)


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
        """Dossiers per status, in the order of :data:`STATUS_LABELS` (non-zero only); the
        dossiers still in the units' inboxes are ``in_inbox``."""
        counts = Counter(r.status for r in self.rows)
        counts["in_inbox"] += sum(u.inbox for u in self.units)
        return {s: counts[s] for s in STATUS_LABELS if counts[s]}

    @property
    def due(self) -> dt.date:
        return contribution_due(self.period)

    @property
    def headline(self) -> dict[str, int]:
        """The counts the summary says, each a sum over :attr:`units`."""
        return {
            "units": len(self.units),
            "need_you": sum(1 for u in self.units if u.needs_you),
            "dossiers": sum(u.dossiers for u in self.units),
            "inbox": sum(u.inbox for u in self.units),
            "to_act_on": sum(u.open_actions for u in self.units),
            "warnings": len(self.warnings),
        }

    def summary(self) -> str:
        """One line: what the description of the artifact says."""
        h = self.headline
        return (
            f"Kỳ {self.period}: {h['units']} đơn vị, {h['need_you']} đơn vị cần bạn xử lý, "
            f"{h['dossiers']} hồ sơ đã đọc và {h['inbox']} hồ sơ còn trong hộp thư, "
            f"{h['to_act_on']} hồ sơ cần làm, {h['warnings']} cảnh báo / period {self.period}: "
            f"{h['units']} unit(s), {h['need_you']} need you, {h['dossiers']} dossier(s) read "
            f"and {h['inbox']} still in the inbox, {h['to_act_on']} to act on, "
            f"{h['warnings']} warning(s)"
        )

    def to_markdown(self) -> str:
        """The overview as Markdown for the Prefect UI (every cell escaped)."""
        local = _local(self.generated_at)
        lines = [
            f"# Tổng quan kỳ {self.period} · Period overview {self.period}",
            "",
            f"**{_md(self.summary())}**",
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
        totals = self.totals
        for status, count in totals.items():
            vi, en = STATUS_LABELS[status]
            lines.append(f"| {_md(vi)} | {_md(en)} | {count} |")
        if not totals:
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
            "| Tình trạng / status | Đơn vị / unit | Tên / name | Việc tiếp theo / next action "
            "| Trong hộp thư / in the inbox | Hồ sơ / dossiers | Việc cần làm / to act on "
            "| Lượt duyệt / approvals | Nộp qua / route | Chứng thư đến / certificate until |",
            "|---|---|---|---|---:|---:|---:|---:|---|---|",
        ]
        for u in self.units:
            if u.certificate_until:
                until = _date_vn(dt.date.fromisoformat(u.certificate_until))
            else:
                until = "-" if u.certificate_chosen else "chưa chọn / none chosen"
            lines.append(
                f"| **{_md(u.glance)}** | **{_md(u.unit)}** | "
                f"{_md(u.name)} | **{_md(u.action_vi)}** / {_md(u.action_en)} | {u.inbox} | "
                f"{u.dossiers} | {u.open_actions} | {u.approvals} | {_md(u.route)} | {until} |"
            )
        lines += self._contribution_lines()
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

    def _contribution_lines(self) -> list[str]:
        """The units' contributions: due, paid, difference, deadline, what explains it."""
        lines = [
            "",
            "## Đóng tiền · Contributions",
            "",
        ]
        reconciled = [u for u in self.units if u.contributions is not None]
        if not reconciled:
            lines.append(
                "Chưa đối chiếu thông báo C12-TS nào của kỳ này: chạy reconcile_contributions "
                "/ no C12-TS notice reconciled for this period yet: run reconcile_contributions."
            )
            return lines
        lines += [
            "| Đơn vị / unit | Phải đóng / due | Đã nộp / paid | Chênh lệch / difference "
            "| Hạn đóng / deadline | Giải thích / explained |",
            "|---|---:|---:|---:|---|---|",
        ]
        for u in reconciled:
            c = u.contributions
            assert c is not None
            if c.difference < 0:
                diff = f"❗ **thiếu / short {_md(vnd(-c.difference))}**"
            elif c.difference > 0:
                diff = f"thừa / over {_md(vnd(c.difference))}"
            else:
                diff = "0 đ"
            explained = lines_text(c.lines) or "Khớp / all agree"
            lines.append(
                f"| **{_md(u.unit)}** | {_md(vnd(c.due))} | {_md(vnd(c.paid))} | {diff} | "
                f"{_date_vn(c.deadline)} | {_md(explained)} |"
            )
        return lines


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
    """The period's overview of ``units``: every unit a row, the ones that need the
    accountant first (see :data:`UNIT_STATUS_LABELS`), then by unit code; the dossier rows
    in the order of their units, then by age."""
    validate_period(period)
    now = now or dt.datetime.now(dt.UTC)
    limits = limits or Limits()
    today = _local(now).date()
    unit_rows: list[UnitRow] = []
    rows: list[DossierRow] = []
    warnings: list[OverviewWarning] = []
    for state in units:
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
        status, action_vi, action_en = _unit_status(state, mine, period, now)
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
                open_actions=state.inbox_waiting
                + sum(1 for r in mine if r.action not in ("none", "wait")),
                inbox=state.inbox_waiting,
                certificate_chosen=facts.certificate_serial is not None,
                status=status,
                action_vi=action_vi,
                action_en=action_en,
                contributions=state.contributions,
            )
        )
        found = [
            _certificate_warning(facts, period, now, limits),
            _inbox_warning(state, period, today),
            _deadline_warning(state, mine, period, today, limits),
            _contribution_warning(state, period, today, limits),
        ]
        warnings += [w for w in found if w is not None]
        warnings += _change_warnings(state, period, now, limits)
    # The units that need the accountant first (most urgent first), then by unit code;
    # the dossiers follow their units.
    unit_rows.sort(key=lambda u: (_RANK[u.status], u.unit))
    order = {u.unit: n for n, u in enumerate(unit_rows)}
    rows.sort(key=lambda r: order[r.unit])  # stable: each unit's dossiers keep their age
    return Overview(
        period=period,
        generated_at=now,
        units=tuple(unit_rows),
        rows=tuple(rows),
        warnings=tuple(warnings),
        source=source,
    )
