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
from bhxh.overview.rows import (
    STATUS_LABELS,
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
    _deadline_warning,
    _inbox_warning,
)
from bhxh.periods import contribution_due

__all__ = ["Overview", "UnitRow", "build_overview"]


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
