"""Helpers for HR files: workbooks written with openpyxl, parts of them rewritten."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import PatternFill

# The declarations tests build rows with the intake tests' unit, workers and day.
from tests.bhxh.intake.conftest import today, unit, worker  # noqa: F401

#: The D02-TS columns these tests read.
D02_COLUMNS = (
    "STT",
    "HoTen",
    "MasoBHXH",
    "ChucVu",
    "TienLuong",
    "PhuCapCV",
    "TuThang",
    "PA",
    "NgaySinh",
    "CMND",
)
D02_REQUIRED = ("HoTen", "ChucVu", "TienLuong", "PA")

WriteBook = Callable[..., Path]


def write_book(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    sheet: str = "Dữ Liệu",
    merges: Sequence[str] = (),
    empty_formatted_rows: int = 0,
    extra_sheets: Sequence[tuple[str, Sequence[Sequence[object]], bool]] = (),
) -> Path:
    """A workbook whose first sheet holds ``rows``; ``extra_sheets``: (name, rows, hidden)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    for ref in merges:
        ws.merge_cells(ref)
    fill = PatternFill("solid", fgColor="FFFF00")
    start = ws.max_row + 1
    for r in range(start, start + empty_formatted_rows):
        for c in range(1, 8):
            ws.cell(row=r, column=c).fill = fill  # a formatted, empty cell
    for name, extra_rows, hidden in extra_sheets:
        extra = wb.create_sheet(name)
        for row in extra_rows:
            extra.append(list(row))
        if hidden:
            extra.sheet_state = "hidden"
    wb.save(path)
    return path


def rewrite_part(path: Path, part: str, change: Callable[[str], str]) -> Path:
    """Rewrite one XML part of a workbook (to give a formula its cached value, ...)."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            if info.filename == part:
                data = change(data.decode("utf-8")).encode("utf-8")
            dst.writestr(info, data)
    return path


@pytest.fixture
def book(tmp_path: Path) -> WriteBook:
    """write_book into tmp_path: ``book(rows, name="x.xlsx", **options)``."""

    def make(rows: Sequence[Sequence[object]], name: str = "luong.xlsx", **kw: object) -> Path:
        return write_book(tmp_path / name, rows, **kw)  # type: ignore[arg-type]

    return make


HEADER = ("STT", "Họ và tên", "Mã số BHXH", "Chức vụ", "Tiền lương", "Phương án", "Ngày sinh")
