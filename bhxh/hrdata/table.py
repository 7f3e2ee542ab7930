"""The HR table model and what every reader shares: :class:`Table` of :class:`Row` of
:class:`Cell` values that know where they came from, the limits, header matching (names,
aliases, the VNPT template) and the reading of values (NFC text, legacy encodings,
amounts, dates). The file formats are ``bhxh.hrdata.csvfile`` and ``bhxh.hrdata.xlsx``;
:func:`bhxh.hrdata.workbook.read_table` is the entry point.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bhxh.errors import InputLocation, InputRefused
from bhxh.hrdata.values import (
    parse_amount,
    parse_birth_date,
    parse_date,
    parse_digits,
    parse_month,
)
from bhxh.vntext import (
    LegacyConversion,
    convert_legacy,
    detect_legacy,
    duplicate_key,
    fold_key,
    normalize_text,
)

__all__ = [
    "COMMON_ALIASES",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "VNPT_TEMPLATE_ALIASES",
    "Cell",
    "Column",
    "HeaderNotFound",
    "Row",
    "SheetNotFound",
    "Table",
    "find_duplicates",
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
    :attr:`typed` is what the parsers of :mod:`bhxh.hrdata` read: the raw number or
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
        """Whole VND as digits (:func:`bhxh.hrdata.parse_amount`)."""
        return parse_amount(self.typed(name), self.where(name))

    def date(self, name: str) -> str:
        """``dd/MM/yyyy`` (:func:`bhxh.hrdata.parse_date`)."""
        return parse_date(self.typed(name), self.where(name), date1904=self.date1904)

    def month(self, name: str) -> str:
        """``MM/yyyy`` (:func:`bhxh.hrdata.parse_month`)."""
        return parse_month(self.typed(name), self.where(name), date1904=self.date1904)

    def birth_date(self, name: str) -> str:
        """``dd/MM/yyyy``, ``MM/yyyy`` or ``yyyy`` (:func:`bhxh.hrdata.parse_birth_date`)."""
        return parse_birth_date(self.typed(name), self.where(name), date1904=self.date1904)

    def digits(self, name: str, lengths: Sequence[int], notes: list[str] | None = None) -> str:
        """An identity number's digits (:func:`bhxh.hrdata.parse_digits`)."""
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
class Table:
    """An HR table as read: where it is, its columns, its rows, what was changed or noted."""

    file: str
    sheet: str | None
    header_row: int
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    ignored_columns: tuple[tuple[str, str], ...] = ()  # (letter, header) not read
    conversions: tuple[LegacyConversion, ...] = ()
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
