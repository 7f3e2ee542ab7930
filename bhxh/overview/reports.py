"""A report a person can keep: the period overview as CSV and .xlsx, next to the outbox.

Plain Python (no Prefect). Per period, in ``Settings.reports_dir`` (default
``<data dir>/reports``, beside ``outbox/``)::

    tong-quan-01-2026.csv            the dossiers, one per line (UTF-8 with a BOM)
    tong-quan-01-2026-canh-bao.csv   the warnings
    tong-quan-01-2026-dong-tien.csv  the contributions: per unit due, paid, difference,
                                     deadline (from the reconciled C12-TS notices)
    tong-quan-01-2026.xlsx           three sheets: Hồ sơ (dossiers), Cảnh báo (warnings),
                                     Đơn vị (units and totals); a fourth, Đóng tiền
                                     (contributions), once a unit of the period is reconciled

The BOM makes Excel read the CSV as UTF-8, so the Vietnamese shows right. A unit name or a
message from VSS is never allowed to become a formula when the file is opened: a text cell
that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return, which some
spreadsheets skip before looking) is neutralised: in the CSV a leading apostrophe is
added (the usual defence; Excel shows the text as it is), in the .xlsx the cell is stored
as a string with Excel's "quote prefix" style (shown without the apostrophe, never
evaluated). Every file is written to a temporary name, fsynced and renamed: a reader
never sees half a report.

:class:`WarningLedger` remembers which warnings were announced (as events) on which day, so
that a warning is announced once a day however often the overview is published.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font

from bhxh._files import write_atomic
from bhxh.intake import period_folder
from bhxh.overview.contributions import lines_text
from bhxh.overview.month import (
    Overview,
)
from bhxh.overview.rows import (
    STATUS_LABELS,
)
from bhxh.overview.warnings import (
    OverviewWarning,
)

__all__ = [
    "CONTRIBUTION_COLUMNS",
    "DOSSIER_COLUMNS",
    "WARNING_COLUMNS",
    "ReportFiles",
    "WarningLedger",
    "neutralise",
    "report_name",
    "write_reports",
]

#: (header, row field) of the dossier table, headers in Vietnamese / English.
DOSSIER_COLUMNS: Sequence[tuple[str, str]] = (
    ("Kỳ / period", "period"),
    ("Mã đơn vị / unit", "unit"),
    ("Tên đơn vị / unit name", "unit_name"),
    ("Hồ sơ / dossier", "dossier"),
    ("Tên hồ sơ / dossier name", "name"),
    ("Thủ tục / procedure", "procedure"),
    ("Lượt duyệt / approvals", "approvals"),
    ("Cần duyệt / approvals needed", "approvals_needed"),
    ("Nộp qua / went to", "route"),
    ("I-VAN", "ivan_code"),
    ("Số hồ sơ / soHoSo", "so_ho_so"),
    ("Đợt / dot", "dot"),
    ("Ngày hẹn trả / promised date", "promised_date"),
    ("Trạng thái / status", "status_vi"),
    ("status", "status"),
    ("Kết quả / outcome", "outcome"),
    ("Thông báo / message", "message"),
    ("Việc cần làm", "next_action_vi"),
    ("next action", "next_action"),
)

#: (header, warning field) of the warning table.
WARNING_COLUMNS: Sequence[tuple[str, str]] = (
    ("Kỳ / period", "period"),
    ("Mã đơn vị / unit", "unit"),
    ("Tên đơn vị / unit name", "unit_name"),
    ("Loại / kind", "kind"),
    ("Hồ sơ / dossier", "dossier"),
    ("Ngày / date", "date"),
    ("Số ngày / days", "days"),
    ("Cảnh báo", "message_vi"),
    ("warning", "message"),
)

#: The contributions table: one line per reconciled unit, amounts in whole VND.
CONTRIBUTION_COLUMNS: Sequence[str] = (
    "Kỳ / period",
    "Mã đơn vị / unit",
    "Tên đơn vị / unit name",
    "Phải đóng / due (VND)",
    "Đã nộp / paid (VND)",
    "Chênh lệch / difference (VND)",
    "Hạn đóng / deadline",
    "Tính từ tờ khai / computed (VND)",
    "Số lao động C12 / headcount",
    "Số lao động tính / computed headcount",
    "Nguồn / source",
    "Giải thích",
    "explained",
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A CSV cell that no spreadsheet will evaluate: text starting with ``= + - @`` (or a
    tab / CR) gets a leading apostrophe; numbers and other text are unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def report_name(period: str) -> str:
    """``"01/2026"`` -> ``"tong-quan-01-2026"`` (the files' stem)."""
    return f"tong-quan-{period_folder(period)}"


def _dossier_lines(overview: Overview) -> list[list[Any]]:
    return [[row.to_data()[key] for _, key in DOSSIER_COLUMNS] for row in overview.rows]


def _warning_lines(overview: Overview) -> list[list[Any]]:
    out = []
    for w in overview.warnings:
        data = w.to_data()
        out.append([data[key] for _, key in WARNING_COLUMNS])
    return out


def _contribution_lines(overview: Overview) -> list[list[Any]]:
    out: list[list[Any]] = []
    for u in overview.units:
        c = u.contributions
        if c is None:
            continue
        out.append(
            [
                overview.period,
                u.unit,
                u.name,
                c.due,
                c.paid,
                c.difference,
                c.deadline.isoformat(),
                c.computed_due,
                c.headcount,
                c.computed_headcount,
                c.source,
                lines_text(c.lines, "vi"),
                lines_text(c.lines, "en"),
            ]
        )
    return out


def _csv(header: Iterable[str], lines: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(list(header))
    for line in lines:
        writer.writerow(["" if v is None else neutralise(v) for v in line])
    return buffer.getvalue().encode("utf-8-sig")


def _put(sheet: Any, row: int, column: int, value: str | int | float | None) -> Cell:
    """Write one cell; text is always a string cell (never a formula), and text that
    starts like a formula gets Excel's quote prefix."""
    cell: Cell = sheet.cell(row=row, column=column)
    if value is None:
        return cell
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        if value.startswith(_FORMULA_STARTS):
            cell.quotePrefix = True
    return cell


def _table(
    sheet: Any, header: Sequence[str], lines: Sequence[Sequence[Any]], start: int = 1
) -> None:
    bold = Font(bold=True)
    for c, title in enumerate(header, start=1):
        _put(sheet, start, c, title).font = bold
    for r, line in enumerate(lines, start=start + 1):
        for c, value in enumerate(line, start=1):
            _put(sheet, r, c, value)
    sheet.freeze_panes = sheet.cell(row=start + 1, column=1)
    for c, title in enumerate(header, start=1):
        width = max([len(str(title))] + [len(str(line[c - 1] or "")) for line in lines])
        sheet.column_dimensions[sheet.cell(row=start, column=c).column_letter].width = min(
            60, width + 2
        )


def _xlsx(overview: Overview) -> bytes:
    book = Workbook()
    dossiers = book.active
    assert dossiers is not None
    dossiers.title = "Hồ sơ"
    _table(dossiers, [h for h, _ in DOSSIER_COLUMNS], _dossier_lines(overview))
    warnings = book.create_sheet("Cảnh báo")
    _table(warnings, [h for h, _ in WARNING_COLUMNS], _warning_lines(overview))
    units = book.create_sheet("Đơn vị")
    _table(
        units,
        [
            "Mã đơn vị / unit",
            "Tên đơn vị / unit name",
            "Tình trạng / status",
            "Việc tiếp theo / next action",
            "Trong hộp thư / in the inbox",
            "Hồ sơ / dossiers",
            "Việc cần làm / to act on",
            "Lượt duyệt / approvals",
            "Nộp qua / route",
            "Chứng thư đến / certificate until",
        ],
        [
            [
                u.unit,
                u.name,
                f"{u.status_vi} / {u.status_en}",
                f"{u.action_vi} / {u.action_en}",
                u.inbox,
                u.dossiers,
                u.open_actions,
                u.approvals,
                u.route,
                u.certificate_until,
            ]
            for u in overview.units
        ],
    )
    start = len(overview.units) + 3
    _put(
        units, start, 1, f"Tổng theo trạng thái / totals by status ({overview.period})"
    ).font = Font(bold=True)
    for offset, (status, count) in enumerate(overview.totals.items(), start=1):
        vi, en = STATUS_LABELS[status]
        _put(units, start + offset, 1, f"{vi} / {en}")
        _put(units, start + offset, 3, count)
    contributions = _contribution_lines(overview)
    if contributions:  # a period nobody reconciled yet has no such sheet
        paying = book.create_sheet("Đóng tiền")
        _table(paying, list(CONTRIBUTION_COLUMNS), contributions)
    book.properties.title = f"Tổng quan kỳ {overview.period} / period overview"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ReportFiles:
    """Where one period's report files are."""

    def __init__(self, folder: Path, period: str) -> None:
        stem = report_name(period)
        self.csv = folder / f"{stem}.csv"
        self.warnings_csv = folder / f"{stem}-canh-bao.csv"
        self.contributions_csv = folder / f"{stem}-dong-tien.csv"
        self.xlsx = folder / f"{stem}.xlsx"

    def __iter__(self) -> Any:
        return iter((self.csv, self.warnings_csv, self.contributions_csv, self.xlsx))

    def __repr__(self) -> str:
        return (
            f"ReportFiles({self.csv}, {self.warnings_csv}, {self.contributions_csv}, {self.xlsx})"
        )


def write_reports(overview: Overview, folder: Path) -> ReportFiles:
    """Write (replace) the period's CSV files and workbook in ``folder``."""
    files = ReportFiles(Path(folder), overview.period)
    write_atomic(files.csv, _csv([h for h, _ in DOSSIER_COLUMNS], _dossier_lines(overview)))
    write_atomic(
        files.warnings_csv, _csv([h for h, _ in WARNING_COLUMNS], _warning_lines(overview))
    )
    write_atomic(
        files.contributions_csv,
        _csv(CONTRIBUTION_COLUMNS, _contribution_lines(overview)),
    )
    write_atomic(files.xlsx, _xlsx(overview))
    return files


class WarningLedger:
    """Which warning was announced on which day (Vietnam time), in a small JSON file.

    Two runs publishing at the very same moment may both announce a warning; the ledger
    is a courtesy to whoever is notified, not a record that must be exact.
    """

    FILE = "warnings-announced.json"

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / self.FILE

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def due(self, warnings: Iterable[OverviewWarning], today: dt.date) -> list[OverviewWarning]:
        """The warnings not announced yet today; they are recorded as announced."""
        seen = self._read()
        day = today.isoformat()
        fresh = [w for w in warnings if seen.get(w.key) != day]
        if fresh:
            seen.update({w.key: day for w in fresh})
            # Entries older than two months are of no use any more.
            cutoff = (today - dt.timedelta(days=62)).isoformat()
            kept = {k: v for k, v in seen.items() if v >= cutoff}
            write_atomic(self.path, json.dumps(kept, indent=1, sort_keys=True).encode())
        return fresh
