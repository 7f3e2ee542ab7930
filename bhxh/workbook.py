"""HR tables in, as accountants have them: Excel workbooks (``.xlsx``, ``.xlsm``) and CSV
files, read into one row model whose every value knows where it came from.

:func:`read_table` finds the sheet (named, or the first visible sheet whose header row
holds the expected columns) and the header row (the row among the first 30 that matches
the most expected columns, by name or alias, ignoring case, diacritics, spaces and
punctuation), then reads every row below it into :class:`Row` objects of :class:`Cell`
values. Text is normalised to Unicode dựng sẵn (NFC, :func:`bhxh.vntext.normalize_text`)
before anything else sees it; cells typed in a legacy font encoding (TCVN3, VNI) are
refused, or converted and reported with ``convert_legacy=True``.

Workbook rules:

- Values are the cached results of formulas (``data_only``). A formula without a cached
  value (a workbook written by a program that does not calculate, never opened and saved
  in Excel) is refused, naming the sheet, the cell and the formula. So are error values
  (``#REF!``, ``#N/A``...).
- Merged header cells count for their first (left) column. A header may take two rows:
  a merged group title above (``Phụ cấp`` over several columns) and the sub-headers below;
  a sub-header is first tried with its group (``Phụ cấp`` + ``Chức vụ`` = ``Phụ cấp chức
  vụ``), then alone. Cells merged down from the header row belong to the header.
- Rows with no value in any column read are skipped wherever they are (a sheet ends with
  many formatted, empty rows); the row of column numbers official forms carry under the
  header (``(1) (2) (3)``) and repeated header rows are skipped too, with a note.
- Hidden sheets are not searched (a template's lookup sheets); name one to read it.
- The file is a zip: its size, the unpacked size and DTD markup in its XML parts are
  checked before openpyxl reads it.

CSV rules: UTF-8 with or without a BOM (anything else is refused with the fix); the
delimiter is ``,``, ``;`` or tab, whichever makes the header match; columns are lettered
as a spreadsheet shows them (A, B, ...), rows numbered as lines.

Column names: the expected columns are the declaration's element names (``HoTen``,
``MasoBHXH``...). :data:`COMMON_ALIASES` adds common Vietnamese headers (our choice) and
:data:`VNPT_TEMPLATE_ALIASES` the display names of the VNPT I-VAN's import template
``FileMau_D02_TK1_VNPT.xlsx`` (sheet ``Dữ Liệu``), as described in public code
(``nguyencuonghut/HRMS``, ``docs/plan_6.3_bien_dong_bhxh.md`` and
``backend/app/services/insurance_export_service.py``). The VSS portal's own bulk-upload
template is not public: no column list of it was found.

Example:
    >>> table = read_table("luong-01-2026.xlsx", ["HoTen", "MasoBHXH", "TienLuong"])
    >>> row = table.rows[0]
    >>> row.text("HoTen"), row.cells["TienLuong"].where
    ('Nguyễn Văn An', InputLocation(file='luong-01-2026.xlsx', sheet='Dữ Liệu', row=4, ...))
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import itertools
import posixpath
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from bhxh.errors import InputLocation, InputRefused
from bhxh.hrvalues import (
    parse_amount,
    parse_birth_date,
    parse_date,
    parse_digits,
    parse_month,
)
from bhxh.vntext import (
    LEGACY_NAMES,
    LegacyEncoding,
    convert_legacy,
    could_be_legacy,
    detect_legacy,
    duplicate_key,
    fold_key,
    legacy_candidates,
    normalize_text,
)

__all__ = [
    "COMMON_ALIASES",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "VNPT_TEMPLATE_ALIASES",
    "Cell",
    "Column",
    "Conversion",
    "HeaderNotFound",
    "Row",
    "SheetNotFound",
    "Table",
    "find_duplicates",
    "read_table",
]

#: Largest HR file read (bytes on disk).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Largest unpacked size of a workbook (all its parts together).
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
#: Most data rows read from one table.
MAX_ROWS = 100_000
#: How many rows from the top are searched for the header.
HEADER_SCAN_ROWS = 30

#: The VNPT I-VAN's import template ``FileMau_D02_TK1_VNPT.xlsx``, sheet ``Dữ Liệu``:
#: element name -> display header (source: see the module docstring). Columns that are
#: not D02-TS / TK1-TS elements (TenLoaiKhaiBao, TenPhuongAn, PhuCap, TenQuocTich,
#: TenBenhVien) are listed so that a caller expecting them can read them.
VNPT_TEMPLATE_ALIASES: dict[str, tuple[str, ...]] = {
    "STT": ("ID Lao động",),
    "HoTen": ("Họ tên",),
    "MasoBHXH": ("Mã số BHXH",),
    "TenLoaiKhaiBao": ("Loại khai báo",),
    "Loai": ("Mã loại khai báo",),
    "TenPhuongAn": ("Phương án",),
    "PA": ("Mã Phương án",),
    "ChucVu": ("Chức vụ",),
    "NoiLamViec": ("Nơi làm việc",),
    "TienLuong": ("Tiền lương",),
    "PhuCap": ("Phụ cấp tính vào mức đóng",),
    "TuThang": ("Từ tháng",),
    "DenThang": ("Đến tháng",),
    "Ghichu": ("Ghi chú",),
    "TyleDong": ("Tỷ lệ đóng (%)",),
    "CMND": ("CMND/CCCD",),
    "NgaySinh": ("Ngày sinh",),
    "GioiTinh": ("Giới tính",),
    "TenQuocTich": ("Tên quốc tịch",),
    "QuocTich": ("Mã quốc tịch",),
    "DanToc": ("Mã dân tộc",),
    "TenBenhVien": ("Tên bệnh viện KCB",),
    "MaBenhVien": ("Mã bệnh viện",),
    "MavungLTT": ("Mã vùng lương tối thiểu",),
}

#: Common Vietnamese headers of HR exports and of the printed D02-TS / TK1-TS forms
#: (our choice, not a published list). A header matching a template alias wins over one
#: matching only a common alias (in the VNPT template ``Phương án`` is the PA's name and
#: ``Mã Phương án`` its code).
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "STT": ("Số thứ tự", "TT", "Số TT"),
    "HoTen": (
        "Họ và tên",
        "Họ tên",
        "Họ và tên người lao động",
        "Họ tên người lao động",
        "Họ tên NLĐ",
    ),
    "MasoBHXH": ("Mã số BHXH", "Mã BHXH", "Số sổ BHXH", "Mã số bảo hiểm xã hội"),
    "ChucVu": (
        "Chức vụ",
        "Chức danh",
        "Chức vụ, chức danh",
        "Cấp bậc, chức vụ, chức danh nghề, điều kiện, nơi làm việc",
    ),
    "NoiLamViec": ("Nơi làm việc",),
    "TienLuong": (
        "Tiền lương",
        "Mức lương",
        "Hệ số/Mức lương",
        "Mức lương đóng BHXH",
        "Tiền lương đóng BHXH",
        "Lương đóng BHXH",
    ),
    "PhuCapCV": ("Phụ cấp chức vụ", "PC chức vụ"),
    "PhuCapTNVK": ("Phụ cấp thâm niên vượt khung", "Phụ cấp thâm niên VK", "Thâm niên VK"),
    "PhuCapTNNghe": ("Phụ cấp thâm niên nghề", "Thâm niên nghề"),
    "PhuCapLuong": ("Phụ cấp lương",),
    "PhuCapBosung": ("Các khoản bổ sung", "Phụ cấp các khoản bổ sung", "Phụ cấp bổ sung"),
    "TuThang": ("Từ tháng", "Từ tháng, năm"),
    "DenThang": ("Đến tháng", "Đến tháng, năm"),
    "Ghichu": ("Ghi chú",),
    "PA": ("Phương án",),
    "TyleDong": ("Tỷ lệ đóng", "Tỷ lệ đóng (%)"),
    "NgaySinh": ("Ngày sinh", "Ngày, tháng, năm sinh", "Ngày tháng năm sinh"),
    "GioiTinh": ("Giới tính",),
    "CMND": (
        "CMND/CCCD",
        "Số CMND/CCCD",
        "Số CCCD/CMND",
        "CCCD",
        "Số CCCD",
        "Số CMND",
        "Số định danh cá nhân",
    ),
    "MavungLTT": ("Mã vùng lương tối thiểu", "Vùng lương tối thiểu"),
    "QuocTich": ("Quốc tịch",),
    "DanToc": ("Dân tộc",),
    "Dienthoai_LH": ("Điện thoại", "Số điện thoại", "Điện thoại liên hệ"),
    "Noidung_Thaydoi": ("Nội dung thay đổi",),
    "MaTinh": ("Mã tỉnh",),
    "MaHuyen": ("Mã huyện",),
    "MaXa": ("Mã xã",),
    "Hdld_tungay": ("Ngày bắt đầu HĐLĐ", "HĐLĐ từ ngày", "Hợp đồng lao động từ ngày"),
}

_TEMPLATE_KEYS = {
    fold_key(label): name for name, labels in VNPT_TEMPLATE_ALIASES.items() for label in labels
}
# How a header matched (lower is closer to the element name).
_BY_NAME, _BY_CUSTOM, _BY_TEMPLATE, _BY_COMMON = 0, 1, 2, 3
_SOURCES = {_BY_NAME: "name", _BY_CUSTOM: "alias", _BY_TEMPLATE: "vnpt", _BY_COMMON: "common"}
_NUMBERING = re.compile(r"\(?\s*(?:\d{1,3}|[A-Z])\s*\)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_Problem = tuple[str, str] | None  # why a cell cannot be read (vi, en)


class HeaderNotFound(InputRefused):
    """No sheet of the file has a header row with the expected columns."""


class SheetNotFound(InputRefused):
    """The workbook has no sheet of the name asked for."""


# --- the row model ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One value read from an HR table.

    ``value`` is the text a declaration carries: NFC, trimmed, inner spaces collapsed
    (converted from TCVN3 / VNI when asked); a number cell as its digits (``9000000``;
    ``0.5``), a date cell as ``dd/MM/yyyy``. ``raw`` is what the file held (``str`` from
    CSV; ``str``, ``int``, ``float``, ``datetime``, ``bool`` or None from a workbook).
    :attr:`typed` is what the parsers of :mod:`bhxh.hrvalues` read: the raw number or
    date, so an Excel date or number is not re-guessed from text, or the text.
    """

    value: str
    raw: object
    field: str
    file: str
    sheet: str | None
    row: int
    column: str
    header: str
    unit: str | None = None

    @property
    def typed(self) -> object:
        """The value to parse: ``raw`` for a number, date or empty cell, else ``value``."""
        return self.value if isinstance(self.raw, str) else self.raw

    @property
    def where(self) -> InputLocation:
        """The cell's location, for refusals."""
        return InputLocation(
            file=self.file,
            sheet=self.sheet,
            row=self.row,
            column=self.column,
            header=self.header,
            unit=self.unit,
        )


@dataclass(frozen=True)
class Row:
    """One data row: ``cells`` maps each expected column found in the file to its cell.

    The typed readers (:meth:`amount`, :meth:`date`, :meth:`month`, :meth:`birth_date`,
    :meth:`digits`) return the declaration's string for a column, ``""`` when it is absent
    or empty, and raise :class:`~bhxh.errors.InputRefused` naming the cell otherwise.

    Example:
        >>> row.amount("TienLuong"), row.month("TuThang"), row.date("NgaySinh")
        ('9000000', '01/2026', '05/03/1990')
    """

    number: int
    cells: Mapping[str, Cell]
    file: str
    sheet: str | None
    unit: str | None = None
    date1904: bool = False  # the workbook counts dates from 1904

    def typed(self, name: str) -> object:
        """The cell's :attr:`Cell.typed`, None when the column is absent."""
        cell = self.cells.get(name)
        return cell.typed if cell is not None else None

    def amount(self, name: str) -> str:
        """Whole VND as digits (:func:`bhxh.hrvalues.parse_amount`)."""
        return parse_amount(self.typed(name), self.where(name))

    def date(self, name: str) -> str:
        """``dd/MM/yyyy`` (:func:`bhxh.hrvalues.parse_date`)."""
        return parse_date(self.typed(name), self.where(name), date1904=self.date1904)

    def month(self, name: str) -> str:
        """``MM/yyyy`` (:func:`bhxh.hrvalues.parse_month`)."""
        return parse_month(self.typed(name), self.where(name), date1904=self.date1904)

    def birth_date(self, name: str) -> str:
        """``dd/MM/yyyy``, ``MM/yyyy`` or ``yyyy`` (:func:`bhxh.hrvalues.parse_birth_date`)."""
        return parse_birth_date(self.typed(name), self.where(name), date1904=self.date1904)

    def digits(self, name: str, lengths: Sequence[int], notes: list[str] | None = None) -> str:
        """An identity number's digits (:func:`bhxh.hrvalues.parse_digits`)."""
        return parse_digits(self.typed(name), self.where(name), lengths=lengths, notes=notes)

    def get(self, name: str) -> Cell | None:
        return self.cells.get(name)

    def text(self, name: str) -> str:
        """The cell's text, ``""`` when the column is absent or the cell empty."""
        cell = self.cells.get(name)
        return cell.value if cell is not None else ""

    def raw(self, name: str) -> object:
        """The cell's raw value, None when the column is absent."""
        cell = self.cells.get(name)
        return cell.raw if cell is not None else None

    def where(self, name: str | None = None) -> InputLocation:
        """The location of a cell, or of the row when the column is absent."""
        cell = self.cells.get(name) if name else None
        if cell is not None:
            return cell.where
        return InputLocation(
            file=self.file, sheet=self.sheet, row=self.number, header=name, unit=self.unit
        )


@dataclass(frozen=True)
class Column:
    """An expected column as found: its letter, its header as written, how it matched."""

    field: str
    letter: str
    index: int  # 1-based
    header: str
    matched_by: str  # "name", "alias" (caller's), "vnpt" (template), "common"


@dataclass(frozen=True)
class Conversion:
    """A cell converted from a legacy encoding (``convert_legacy=True``)."""

    where: InputLocation
    encoding: LegacyEncoding
    original: str
    converted: str

    def describe(self) -> str:
        name = LEGACY_NAMES[self.encoding]
        return f"{self.where.describe('vi')}: {self.original!r} -> {self.converted!r} ({name})"


@dataclass(frozen=True)
class Table:
    """An HR table as read: where it is, its columns, its rows, what was changed or noted."""

    file: str
    sheet: str | None
    header_row: int
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    ignored_columns: tuple[tuple[str, str], ...] = ()  # (letter, header) not read
    conversions: tuple[Conversion, ...] = ()
    warnings: tuple[str, ...] = ()
    date1904: bool = False
    delimiter: str | None = None  # CSV only

    @property
    def template(self) -> str | None:
        """The known template the header matches, when one does."""
        if any(c.matched_by == "vnpt" for c in self.columns):
            return "VNPT FileMau_D02_TK1_VNPT.xlsx"
        return None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.field == name), None)

    def duplicates(self, *names: str) -> list[tuple[Row, Row]]:
        """Pairs (first row, later row) with the same :func:`duplicate_key` in ``names``."""
        return find_duplicates(self.rows, names)


_DATE_TEXT = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{1,2}-\d{1,2}")


def _cell_key(cell: Cell | None) -> str:
    """A cell's value for comparisons: a date in any accepted form as ``dd/MM/yyyy``,
    text as its :func:`~bhxh.vntext.duplicate_key`."""
    if cell is None:
        return ""
    raw = cell.raw
    if isinstance(raw, dt.date) or (isinstance(raw, str) and _DATE_TEXT.fullmatch(cell.value)):
        try:
            return parse_date(cell.typed)
        except InputRefused:
            pass
    return duplicate_key(cell.value)


def find_duplicates(rows: Iterable[Row], names: Sequence[str]) -> list[tuple[Row, Row]]:
    """Rows whose values in ``names`` are the same once normalised (NFC, case, spaces,
    tone placement: see :func:`bhxh.vntext.duplicate_key`; dates in any accepted form);
    rows with all of them empty are not compared."""
    first: dict[tuple[str, ...], Row] = {}
    pairs: list[tuple[Row, Row]] = []
    for row in rows:
        key = tuple(_cell_key(row.get(n)) for n in names)
        if not any(key):
            continue
        if key in first:
            pairs.append((first[key], row))
        else:
            first[key] = row
    return pairs


# --- header matching --------------------------------------------------------------------


def _alias_index(
    expected: Sequence[str], aliases: Mapping[str, Sequence[str]] | None
) -> dict[str, tuple[str, int]]:
    """fold_key(label) -> (field, priority) for the expected fields only."""
    index: dict[str, tuple[str, int]] = {}

    def add(label: str, name: str, priority: int) -> None:
        key = fold_key(label)
        if not key:
            return
        known = index.get(key)
        if known is None or priority < known[1]:
            index[key] = (name, priority)

    wanted = set(expected)
    for name in expected:
        add(name, name, _BY_NAME)
    for table, priority in (
        (aliases or {}, _BY_CUSTOM),
        (VNPT_TEMPLATE_ALIASES, _BY_TEMPLATE),
        (COMMON_ALIASES, _BY_COMMON),
    ):
        for name, labels in table.items():
            if name in wanted:
                for label in labels:
                    add(label, name, priority)
    return index


def _label_of(value: object) -> str:
    if value is None:
        return ""
    text = normalize_text(value if isinstance(value, str) else _display(value))
    encoding = detect_legacy(text)  # a legacy workbook's headers are legacy too
    return normalize_text(convert_legacy(text, encoding)) if encoding else text


@dataclass(frozen=True)
class _Merge:
    min_row: int
    min_col: int
    max_row: int
    max_col: int

    def covers(self, row: int, col: int) -> bool:
        return self.min_row <= row <= self.max_row and self.min_col <= col <= self.max_col


@dataclass
class _Header:
    row: int  # the header's last row; data starts below ``end``
    end: int
    columns: dict[str, Column]
    ignored: list[tuple[str, str]]
    notes: list[str]
    conflict: InputRefused | None = None  # raised if this row is taken as the header


def _grid_value(grid: Sequence[Sequence[object]], row: int, col: int) -> object:
    if row < 1 or row > len(grid):
        return None
    cells = grid[row - 1]
    return cells[col - 1] if col <= len(cells) else None


def _letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _header_at(
    grid: Sequence[Sequence[object]],
    row: int,
    merges: Sequence[_Merge],
    index: Mapping[str, tuple[str, int]],
    where: InputLocation,
) -> _Header:
    width = max((len(r) for r in grid[max(0, row - 2) : row]), default=0)
    claims: dict[str, list[tuple[int, int, str]]] = {}  # field -> [(priority, col, label)]
    ignored: list[tuple[str, str]] = []
    for col in range(1, width + 1):
        label = _label_of(_grid_value(grid, row, col))
        candidates: list[str] = []
        if label:
            group = next(
                (
                    m
                    for m in merges
                    if m.covers(row - 1, col) and m.max_col > m.min_col and m.max_row < row
                ),
                None,
            )
            if group is not None:
                title = _label_of(_grid_value(grid, group.min_row, group.min_col))
                if title:
                    candidates.append(f"{title} {label}")
            candidates.append(label)
        else:
            down = next(
                (m for m in merges if m.covers(row, col) and m.min_row < row and m.min_col == col),
                None,
            )
            if down is not None:
                label = _label_of(_grid_value(grid, down.min_row, col))
                if label:
                    candidates.append(label)
        for candidate in candidates:
            hit = index.get(fold_key(candidate))
            if hit is not None:
                claims.setdefault(hit[0], []).append((hit[1], col, candidate))
                break
        else:
            if label:
                ignored.append((_letter(col), label))
    columns: dict[str, Column] = {}
    notes: list[str] = []
    conflict: InputRefused | None = None
    for name, found in claims.items():
        # A header that the VNPT template uses for another element ("Phương án" is its
        # TenPhuongAn) gives way to one that names this element there ("Mã Phương án").
        strong = [f for f in found if _TEMPLATE_KEYS.get(fold_key(f[2]), name) == name]
        best = sorted(strong or found)
        if len(best) > 1:
            letters = " và ".join(_letter(c) for _, c, _ in best)
            letters_en = " and ".join(_letter(c) for _, c, _ in best)
            conflict = conflict or InputRefused(
                f"cột {name} xuất hiện nhiều lần ({letters})",
                f"column {name} appears more than once ({letters_en})",
                where=InputLocation(file=where.file, sheet=where.sheet, row=row, unit=where.unit),
                expected_vi="mỗi cột một lần; xoá hoặc đổi tên cột thừa",
                expected_en="each column once; delete or rename the extra one",
            )
        priority, col, label = best[0]
        columns[name] = Column(name, _letter(col), col, label, _SOURCES[priority])
        for _, other_col, other_label in sorted(f for f in found if f is not best[0]):
            ignored.append((_letter(other_col), other_label))
            notes.append(
                f"cột {_letter(other_col)} ({other_label!r}) không được dùng: cột "
                f"{_letter(col)} ({label!r}) là {name} — column {_letter(other_col)} "
                f"({other_label!r}) not used: column {_letter(col)} ({label!r}) is {name}"
            )
    # Cells merged down from the header row belong to the header: data starts below them.
    end = max(
        [row] + [m.max_row for m in merges if m.min_row <= row <= m.max_row and m.max_row - row < 5]
    )
    return _Header(row, end, columns, sorted(set(ignored)), notes, conflict)


def _find_header(
    grid: Sequence[Sequence[object]],
    merges: Sequence[_Merge],
    index: Mapping[str, tuple[str, int]],
    where: InputLocation,
    header_row: int | None,
) -> _Header | None:
    """The given header row, or the row of the first rows matching the most columns."""
    if header_row is not None:
        return _header_at(grid, header_row, merges, index, where)
    best: _Header | None = None
    for row in range(1, min(len(grid), HEADER_SCAN_ROWS) + 1):
        header = _header_at(grid, row, merges, index, where)
        if best is None or len(header.columns) > len(best.columns):
            best = header
    return best


def _qualifies(header: _Header | None, expected: Sequence[str], required: Sequence[str]) -> bool:
    """Whether a header is the table's; a header that names a column twice is refused."""
    if header is None:
        return False
    needed = min(2, len(expected))
    ok = len(header.columns) >= needed and all(r in header.columns for r in required)
    if ok and header.conflict is not None:
        raise header.conflict
    return ok


# --- values -----------------------------------------------------------------------------


def _display(value: object) -> str:
    """How a non-text cell is written as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return str(value)


@dataclass(frozen=True)
class _Legacy:
    """A cell that reads as legacy text: its candidates, and the encoding settled on."""

    where: InputLocation
    text: str
    candidates: tuple[LegacyEncoding, ...]
    encoding: LegacyEncoding | None = None

    def converted(self) -> str:
        assert self.encoding is not None
        return normalize_text(convert_legacy(self.text, self.encoding))


@dataclass
class _Reading:
    """What is gathered while rows are read: legacy cells, notes."""

    convert: bool
    legacy: list[_Legacy] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def settle(self) -> None:
        """Cells both encodings explain take the file's encoding when the others agree."""
        sure = {c.candidates[0] for c in self.legacy if len(c.candidates) == 1}
        self.legacy = [
            dataclasses.replace(
                c,
                encoding=c.candidates[0]
                if len(c.candidates) == 1
                else (next(iter(sure)) if len(sure) == 1 and sure <= set(c.candidates) else None),
            )
            for c in self.legacy
        ]


def _check_text(raw: str, text: str, where: InputLocation, reading: _Reading) -> None:
    """Refuse control characters; note a cell that reads as legacy text (``text`` is
    ``raw`` normalised)."""
    bad = _CONTROL.search(raw)
    if bad:
        raise InputRefused(
            f"ô có ký tự điều khiển U+{ord(bad.group()):04X} (không in được, XML không chứa được)",
            f"the cell holds the control character U+{ord(bad.group()):04X} (not printable, "
            "XML cannot carry it)",
            where=where,
            read=raw,
            expected_vi="văn bản thường; gõ lại ô này",
            expected_en="plain text; type the cell again",
        )
    if not text.isascii():
        candidates = legacy_candidates(text)
        if candidates:
            reading.legacy.append(_Legacy(where, text, candidates))


def _legacy_refusal(reading: _Reading, where: InputLocation) -> InputRefused:
    def name(cell: _Legacy) -> str:
        if cell.encoding is not None:
            return LEGACY_NAMES[cell.encoding]
        return " hoặc / or ".join(LEGACY_NAMES[e] for e in cell.candidates)

    unsure = [c for c in reading.legacy if c.encoding is None]
    names = sorted(
        {
            LEGACY_NAMES[e]
            for c in reading.legacy
            for e in ([c.encoding] if c.encoding else c.candidates)
        }
    )
    shown = reading.legacy[:10]
    details = []
    for cell in shown:
        guesses = (
            [cell.converted()]
            if cell.encoding
            else [normalize_text(convert_legacy(cell.text, e)) for e in cell.candidates]
        )
        details.append(
            f"{cell.where.describe('vi')}: {cell.text!r} — có lẽ là / probably "
            + " / ".join(map(repr, guesses))
            + f" ({name(cell)})"
        )
    if len(reading.legacy) > len(shown):
        details.append(f"... và {len(reading.legacy) - len(shown)} ô nữa / and more cells")
    n = len(reading.legacy)
    if reading.convert:  # only the cells whose encoding is unknown stop the conversion
        return InputRefused(
            f"{len(unsure)} ô được gõ bằng bảng mã cũ nhưng không rõ là TCVN3 hay VNI",
            f"{len(unsure)} cell(s) typed in a legacy encoding, TCVN3 or VNI: cannot tell which",
            where=where,
            expected_vi="chuyển mã tệp sang Unicode bằng công cụ (ví dụ Unikey) rồi chạy lại",
            expected_en="convert the file to Unicode with a tool (e.g. Unikey), then run again",
            details=details,
        )
    return InputRefused(
        f"{n} ô được gõ bằng bảng mã cũ {', '.join(names)}, không phải Unicode",
        f"{n} cell(s) typed in the legacy encoding {', '.join(names)}, not Unicode",
        where=where,
        expected_vi="văn bản Unicode: chuyển mã tệp sang Unicode (ví dụ Unikey, Công cụ chuyển "
        "mã), hoặc chạy lại với convert_legacy=True (--convert-legacy) để chuyển tự động",
        expected_en="Unicode text: convert the file to Unicode (e.g. Unikey's converter), or "
        "run again with convert_legacy=True (--convert-legacy) to convert it automatically",
        details=details,
    )


def _convert_cells(rows: Sequence[Row], reading: _Reading) -> list[Conversion]:
    """Replace each legacy cell's value by its conversion; the list of what changed."""
    found = {(c.where.row, c.where.column): c for c in reading.legacy}
    conversions: list[Conversion] = []
    for row in rows:
        cells = row.cells
        assert isinstance(cells, dict)
        for name, cell in list(cells.items()):
            legacy = found.get((cell.row, cell.column))
            if legacy is None or legacy.encoding is None:
                continue
            new = legacy.converted()
            cells[name] = dataclasses.replace(cell, value=new)
            conversions.append(Conversion(cell.where, legacy.encoding, legacy.text, new))
    return conversions


def _is_numbering_row(values: Sequence[str]) -> bool:
    filled = [v for v in values if v]
    return len(filled) >= 3 and all(_NUMBERING.fullmatch(v) for v in filled)


def _is_header_like(values: Sequence[str], index: Mapping[str, tuple[str, int]]) -> bool:
    filled = [v for v in values if v]
    hits = sum(1 for v in filled if fold_key(v) in index)
    return len(filled) >= 2 and hits * 2 >= len(filled)


def _build_rows(
    rows: Iterator[tuple[int, Sequence[tuple[object, _Problem]]]],
    header: _Header,
    index: Mapping[str, tuple[str, int]],
    base: InputLocation,
    reading: _Reading,
    *,
    date1904: bool = False,
) -> list[Row]:
    """Rows below the header. ``rows`` yields (row number, [(raw, problem)]), the problem
    (vi, en) of a cell that cannot be read (formula without value, error value) or None."""
    out: list[Row] = []
    leading = True  # still right under the header: numbering / repeated header rows
    for number, cells in rows:
        if number <= header.end:
            continue
        picked: list[tuple[Column, object, _Problem]] = []
        for column in header.columns.values():
            raw, problem = cells[column.index - 1] if column.index <= len(cells) else (None, None)
            picked.append((column, raw, problem))
        texts = [
            "" if raw is None else normalize_text(raw if isinstance(raw, str) else _display(raw))
            for _, raw, _ in picked
        ]
        if not any(texts) and all(p is None for _, _, p in picked):
            continue
        if leading:
            if _is_numbering_row(texts) or _is_header_like(texts, index):
                reading.notes.append(
                    f"dòng {number} bỏ qua (dòng số thứ tự cột hoặc tiêu đề lặp lại) — "
                    f"row {number} skipped (column numbers or a repeated header)"
                )
                continue
            leading = False
        if len(out) >= MAX_ROWS:
            raise InputRefused(
                f"quá {MAX_ROWS} dòng dữ liệu",
                f"more than {MAX_ROWS} data rows",
                where=base,
                expected_vi="tách tệp thành nhiều tệp nhỏ hơn",
                expected_en="split the file into smaller ones",
            )
        values: dict[str, Cell] = {}
        for (column, raw, problem), text in zip(picked, texts, strict=True):
            where = InputLocation(
                file=base.file,
                sheet=base.sheet,
                row=number,
                column=column.letter,
                header=column.header,
                unit=base.unit,
            )
            if problem is not None:
                raise InputRefused(
                    problem[0],
                    problem[1],
                    where=where,
                    expected_vi="một giá trị: mở tệp trong Excel, kiểm tra công thức rồi lưu lại",
                    expected_en="a value: open the file in Excel, check the formula and save it",
                )
            if isinstance(raw, str):
                _check_text(raw, text, where, reading)
            values[column.field] = Cell(
                value=text,
                raw=raw,
                field=column.field,
                file=base.file or "",
                sheet=base.sheet,
                row=number,
                column=column.letter,
                header=column.header,
                unit=base.unit,
            )
        out.append(Row(number, values, base.file or "", base.sheet, base.unit, date1904))
    return out


def _neighbour_warnings(rows: Sequence[Row], reading: _Reading) -> list[str]:
    """Cells in a column with legacy cells that convert into Vietnamese too: a person checks."""
    found = {(c.where.row, c.where.column) for c in reading.legacy}
    columns = {c.where.column: c.encoding for c in reading.legacy if c.encoding is not None}
    out: list[str] = []
    for row in rows:
        for cell in row.cells.values():
            encoding = columns.get(cell.column)
            if encoding is None or (cell.row, cell.column) in found:
                continue
            if not isinstance(cell.raw, str):
                continue
            maybe = could_be_legacy(cell.value, encoding)
            if maybe is not None:
                out.append(
                    f"{cell.where.describe('vi')}: {cell.value!r} có thể cũng là "
                    f"{LEGACY_NAMES[encoding]} ({maybe!r}); kiểm tra lại — may also be "
                    f"{LEGACY_NAMES[encoding]} ({maybe!r}); check it"
                )
    return out


# --- CSV --------------------------------------------------------------------------------

_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)
_SAVE_AS_UTF8 = (
    "tệp CSV UTF-8: trong Excel chọn Lưu thành (Save As) > CSV UTF-8 (Comma delimited)",
    "a UTF-8 CSV file: in Excel, Save As > CSV UTF-8 (Comma delimited)",
)


def _csv_text(data: bytes, where: InputLocation) -> str:
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            raise InputRefused(
                f"tệp được lưu bằng {name}, không phải UTF-8",
                f"the file is saved as {name}, not UTF-8",
                where=where,
                expected_vi=_SAVE_AS_UTF8[0],
                expected_en=_SAVE_AS_UTF8[1],
            )
    if b"\x00" in data:
        raise InputRefused(
            "tệp có byte NUL (UTF-16 hoặc tệp nhị phân?)",
            "the file holds NUL bytes (UTF-16 or a binary file?)",
            where=where,
            expected_vi=_SAVE_AS_UTF8[0],
            expected_en=_SAVE_AS_UTF8[1],
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputRefused(
            f"tệp không phải UTF-8 (byte 0x{data[exc.start]:02X} ở dòng {line}; có lẽ tệp "
            "được lưu bằng bảng mã Windows-1258, Windows-1252, TCVN3 hoặc VNI)",
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02X} on line {line}; probably "
            "saved as Windows-1258, Windows-1252, TCVN3 or VNI)",
            where=InputLocation(file=where.file, unit=where.unit, row=line),
            expected_vi=_SAVE_AS_UTF8[0],
            expected_en=_SAVE_AS_UTF8[1],
        ) from None


def _csv_rows(
    text: str, delimiter: str, where: InputLocation, limit: int | None = None
) -> list[tuple[int, list[str]]]:
    """(first line number, cells) per record; ``limit`` records at most."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
            if limit is not None and len(rows) >= limit:
                break
            if len(rows) > MAX_ROWS + HEADER_SCAN_ROWS:
                raise InputRefused(
                    f"quá {MAX_ROWS} dòng dữ liệu",
                    f"more than {MAX_ROWS} data rows",
                    where=where,
                    expected_vi="tách tệp thành nhiều tệp nhỏ hơn",
                    expected_en="split the file into smaller ones",
                )
    except csv.Error as exc:
        raise InputRefused(
            f"dòng CSV không đọc được: {exc}",
            f"a CSV line cannot be read: {exc}",
            where=InputLocation(file=where.file, unit=where.unit, row=reader.line_num),
            expected_vi="tệp CSV hợp lệ (dấu ngoặc kép đóng mở đủ)",
            expected_en="a valid CSV file (quotes balanced)",
        ) from None
    return rows


def _check_widths(
    rows: Sequence[tuple[int, list[str]]], header_record: int, delimiter: str, base: InputLocation
) -> None:
    """Every data line has the header's number of cells: a comma typed in an unquoted cell
    (``Số 3, Phố Huế``) shifts every value after it into the wrong column."""
    if header_record > len(rows):
        return
    width = len(rows[header_record - 1][1])
    shown = {",": "dấu phẩy (,)", ";": "dấu chấm phẩy (;)", "\t": "dấu tab"}[delimiter]
    shown_en = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
    for line, cells in rows[header_record:]:
        if len(cells) == width or not any(c.strip() for c in cells):
            continue
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            continue  # trailing empty cells
        raise InputRefused(
            f"dòng có {len(cells)} ô nhưng dòng tiêu đề có {width}",
            f"the line has {len(cells)} cells but the header has {width}",
            where=InputLocation(file=base.file, unit=base.unit, row=line),
            expected_vi=f'mỗi dòng {width} ô; ô có {shown} phải nằm trong ngoặc kép ("...")',
            expected_en=f"{width} cells on every line; a cell holding a {shown_en} must be "
            'in double quotes ("...")',
        )


def _read_csv(
    data: bytes,
    expected: Sequence[str],
    index: Mapping[str, tuple[str, int]],
    required: Sequence[str],
    header_row: int | None,
    reading: _Reading,
    base: InputLocation,
) -> Table:
    text = _csv_text(data, base)
    found: tuple[str, _Header] | None = None
    for delimiter in (",", ";", "\t"):
        head = _csv_rows(text, delimiter, base, limit=HEADER_SCAN_ROWS)
        header = _find_header([cells for _, cells in head], [], index, base, header_row)
        if header is not None and (found is None or len(header.columns) > len(found[1].columns)):
            found = (delimiter, header)
    if found is None or not _qualifies(found[1], expected, required):
        raise _no_header(base, expected, required, (None, found[1]) if found else None)
    delimiter, header = found
    rows = _csv_rows(text, delimiter, base)
    _check_widths(rows, header.end, delimiter, base)
    # CSV rows are numbered by their first line; the header search counted records.
    header_line = rows[header.end - 1][0] if header.end <= len(rows) else header.end
    header = _Header(header_line, header_line, header.columns, header.ignored, header.notes)
    table_rows = _build_rows(
        ((line, [(c, None) for c in cells]) for line, cells in rows), header, index, base, reading
    )
    return _finish(base, header, table_rows, reading, delimiter=delimiter)


# --- xlsx -------------------------------------------------------------------------------

_DTD_MARKUP = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class _SheetInfo:
    name: str
    part: str
    hidden: bool
    merges: list[_Merge] = field(default_factory=list)
    uncached: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> formula
    scanned: bool = False


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _check_package(archive: zipfile.ZipFile, where: InputLocation) -> None:
    refuse_package = (
        "tệp Excel hỏng hoặc không an toàn",
        "the Excel file is damaged or unsafe",
    )
    total = sum(info.file_size for info in archive.infolist())
    if total > MAX_UNPACKED_BYTES:
        raise InputRefused(
            f"{refuse_package[0]}: giải nén ra {total} byte, quá {MAX_UNPACKED_BYTES}",
            f"{refuse_package[1]}: it unpacks to {total} bytes, above {MAX_UNPACKED_BYTES}",
            where=where,
        )
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels")):
            continue
        tail = b""
        with archive.open(info) as part:
            while chunk := part.read(1 << 20):
                if _DTD_MARKUP.search(tail + chunk):
                    raise InputRefused(
                        f"{refuse_package[0]}: phần {info.filename} có khai báo DOCTYPE/ENTITY",
                        f"{refuse_package[1]}: part {info.filename} holds DOCTYPE/ENTITY markup",
                        where=where,
                    )
                tail = chunk[-16:]


def _part_path(source: str, target: str) -> str:
    """A relationship target as a zip member name (targets are relative to the source)."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _relationships(archive: zipfile.ZipFile, source: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, zip member) of a part's relationships."""
    rels = posixpath.join(posixpath.dirname(source), "_rels", posixpath.basename(source) + ".rels")
    root = etree.fromstring(archive.read(rels), parser=_xml_parser())
    return {
        rel.get("Id", ""): (rel.get("Type", ""), _part_path(source, rel.get("Target", "")))
        for rel in root.iter(f"{{{_PKG_REL_NS}}}Relationship")
    }


def _sheets(archive: zipfile.ZipFile) -> tuple[list[_SheetInfo], bool]:
    """The worksheets in workbook order, and whether the workbook uses the 1904 system."""
    book_part = next(
        (
            part
            for kind, part in _relationships(archive, "").values()
            if kind.endswith("/officeDocument")
        ),
        "xl/workbook.xml",
    )
    book = etree.fromstring(archive.read(book_part), parser=_xml_parser())
    targets = _relationships(archive, book_part)
    pr = book.find(f"{{{_MAIN_NS}}}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    names = set(archive.namelist())
    out: list[_SheetInfo] = []
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        kind, part = targets.get(sheet.get(f"{{{_REL_NS}}}id", ""), ("", ""))
        if not kind.endswith("/worksheet") or part not in names:
            continue  # a chartsheet or a missing part: nothing to read
        state = sheet.get("state", "visible")
        out.append(_SheetInfo(sheet.get("name", ""), part, state != "visible"))
    return out, date1904


def _scan_sheet(archive: zipfile.ZipFile, info: _SheetInfo) -> None:
    """Merged ranges and formula cells without a cached value, in one pass over the XML."""
    if info.scanned:
        return
    row_tag, c_tag, f_tag, v_tag = (f"{{{_MAIN_NS}}}{t}" for t in ("row", "c", "f", "v"))
    merge_tag = f"{{{_MAIN_NS}}}mergeCell"
    row_number = 0
    with archive.open(info.part) as source:
        for _, el in etree.iterparse(
            source,
            events=("end",),
            tag=(row_tag, merge_tag),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
        ):
            if el.tag == merge_tag:
                a, _, b = el.get("ref", "").partition(":")
                ma, mb = _CELL_REF.fullmatch(a), _CELL_REF.fullmatch(b or a)
                if ma and mb:
                    info.merges.append(
                        _Merge(
                            int(ma.group(2)),
                            _col_index(ma.group(1)),
                            int(mb.group(2)),
                            _col_index(mb.group(1)),
                        )
                    )
                continue
            # ``r`` is optional on rows and cells: count as spreadsheet programs do.
            r = el.get("r")
            row_number = int(r) if r and r.isdigit() else row_number + 1
            if el.find(f"{c_tag}/{f_tag}") is not None:
                col = 0
                for cell in el.iterchildren(c_tag):
                    m = _CELL_REF.fullmatch(cell.get("r", ""))
                    col = _col_index(m.group(1)) if m else col + 1
                    formula = cell.find(f_tag)
                    if formula is None:
                        continue
                    value = cell.find(v_tag)
                    cached = value is not None and (value.text or cell.get("t") == "str")
                    if not cached:
                        info.uncached[(row_number, col)] = "=" + (formula.text or "")
            el.clear()
    info.scanned = True


def _opened(source: Path | bytes) -> Path | io.BytesIO:
    """A file to read: the path, or a fresh stream over bytes (one per reader)."""
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _open_workbook(source: Path | bytes, where: InputLocation) -> Any:
    import openpyxl  # imported here: reading CSV does not need it

    try:
        return openpyxl.load_workbook(
            _opened(source), read_only=True, data_only=True, keep_links=False
        )
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputRefused(
            f"không mở được tệp Excel ({type(exc).__name__}: {exc})",
            f"cannot open the Excel file ({type(exc).__name__}: {exc})",
            where=where,
            expected_vi="tệp .xlsx lưu từ Excel hoặc LibreOffice",
            expected_en="an .xlsx file saved by Excel or LibreOffice",
        ) from None


def _sheet_rows(ws: Any, info: _SheetInfo) -> Iterator[tuple[int, list[tuple[object, _Problem]]]]:
    """(row number, [(raw value, problem)]) for every row of a read-only worksheet."""
    ws.reset_dimensions()  # a wrong <dimension> must not cut the sheet short
    for number, cells in enumerate(ws.iter_rows(), start=1):
        values: list[tuple[object, _Problem]] = []
        for col, cell in enumerate(cells, start=1):
            value = getattr(cell, "value", None)
            problem: _Problem = None
            formula = info.uncached.get((number, col))
            ref = f"{_letter(col)}{number}"
            if formula is not None:
                problem = (
                    f"ô {ref} có công thức {formula} nhưng không có giá trị đã tính (tệp chưa "
                    "được Excel tính và lưu)",
                    f"cell {ref} holds the formula {formula} but no calculated value (the file "
                    "was never calculated and saved by Excel)",
                )
            elif getattr(cell, "data_type", "") == "e":
                problem = (f"ô {ref} có lỗi {value}", f"cell {ref} holds the error {value}")
            values.append((value, problem))
        yield number, values


def _read_xlsx(
    source: Path | bytes,
    expected: Sequence[str],
    index: Mapping[str, tuple[str, int]],
    required: Sequence[str],
    sheet: str | None,
    header_row: int | None,
    reading: _Reading,
    base: InputLocation,
) -> Table:
    try:
        archive = zipfile.ZipFile(_opened(source))
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputRefused(
            f"không phải tệp Excel .xlsx ({exc})",
            f"not an Excel .xlsx file ({exc})",
            where=base,
            expected_vi="tệp .xlsx (Excel Workbook)",
            expected_en="an .xlsx file (Excel Workbook)",
        ) from None
    with archive:
        _check_package(archive, base)
        try:
            infos, date1904 = _sheets(archive)
        except (KeyError, etree.XMLSyntaxError) as exc:
            raise InputRefused(
                f"tệp Excel hỏng: {exc}", f"damaged Excel file: {exc}", where=base
            ) from None
        wb = _open_workbook(source, base)
        try:
            if sheet is not None:
                chosen = [i for i in infos if i.name == sheet] or [
                    i for i in infos if fold_key(i.name) == fold_key(sheet)
                ]
                if not chosen:
                    raise SheetNotFound(
                        f"không có trang tính {sheet!r}",
                        f"there is no sheet {sheet!r}",
                        where=base,
                        expected_vi="một trong: " + ", ".join(repr(i.name) for i in infos),
                        expected_en="one of: " + ", ".join(repr(i.name) for i in infos),
                    )
                candidates = chosen[:1]
            else:
                candidates = [i for i in infos if not i.hidden]
            closest: tuple[str | None, _Header] | None = None
            for info in candidates:
                if info.name not in wb.sheetnames:
                    continue
                where = InputLocation(file=base.file, unit=base.unit, sheet=info.name)
                _scan_sheet(archive, info)
                rows = _sheet_rows(wb[info.name], info)
                head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
                grid = [[v for v, _ in cells] for _, cells in head]
                header = _find_header(grid, info.merges, index, where, header_row)
                if not _qualifies(header, expected, required):
                    if header is not None and (
                        closest is None or len(header.columns) > len(closest[1].columns)
                    ):
                        closest = (info.name, header)
                    continue
                assert header is not None
                table_rows = _build_rows(
                    itertools.chain(head, rows), header, index, where, reading, date1904=date1904
                )
                return _finish(where, header, table_rows, reading, date1904=date1904)
        finally:
            wb.close()
    raise _no_header(base, expected, required, closest, sheets=[i.name for i in candidates])


def _no_header(
    where: InputLocation,
    expected: Sequence[str],
    required: Sequence[str],
    best: tuple[str | None, _Header] | None = None,
    sheets: Sequence[str] = (),
) -> HeaderNotFound:
    wanted = ", ".join(required or expected)
    vi = f"không tìm thấy dòng tiêu đề có các cột cần thiết trong {HEADER_SCAN_ROWS} dòng đầu"
    en = f"no header row with the needed columns in the first {HEADER_SCAN_ROWS} rows"
    if sheets:
        vi += f" (đã tìm trong các trang: {', '.join(map(repr, sheets))})"
        en += f" (sheets searched: {', '.join(map(repr, sheets))})"
    if best is not None and best[1].columns:
        sheet, header = best
        found = ", ".join(f"{c.field} ({c.letter})" for c in header.columns.values())
        missing = ", ".join(r for r in (required or expected) if r not in header.columns)
        place_vi = f"dòng {header.end}" + (f" trang {sheet!r}" if sheet else "")
        place_en = f"row {header.end}" + (f" of sheet {sheet!r}" if sheet else "")
        vi += f"; gần nhất là {place_vi}: có {found}, thiếu {missing}"
        en += f"; the closest is {place_en}: it has {found}, it lacks {missing}"
    return HeaderNotFound(
        vi,
        en,
        where=where,
        expected_vi=f"một dòng tiêu đề có các cột {wanted}",
        expected_en=f"a header row with the columns {wanted}",
    )


def _finish(
    where: InputLocation,
    header: _Header,
    rows: list[Row],
    reading: _Reading,
    *,
    date1904: bool = False,
    delimiter: str | None = None,
) -> Table:
    reading.settle()
    if reading.legacy and (not reading.convert or any(c.encoding is None for c in reading.legacy)):
        raise _legacy_refusal(reading, where)
    conversions = _convert_cells(rows, reading) if reading.convert else []
    warnings = list(header.notes) + reading.notes + _neighbour_warnings(rows, reading)
    warnings += [
        f"cột {letter} ({label!r}) không được dùng — column {letter} ({label!r}) not used"
        for letter, label in header.ignored
    ]
    return Table(
        file=where.file or "",
        sheet=where.sheet,
        header_row=header.end,
        columns=tuple(sorted(header.columns.values(), key=lambda c: c.index)),
        rows=tuple(rows),
        ignored_columns=tuple(header.ignored),
        conversions=tuple(conversions),
        warnings=tuple(warnings),
        date1904=date1904,
        delimiter=delimiter,
    )


# --- entry point ------------------------------------------------------------------------


def read_table(
    source: str | Path | bytes,
    expected_columns: Sequence[str],
    *,
    name: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
    required: Sequence[str] = (),
    convert_legacy: bool = False,
    unit: str | None = None,
) -> Table:
    """Read an HR table (``.xlsx`` / ``.xlsm`` workbook or ``.csv``) into rows of cells.

    Args:
        source: the file's path, or its content as bytes (an upload, CSV text encoded);
            the format follows the content (a zip is a workbook; the old binary ``.xls``
            is refused with the fix), not the name.
        expected_columns: the element names to read (``HoTen``, ``MasoBHXH``...); other
            columns are listed in ``Table.ignored_columns``.
        name: the file name refusals give (default: the path's name; ``"CSV"`` or
            ``"workbook"`` for bytes).
        sheet: the sheet to read (exact name, or the same ignoring case and diacritics);
            default: the first visible sheet whose header holds the columns.
        header_row: the header's row number (its last row for a two-row header);
            default: found among the first 30 rows.
        aliases: more header labels per element name, tried before the built-in ones.
        required: columns that must be in the header (the header search needs them).
        convert_legacy: convert TCVN3 / VNI cells (each one reported in
            ``Table.conversions``) instead of refusing the file.
        unit: the unit code, named in refusals.

    Raises:
        InputRefused: the file, its encoding, its header or a cell cannot be read; the
            message names unit, file, sheet, row and column.
    """
    if isinstance(source, bytes):
        data: Path | bytes = source
        magic = source[:8]
        label = name or ("workbook" if magic.startswith(b"PK\x03\x04") else "CSV")
        suffix = Path(label).suffix.lower()
        base = InputLocation(file=label, unit=unit)
        if len(source) > MAX_FILE_BYTES:
            raise InputRefused(
                f"tệp quá lớn: {len(source)} byte, tối đa {MAX_FILE_BYTES}",
                f"the file is too large: {len(source)} bytes, at most {MAX_FILE_BYTES}",
                where=base,
            )
    else:
        p = Path(source)
        data, suffix = p, p.suffix.lower()
        base = InputLocation(file=name or p.name, unit=unit)
        try:
            size = p.stat().st_size
            if size > MAX_FILE_BYTES:
                raise InputRefused(
                    f"tệp quá lớn: {size} byte, tối đa {MAX_FILE_BYTES}",
                    f"the file is too large: {size} bytes, at most {MAX_FILE_BYTES}",
                    where=base,
                )
            with p.open("rb") as fh:
                magic = fh.read(8)
        except OSError as exc:
            raise InputRefused(
                f"không đọc được tệp ({exc.strerror or exc})",
                f"cannot read the file ({exc.strerror or exc})",
                where=base,
            ) from None
    index = _alias_index(expected_columns, aliases)
    reading = _Reading(convert=convert_legacy)
    try:
        if magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise InputRefused(
                "tệp Excel 97-2003 (.xls) không được hỗ trợ",
                "Excel 97-2003 files (.xls) are not read",
                where=base,
                expected_vi="mở tệp trong Excel rồi Lưu thành (Save As) > Excel Workbook (.xlsx)",
                expected_en="open it in Excel and Save As > Excel Workbook (.xlsx)",
            )
        if magic.startswith(b"PK\x03\x04"):
            return _read_xlsx(
                data, expected_columns, index, required, sheet, header_row, reading, base
            )
        if suffix in (".xlsx", ".xlsm"):
            raise InputRefused(
                "tệp mang đuôi Excel nhưng không phải tệp Excel",
                "the file is named like a workbook but is not one",
                where=base,
                expected_vi="tệp .xlsx lưu từ Excel",
                expected_en="an .xlsx file saved by Excel",
            )
        content = data if isinstance(data, bytes) else data.read_bytes()
        return _read_csv(content, expected_columns, index, required, header_row, reading, base)
    except InputRefused as exc:
        raise exc.with_unit(unit) from None
