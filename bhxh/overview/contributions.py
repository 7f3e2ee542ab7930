"""A unit's contributions of a period as the month view shows them: what is due, what was
paid, the difference and the deadline, with the reconciliation's explained lines; written
down per unit and period so that the month view reads it without calling anyone.

The reconciliation itself (the C12-TS notice against the dues computed from the
declarations) is ``bhxh.contributions``; ``reconcile_contributions`` (the flow) runs it and
writes its outcome here, one small JSON file per unit and period in the unit's outbox,
beside the period's dossiers::

    <outbox>/<unit>/<MM-YYYY>/doi-chieu-c12.json

Written atomically (temporary file, fsync, rename): a reader sees the last reconciliation
or none, never half of one. A refused notice writes nothing.

Amounts are whole VND. ``due`` is what the notice asks for the period (B.3, plus what it
carries over, its adjustments and interest: ``bhxh.contributions.amount_due``), ``paid``
what it records as paid (C), and ``difference`` = paid - due, as the reconciliation
counts it: negative when the unit is short, positive when it paid more.

Which declarations our side counts (:func:`declared_workers`): the D02-TS of the unit's
business dossiers handed over (submitted or exported) and not refused, of the period and
before, each worker by the latest row whose ``TuThang`` has begun.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bhxh import contributions as engine  # its reconcile(): the name is also a submodule's
from bhxh._files import write_atomic
from bhxh.contributions import (
    C12Notice,
    Reconciliation,
    UnitContributions,
    WorkerPay,
    compute_unit,
    parse_c12,
    workers_from_d02ts,
)
from bhxh.intake import period_folder
from bhxh.periods import parse_period
from bhxh.pipeline import DossierView, Layout
from bhxh.submission import C12Document

__all__ = [
    "RECONCILIATION_FILE",
    "ContributionStatus",
    "ExplainedLine",
    "declared_workers",
    "lines_text",
    "read_contribution_status",
    "reconcile_notice",
    "reconciliation_path",
    "vnd",
    "write_contribution_status",
]

RECONCILIATION_FILE = "doi-chieu-c12.json"


def vnd(amount: int) -> str:
    """``3398400`` -> ``"3.398.400 đ"``: an amount as a Vietnamese accountant writes it."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,}".replace(",", ".") + " đ"


@dataclass(frozen=True)
class ExplainedLine:
    """One difference, explained: what a person reads (Vietnamese, English beside), the
    notice's line it is about (``stt``, may be empty) and the amount it accounts for."""

    message_vi: str
    message_en: str
    stt: str = ""
    amount: int = 0

    def to_data(self) -> dict[str, Any]:
        return {
            "message_vi": self.message_vi,
            "message": self.message_en,
            "stt": self.stt,
            "amount": self.amount,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ExplainedLine:
        return cls(
            str(data.get("message_vi", "")),
            str(data.get("message", "")),
            str(data.get("stt", "")),
            int(data.get("amount", 0)),
        )


@dataclass(frozen=True)
class ContributionStatus:
    """A unit's reconciled contributions of one period (what the month view shows).

    Attributes:
        unit: the unit code.
        period: ``MM/yyyy``.
        due: what the notice asks for the period, whole VND.
        paid: what the notice records as paid in the period (C).
        deadline: the last day of the month after the period (Vietnam's calendar).
        computed_due: the dues computed from the unit's declarations (B.3 by our count).
        headcount: the notice's B.1; ``computed_headcount`` ours.
        source: where the notice came from (the carrier's name, or the dropped file).
        checked_at: when the reconciliation ran (aware).
        lines: every difference, explained; empty when everything agrees.
    """

    unit: str
    period: str
    due: int
    paid: int
    deadline: dt.date
    computed_due: int
    headcount: int
    computed_headcount: int
    source: str
    checked_at: dt.datetime
    lines: tuple[ExplainedLine, ...] = field(default=())

    @property
    def difference(self) -> int:
        """paid - due: negative when the unit is short, positive when it paid more."""
        return self.paid - self.due

    @property
    def short(self) -> bool:
        return self.difference < 0

    def days_left(self, today: dt.date) -> int:
        return (self.deadline - today).days

    def to_data(self) -> dict[str, Any]:
        return {
            "format": "prefect-bhxh reconciliation 1",
            "unit": self.unit,
            "period": self.period,
            "due": self.due,
            "paid": self.paid,
            "difference": self.difference,
            "deadline": self.deadline.isoformat(),
            "computed_due": self.computed_due,
            "headcount": self.headcount,
            "computed_headcount": self.computed_headcount,
            "source": self.source,
            "checked_at": self.checked_at.isoformat(),
            "lines": [line.to_data() for line in self.lines],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ContributionStatus:
        return cls(
            unit=str(data["unit"]),
            period=str(data["period"]),
            due=int(data["due"]),
            paid=int(data["paid"]),
            deadline=dt.date.fromisoformat(str(data["deadline"])),
            computed_due=int(data["computed_due"]),
            headcount=int(data["headcount"]),
            computed_headcount=int(data["computed_headcount"]),
            source=str(data.get("source", "")),
            checked_at=dt.datetime.fromisoformat(str(data["checked_at"])),
            lines=tuple(ExplainedLine.from_data(line) for line in data.get("lines") or ()),
        )


def reconciliation_path(outbox_dir: Path, unit_code: str, period: str) -> Path:
    """``<outbox>/<unit>/<MM-YYYY>/doi-chieu-c12.json``."""
    return Path(outbox_dir) / unit_code / period_folder(period) / RECONCILIATION_FILE


def write_contribution_status(outbox_dir: Path, status: ContributionStatus) -> Path:
    """Write (replace) the unit's reconciliation of the period; returns the file."""
    path = reconciliation_path(outbox_dir, status.unit, status.period)
    text = json.dumps(status.to_data(), ensure_ascii=False, indent=1, sort_keys=True)
    write_atomic(path, text.encode("utf-8") + b"\n")
    return path


def read_contribution_status(
    outbox_dir: Path, unit_code: str, period: str
) -> ContributionStatus | None:
    """The unit's last reconciliation of the period, or None (never reconciled, or a file
    that cannot be read: the month view then shows no amounts, it never fails)."""
    path = reconciliation_path(outbox_dir, unit_code, period)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        status = ContributionStatus.from_data(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if status.unit != unit_code or status.period != period:
        return None
    return status


def lines_text(lines: Sequence[ExplainedLine], lang: str = "vi") -> str:
    """The explained lines as one text (a report's cell)."""
    # Each line is a sentence of its own (it ends with its full stop).
    return " ".join(line.message_vi if lang == "vi" else line.message_en for line in lines)


# ------------------------------------------------------------------------------ reconcile
_REFUSED = {"rejected", "rejected_at_receipt"}


class _Pipeline(Protocol):
    def unit_views(self, unit_code: str) -> list[DossierView]: ...

    def read_file(self, key: DossierView, relpath: str) -> bytes: ...


def _month(period: str) -> tuple[int, int]:
    parsed = parse_period(period)
    if parsed is None:
        raise ValueError(f"period {period!r} is not MM/yyyy")
    return parsed[1], parsed[0]


def _counts(view: DossierView) -> bool:
    """A business dossier VSS has or will have: handed over, not refused."""
    if view.is_registration or not view.handed_over or view.failure is not None:
        return False
    result = view.result
    return result is None or not ({result.status, result.outcome or ""} & _REFUSED)


def declared_workers(pipeline: _Pipeline, unit_code: str, period: str) -> list[WorkerPay]:
    """The unit's workers as its declarations stand for ``period`` (see the module)."""
    key = _month(period)
    latest: dict[str, tuple[tuple[int, int], int, WorkerPay]] = {}
    for order, view in enumerate(pipeline.unit_views(unit_code)):
        if not _counts(view) or _month(view.period) > key:
            continue
        declared = _month(view.period)
        for stored in view.record.files:
            if stored.form != "D02-TS":
                continue
            for worker in workers_from_d02ts(pipeline.read_file(view, Layout.source(stored))):
                start = _month(worker.from_month) if worker.from_month else declared
                if start > key:
                    continue
                who = worker.maso_bhxh or worker.name
                known = latest.get(who)
                if known is None or (start, order) >= known[:2]:
                    latest[who] = (start, order, worker)
    return [worker for _, _, worker in latest.values()]


def _status(
    result: Reconciliation,
    notice: C12Notice,
    computed: UnitContributions,
    source: str,
    checked_at: dt.datetime,
) -> ContributionStatus:
    return ContributionStatus(
        unit=result.unit,
        period=result.period,
        due=result.due,
        paid=result.paid,
        deadline=result.deadline,
        computed_due=result.computed_due,
        headcount=notice.headcount,
        computed_headcount=computed.headcount,
        source=source,
        checked_at=checked_at,
        lines=tuple(ExplainedLine(f.vi, f.en, f.stt, f.amount) for f in result.findings),
    )


def reconcile_notice(
    pipeline: _Pipeline, document: C12Document, *, now: dt.datetime | None = None
) -> ContributionStatus:
    """The unit's notice read (``bhxh.contributions.parse_c12``) and reconciled against
    the dues computed from its declarations. Writes nothing: the caller writes the status
    (:func:`write_contribution_status`), so a refused notice changes nothing.

    Raises:
        C12NoticeInvalid: the notice is refused (naming the row and the field).
    """
    notice = parse_c12(
        document.data, period=document.period, unit=document.unit_code, source=document.source
    )
    computed = compute_unit(
        document.unit_code,
        document.period,
        declared_workers(pipeline, document.unit_code, document.period),
    )
    result = engine.reconcile(computed, notice)
    return _status(result, notice, computed, document.source, now or dt.datetime.now(dt.UTC))
