"""Declarations (tờ khai) built from data, so an HR export becomes a dossier without
hand-written XML, shaped as the files I-VANs really send.

Every declaration this module builds follows the form's layout in the catalogue
(:data:`bhxh.catalogue.FORM_LAYOUTS`): UTF-8, no namespace, no pretty-printing, no unit
header (the unit and the period travel in the envelope), the root's children in the real
files' order and the empty ``<Cky/>`` that receives the signature last. A D02-TS::

    <?xml version="1.0" encoding="UTF-8"?>
    <D02-TS>
      <ThongTinKhac><SoToBiaSoBHXH>0</SoToBiaSoBHXH><SoToRoiSoBHXH>0</SoToRoiSoBHXH>
        <SoTheBHYT>0</SoTheBHYT></ThongTinKhac>
      <NoiDung><LaoDong><STT>1</STT><HoTen>...</HoTen> ... 44 fields ... </LaoDong>...</NoiDung>
      <Cky/>
    </D02-TS>

(shown indented here; the bytes carry no whitespace between elements). Each row holds every
field of the layout in order: what the data gives, normalised to the samples' formats
(``TyleDong`` ``32.0``, ``MavungLTT`` ``01``, ``DanToc`` ``01``, dates ``dd/MM/yyyy``); what
it does not give, the layout's default (``TinhLai`` 0, ``DaCoSo`` 1 when the worker has a
``MasoBHXH``, ``TuThang`` the declared period, allowances 0...) or an empty element.

The row model: :class:`WorkerRow` (D02-TS), :class:`TK1Row`, :class:`D01Row` and
:class:`D05Row` are :class:`DeclarationRow` values, a wire field name -> text mapping that
accepts exactly the fields the catalogue lists for its form (``row.HoTen`` reads a field,
``row.replace(HoTen=...)`` changes one). The builders also take plain mappings; text is
carried in NFC on one line.

HR files: :func:`read_rows` reads a form's rows from an Excel workbook or a CSV as
accountants have them (:mod:`bhxh.workbook` finds the sheet and the header, matches
Vietnamese headers and the VNPT I-VAN's import template, refuses or converts TCVN3 / VNI;
:mod:`bhxh.hrvalues` reads amounts, months and dates as people type them), naming unit,
file, sheet, row and column in every refusal. :func:`read_workers_csv` /
:func:`read_tk1_csv` are its strict form for programs (a header of field names; an unknown
column is refused). ``python -m bhxh.declarations build`` (:func:`cli`) turns a file into a
dossier in the inbox. :func:`write_demo_csv` and :func:`write_demo_workbook` write
invented, plausible D02-TS rows.

Builder refusals name the unit, the file, the row (and its STT) and the field.

Example:
    >>> rows = read_workers_csv("HoTen,ChucVu,TienLuong,PA\\nNguyễn Văn An,Kế toán,9000000,TM\\n")
    >>> build_d02ts(unit, "01/2026", rows)[:38]
    b'<?xml version="1.0" encoding="UTF-8"?>'
    >>> read = read_rows("luong-01-2026.xlsx", "D02-TS", unit="TA0001A")
    >>> read.rows[0].TienLuong, read.warnings
    ('9000000', ("cột H ('Phòng ban') không được dùng — column H ('Phòng ban') not used",))
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import functools
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Literal, TextIO, TypeVar

from lxml import etree

from bhxh.build_cli import BuiltDeclaration, FormSpec
from bhxh.catalogue import (
    FORM_LAYOUTS,
    PA_CODES,
    SIGNATURE_SLOT,
    FieldSpec,
    FormLayout,
    form_filename,
)
from bhxh.errors import DossierInvalid, InputLocation, InputRefused
from bhxh.models import UnitInfo
from bhxh.validation import field_problem, validate_period
from bhxh.vntext import duplicate_key, fold_key, normalize_text
from bhxh.workbook import Conversion, Row, Table, read_table

__all__ = [
    "D01_FIELDS",
    "D02_FIELDS",
    "D05_FIELDS",
    "TK1_FIELDS",
    "XML_DECLARATION",
    "D01Row",
    "D05Row",
    "DeclarationRow",
    "RowsRead",
    "TK1Row",
    "UnknownColumns",
    "WorkerRow",
    "build_d01ts",
    "build_d02ts",
    "build_d05ts",
    "build_declaration",
    "build_tk1ts",
    "cli",
    "file_columns",
    "file_forms",
    "normalise_value",
    "read_rows",
    "read_rows_csv",
    "read_tk1_csv",
    "read_workers_csv",
    "required_columns",
    "rows_from_table",
    "unit_from_code",
    "write_demo_csv",
    "write_demo_workbook",
]

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
_MAX_PROBLEMS = 50  # per file: enough to fix a batch, not a wall of text

#: Row fields in wire order, read from the catalogue.
D02_FIELDS: tuple[str, ...] = FORM_LAYOUTS["D02-TS"].row_names
TK1_FIELDS: tuple[str, ...] = FORM_LAYOUTS["TK1-TS"].row_names
D01_FIELDS: tuple[str, ...] = FORM_LAYOUTS["D01-TS"].row_names
D05_FIELDS: tuple[str, ...] = FORM_LAYOUTS["D05-TS"].row_names


def _value_fields(layout: FormLayout) -> Mapping[str, FieldSpec]:
    """The row fields that take a value (``PhuLuc`` and other groups are written empty)."""
    return _value_fields_of(layout.form)


@functools.cache
def _value_fields_of(form: str) -> Mapping[str, FieldSpec]:
    layout = FORM_LAYOUTS[form]
    return MappingProxyType({f.name: f for f in layout.row_fields if f.kind != "group"})


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return normalize_text(str(value))  # NFC, one line: how a person's text is carried


class DeclarationRow:
    """One row of a declaration: wire field name -> text, for the fields of ``form``.

    Subclasses fix the form. Fields not given are empty; a name the catalogue does not
    list for the form is refused. Values are kept as text (numbers and dates as written);
    the builders normalise them.

    Example:
        >>> row = WorkerRow(HoTen="Lê Thị Hoa", ChucVu="Kế toán", TienLuong=9_000_000, PA="TM")
        >>> row.TienLuong, row.MasoBHXH
        ('9000000', '')
    """

    form: ClassVar[str] = ""
    __slots__ = ("_values",)
    _values: Mapping[str, str]

    def __init__(self, values: Mapping[str, object] | None = None, /, **fields: object) -> None:
        merged = {**(values or {}), **fields}
        known = _value_fields(FORM_LAYOUTS[self.form])
        unknown = [name for name in merged if name not in known]
        if unknown:
            raise DossierInvalid(
                f"{self.form} row: unknown field(s) {', '.join(unknown)}; "
                f"known fields: {', '.join(known)}"
            )
        text = {name: _as_text(value) for name, value in merged.items()}
        object.__setattr__(self, "_values", MappingProxyType(text))

    @classmethod
    def _of_read_values(cls: type[_R], values: dict[str, str]) -> _R:
        """A row from values :func:`rows_from_table` has already checked and written as
        the declaration carries them (a large file is not normalised twice)."""
        row = cls.__new__(cls)
        object.__setattr__(row, "_values", MappingProxyType(values))
        return row

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _value_fields(FORM_LAYOUTS[self.form]):
            return self._values.get(name, "")
        raise AttributeError(f"{self.form} rows have no field {name!r}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use .replace({name}=...)")

    def get(self, name: str, default: str = "") -> str:
        return self._values.get(name, default) or default

    def as_dict(self) -> dict[str, str]:
        """The fields given (empty ones included), in the order they were given."""
        return dict(self._values)

    def replace(self: _R, **changes: object) -> _R:
        """A copy with some fields changed."""
        return type(self)({**self._values, **changes})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeclarationRow):
            return NotImplemented
        mine = {k: v for k, v in self._values.items() if v}
        theirs = {k: v for k, v in other._values.items() if v}
        return self.form == other.form and mine == theirs

    def __hash__(self) -> int:
        return hash((self.form, tuple(sorted((k, v) for k, v in self._values.items() if v))))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._values.items() if v)
        return f"{type(self).__name__}({shown})"


_R = TypeVar("_R", bound=DeclarationRow)


class WorkerRow(DeclarationRow):
    """A D02-TS row (``NoiDung/LaoDong``): a worker joining, leaving or adjusting.

    ``PA`` is the action (see ``catalogue.PA_CODES``); amounts are whole VND; ``TuThang`` /
    ``DenThang`` are MM/yyyy; dates dd/MM/yyyy. Required: ``HoTen``, ``ChucVu``,
    ``TienLuong`` (> 0), ``PA``; ``TinhLai`` and ``DaCoSo`` have defaults.
    """

    form = "D02-TS"
    __slots__ = ()


class TK1Row(DeclarationRow):
    """A TK1-TS row: a person registering or changing personal data (birth place codes
    ``Matinh_KS/Mahuyen_KS/Maxa_KS``, address ``Diachi_NN`` and its codes, the hospital
    ``MaTinhBenhVien/MaBenhVien``...). Required: ``HoTen``, ``NgaySinh``, ``GioiTinh``
    (``QuocTich`` defaults to VN)."""

    form = "TK1-TS"
    __slots__ = ()


class D01Row(DeclarationRow):
    """A D01-TS row (``NoiDung/BangKe/ThongTin``): one document backing the declaration.
    ``NgayBanHanh`` and ``NgayHieuLuc`` are required (dd/MM/yyyy or a date)."""

    form = "D01-TS"
    __slots__ = ()


class D05Row(DeclarationRow):
    """A D05-TS row: a person insured on their own (BHYT only, voluntary BHXH)."""

    form = "D05-TS"
    __slots__ = ()


_ROW_TYPES: dict[str, type[DeclarationRow]] = {
    t.form: t for t in (WorkerRow, TK1Row, D01Row, D05Row)
}

RowLike = DeclarationRow | Mapping[str, object]


# --- values ----------------------------------------------------------------------------------

_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def normalise_value(spec: FieldSpec, value: object) -> str:
    """A value written the way the samples write this field; checked, never guessed.

    ``32`` -> ``32.0`` (rates), ``1`` -> ``01`` (codes of width 2), ``1/2/1990`` ->
    ``01/02/1990``, ``9 000 000`` -> ``9000000``, a ``date`` -> ``dd/MM/yyyy``.

    Raises:
        ValueError: the value cannot be written as this field's kind; the message says why.
    """
    text = original = _as_text(value)
    if not text:
        return ""
    kind = spec.kind
    if kind in ("whole", "amount", "digits"):
        text = text.replace(" ", "").replace("\u00a0", "")
    elif kind == "month":
        m = _MONTH_YEAR.fullmatch(text) or _DAY_MONTH_YEAR.fullmatch(text)
        if m and len(m.groups()) == 2:
            text = f"{int(m.group(1)):02d}/{m.group(2)}"
    elif kind in ("date", "birth"):
        m = _DAY_MONTH_YEAR.fullmatch(text)
        iso = _ISO_DATE.fullmatch(text)
        if m:
            text = f"{int(m.group(1)):02d}/{int(m.group(2)):02d}/{m.group(3)}"
        elif iso:
            text = f"{iso.group(3)}/{iso.group(2)}/{iso.group(1)}"
        elif kind == "birth" and (mm := _MONTH_YEAR.fullmatch(text)):
            text = f"{int(mm.group(1)):02d}/{mm.group(2)}"
    elif kind == "datetime":
        m = _DAY_MONTH_YEAR.fullmatch(text)
        if m:
            text = f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}T00:00:00"
        elif _ISO_DATE.fullmatch(text):
            text += "T00:00:00"
    elif kind == "flag":
        lowered = text.lower()
        text = {"true": "1", "false": "0"}.get(lowered, text)
    elif kind == "rate":
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a number (e.g. 32.0)") from None
        if number.is_finite():
            text = f"{int(number)}.0" if number == number.to_integral() else str(number)
    elif kind == "code" and spec.width and text.isascii() and text.isdigit():
        text = text.zfill(spec.width)
    problem = field_problem(spec, text, check_required=False)
    if problem:
        # Say it with the value as given, not as it was being rewritten.
        raise ValueError(field_problem(spec, original, check_required=False) or problem)
    return text


def _resolve_fill(spec: FieldSpec, values: Mapping[str, str], position: int, period: str) -> str:
    fill = spec.fill
    if fill == "=#":
        return str(position)
    if fill == "=KyKeKhai":
        return period
    if fill.startswith("="):
        return values.get(fill[1:], "")
    if fill.startswith("?"):
        return "1" if values.get(fill[1:], "") else "0"
    return fill


class _Problems:
    """Problems of one file, capped; raised together with the unit and the file named."""

    def __init__(self, unit: UnitInfo | None, filename: str) -> None:
        self.where = (f"unit {unit.code}, " if unit else "") + f"file {filename}"
        self.items: list[str] = []
        self.more = 0

    def add(self, text: str) -> None:
        if len(self.items) < _MAX_PROBLEMS:
            self.items.append(text)
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if not self.items:
            return
        count = len(self.items) + self.more
        tail = f"; and {self.more} more" if self.more else ""
        plural = "s" if count != 1 else ""
        raise DossierInvalid(
            f"{self.where}: {count} problem{plural}: " + "; ".join(self.items) + tail
        )


def _row_values(
    layout: FormLayout,
    row: RowLike,
    position: int,
    period: str,
    problems: _Problems,
) -> dict[str, str]:
    fields = _value_fields(layout)
    given = row.as_dict() if isinstance(row, DeclarationRow) else dict(row)
    if isinstance(row, DeclarationRow) and row.form != layout.form:
        problems.add(f"row {position}: a {row.form} row given to a {layout.form} declaration")
        return {}
    stt = _as_text(given.get("STT")) or str(position)
    where = f"row {position} (STT {stt})"
    for name in given:
        if name not in fields:
            spec = layout.row.child(name)
            problems.add(
                f"{where}, field {name}: "
                + (
                    "a block written empty, it takes no value here"
                    if spec is not None
                    else f"not a {layout.form} field"
                )
            )
    values: dict[str, str] = {}
    found: dict[str, str] = {}  # field -> its problem, reported in the layout's order
    for name, spec in fields.items():
        try:
            values[name] = normalise_value(spec, given.get(name))
        except ValueError as exc:
            found[name] = str(exc)
            values[name] = ""
    for name, spec in fields.items():
        if not values[name] and spec.fill and name not in found:
            values[name] = _resolve_fill(spec, values, position, period)
    for name, spec in fields.items():
        # Given values were checked while normalised; fills are the layout's own values.
        problem = found.get(name) or (field_problem(spec, "") if not values[name] else None)
        if problem:
            problems.add(f"{where}, field {name}: {problem}")
    return values


def _leaf_values(
    layout: FormLayout, given: Mapping[str, object], problems: _Problems, period: str
) -> dict[str, str]:
    """Values of the fields outside the rows (``ThongTinKhac``, D01-TS ``TenBangKe``)."""
    specs: dict[str, FieldSpec] = {}
    stack = [(spec, spec.name) for spec in layout.top]
    while stack:
        spec, path = stack.pop()
        if path == layout.row_path:
            continue
        for child in spec.children:
            if child.kind == "group":
                stack.append((child, f"{path}/{child.name}"))
            else:
                specs[child.name] = child
    out: dict[str, str] = {}
    for name in given:
        if name not in specs:
            known = ", ".join(specs) or "none"
            problems.add(f"field {name}: not a {layout.form} field outside the rows ({known})")
    for name, spec in specs.items():
        try:
            out[name] = normalise_value(spec, given.get(name)) or _resolve_fill(spec, {}, 0, period)
        except ValueError as exc:
            problems.add(f"field {name}: {exc}")
            out[name] = ""
    return out


def _text_element(parent: etree._Element, tag: str, value: str) -> None:
    child = etree.SubElement(parent, tag)
    if value:
        child.text = value


def build_declaration(
    form: str,
    unit: UnitInfo | None,
    period: str,
    rows: Iterable[RowLike],
    *,
    fields: Mapping[str, object] | None = None,
) -> bytes:
    """A declaration of ``form`` shaped by its catalogue layout, one row per mapping.

    Args:
        form: a form with a layout (``D02-TS``, ``TK1-TS``, ``D01-TS``, ``D05-TS``).
        unit: the unit the declaration is for; named in errors (the file carries no header).
        period: the declared period (``KyKeKhai``, MM/yyyy): the default of ``TuThang``.
        rows: :class:`DeclarationRow` values of the form, or mappings of field -> value.
        fields: values of the fields outside the rows (D02-TS ``ThongTinKhac``: number of
            book covers, loose sheets, health cards; D01-TS ``TenBangKe``, ``KemTheo``).

    Raises:
        DossierInvalid: the period is not MM/yyyy, the form has no layout, or rows that do
            not fit (every problem, naming the unit, file, row, STT and field).
    """
    validate_period(period)
    layout = FORM_LAYOUTS.get(form)
    if layout is None:
        known = ", ".join(FORM_LAYOUTS)
        raise DossierInvalid(f"form {form!r}: no layout in the catalogue (known: {known})")
    problems = _Problems(unit, form_filename(form))
    row_values = [
        _row_values(layout, row, position, period, problems)
        for position, row in enumerate(rows, start=1)
    ]
    leaves = _leaf_values(layout, fields or {}, problems, period)
    problems.raise_if_any()

    root = etree.Element(form)

    def emit(parent: etree._Element, spec: FieldSpec, path: str) -> None:
        el = etree.SubElement(parent, spec.name)
        for child in spec.children:
            child_path = f"{path}/{child.name}"
            if child_path == layout.row_path:
                for values in row_values:
                    row_el = etree.SubElement(el, child.name)
                    for field in child.children:
                        _text_element(row_el, field.name, values.get(field.name, ""))
            elif child.kind == "group":
                emit(el, child, child_path)
            else:
                _text_element(el, child.name, leaves.get(child.name, ""))

    for spec in layout.top:
        if spec.name == SIGNATURE_SLOT:
            etree.SubElement(root, SIGNATURE_SLOT)
        else:
            emit(root, spec, spec.name)
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def build_d02ts(
    unit: UnitInfo,
    period: str,
    rows: Iterable[RowLike],
    *,
    other: Mapping[str, object] | None = None,
) -> bytes:
    """The D02-TS declaration (``D02-TS-595.xml``) for these worker rows.

    ``other`` fills ``ThongTinKhac`` (``SoToBiaSoBHXH``, ``SoToRoiSoBHXH``, ``SoTheBHYT``:
    the books and cards the unit asks for); the document is silent on their defaults, our
    choice: 0 each.
    """
    return build_declaration("D02-TS", unit, period, rows, fields=other)


def build_tk1ts(unit: UnitInfo, period: str, rows: Iterable[RowLike]) -> bytes:
    """The TK1-TS declaration (``TK1-TS-595.xml``) for these people."""
    return build_declaration("TK1-TS", unit, period, rows)


def build_d01ts(
    unit: UnitInfo,
    period: str,
    rows: Iterable[RowLike],
    *,
    title: str = "",
    attached: str = "",
) -> bytes:
    """The D01-TS declaration (``D01-TS-595.xml``): ``TenBangKe`` (default "Bảng kê thông
    tin"), ``KemTheo`` and one ``BangKe/ThongTin`` per document row."""
    extra: dict[str, object] = {"KemTheo": attached}
    if title:
        extra["TenBangKe"] = title
    return build_declaration("D01-TS", unit, period, rows, fields=extra)


def build_d05ts(
    unit: UnitInfo,
    period: str,
    rows: Iterable[RowLike],
    *,
    books: int | None = None,
) -> bytes:
    """The D05-TS declaration (``D05-TS-595.xml``); ``books`` is ``ThongTinKhac/SoSoBHXH``."""
    extra: dict[str, object] = {} if books is None else {"SoSoBHXH": books}
    return build_declaration("D05-TS", unit, period, rows, fields=extra)


# --- HR files: CSV and Excel workbooks ----------------------------------------------------

#: What :func:`rows_from_table` does with a column of the file that is not a field of the
#: form: ``"warn"`` (a warning names it) or ``"refuse"``.
UnknownColumns = Literal["warn", "refuse"]

#: Columns read beside a form's fields only to be checked: the VNPT I-VAN import template's
#: ``Phụ cấp tính vào mức đóng`` (``PhuCap``), one total of the allowances.
_CHECKED_COLUMNS: Mapping[str, tuple[str, ...]] = {"D02-TS": ("PhuCap",)}
_IDENTITY_LENGTHS = (9, 12)  # CMND 9 digits, CCCD 12
_PHONE_LENGTHS = (10, 11)  # mobile 10 digits, landline 11, both with the leading 0
_SOCIAL_LENGTHS = (10,)  # MasoBHXH
_GENDER = {"nam": "1", "nu": "0"}
_WIRE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_MAX_CELL_PROBLEMS = 50


@dataclass(frozen=True)
class RowsRead:
    """The rows of a form read from an HR file, and what a person should check.

    Attributes:
        form: the form (``D02-TS``).
        rows: one :class:`DeclarationRow` per data row, values as the declaration writes
            them (amounts as digits, months ``MM/yyyy``, dates ``dd/MM/yyyy``, NFC text).
        table: the table as read (file, sheet, header row, columns matched, conversions).
        warnings: what the person should look at: columns not used, rows skipped, leading
            zeros put back, the same person on two rows, values that may be legacy text.
    """

    form: str
    rows: tuple[DeclarationRow, ...]
    table: Table
    warnings: tuple[str, ...] = ()

    @property
    def conversions(self) -> tuple[Conversion, ...]:
        """The cells converted from TCVN3 / VNI (``convert_legacy=True``)."""
        return self.table.conversions


def file_columns(form: str) -> tuple[str, ...]:
    """The columns :func:`read_rows` looks for: the form's row fields (wire names, also
    matched by their Vietnamese headers) and the columns it checks."""
    return (*_value_fields_of(form), *_CHECKED_COLUMNS.get(form, ()))


def required_columns(form: str) -> tuple[str, ...]:
    """The columns a file must have for ``form``: required fields without a default."""
    return tuple(n for n, f in _value_fields_of(form).items() if f.required and not f.fill)


def read_rows(
    source: str | Path | bytes,
    form: str,
    *,
    name: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    convert_legacy: bool = False,
    unit: str | None = None,
    unknown_columns: UnknownColumns = "warn",
) -> RowsRead:
    """Rows of ``form`` from an HR file: an ``.xlsx`` workbook or a CSV (UTF-8).

    The file is read by :func:`bhxh.workbook.read_table` (sheet and header row found,
    headers matched by wire name, the VNPT I-VAN's import template names or common
    Vietnamese headers, text in NFC, TCVN3 / VNI cells refused or converted), then each
    value is read as its field needs (:func:`rows_from_table`).

    Args:
        source: the file's path, or its content (bytes).
        form: ``D02-TS``, ``TK1-TS``, ``D01-TS`` or ``D05-TS``.
        name: the file name refusals give (default: the path's name).
        sheet / header_row: where the table is (default: found).
        convert_legacy: convert TCVN3 / VNI cells instead of refusing the file.
        unit: the unit's code, named in refusals.
        unknown_columns: ``"warn"`` or ``"refuse"`` for columns that are not the form's.

    Raises:
        InputRefused: a ``DossierInvalid`` naming unit, file, sheet, row and column, what
            was read and what is expected.
    """
    if form not in _ROW_TYPES:
        raise DossierInvalid(f"form {form!r}: no row type (known: {', '.join(_ROW_TYPES)})")
    table = read_table(
        source,
        file_columns(form),
        name=name,
        sheet=sheet,
        header_row=header_row,
        required=required_columns(form),
        convert_legacy=convert_legacy,
        unit=unit,
    )
    return rows_from_table(table, form, unknown_columns=unknown_columns)


def _kind_expected(spec: FieldSpec) -> tuple[str, str]:
    """What a field's value must look like (vi, en)."""
    kind = spec.kind
    if spec.name == "PA":
        codes = ", ".join(PA_CODES)
        return f"một mã phương án: {codes}", f"a PA code: {codes}"
    if kind == "code" and spec.width:
        example = "1".zfill(spec.width)
        return (
            f"mã gồm {spec.width} chữ số, ví dụ {example}",
            f"a code of {spec.width} digits, e.g. {example}",
        )
    by_kind = {
        "whole": ("một số nguyên, ví dụ 1", "a whole number, e.g. 1"),
        "flag": ("0 hoặc 1", "0 or 1"),
        "rate": ("một số, ví dụ 32 hoặc 32.0", "a number, e.g. 32 or 32.0"),
        "decimal": ("một số, ví dụ 1.5", "a number, e.g. 1.5"),
        "digits": ("chỉ gồm chữ số", "digits only"),
        "date": ("ngày dd/MM/yyyy", "a date dd/MM/yyyy"),
        "datetime": ("ngày dd/MM/yyyy", "a date dd/MM/yyyy"),
    }
    if kind in by_kind:
        return by_kind[kind]
    if spec.max_length:
        return f"tối đa {spec.max_length} ký tự", f"at most {spec.max_length} characters"
    return "văn bản", "text"


def _cell_text(row: Row, name: str, spec: FieldSpec, notes: list[str]) -> str:
    """The value of one field as its kind reads it from the cell (not yet normalised)."""
    kind = spec.kind
    if kind == "amount":
        return row.amount(name)
    if kind == "month":
        return row.month(name)
    if kind in ("date", "datetime"):
        return row.date(name)
    if kind == "birth":
        return row.birth_date(name)
    if kind == "digits":
        return row.digits(name, _SOCIAL_LENGTHS, notes)
    raw = row.raw(name)
    is_number = isinstance(raw, int | float) and not isinstance(raw, bool)
    text = row.text(name)
    if name == "CMND":
        # An identity card is digits (9 or 12: a typo of length is refused, a number cell's
        # lost leading zeros are put back); a passport number has letters and stays text.
        typed = text.lstrip("'").replace(" ", "")
        if is_number or (typed.isascii() and typed.isdigit()):
            return row.digits(name, _IDENTITY_LENGTHS, notes)
        return text
    if name == "Dienthoai_LH" and is_number:
        return row.digits(name, _PHONE_LENGTHS, notes)
    if name == "GioiTinh":
        # The document is silent on words; our choice: Nam / Nữ as HR files write them.
        return _GENDER.get(fold_key(text), text)
    if kind == "rate" and isinstance(raw, float) and 0 < raw < 1:
        raise InputRefused.pair(
            row.where(name),
            (
                "tỷ lệ nhỏ hơn 1: ô được định dạng phần trăm (32% được lưu là 0.32)?",
                "a rate below 1: is the cell formatted as a percentage (32% is stored as 0.32)?",
            ),
            raw,
            (
                "tỷ lệ phần trăm viết như số, ví dụ 32",
                "the percentage written as a number, e.g. 32",
            ),
        )
    return text


def _near_field(header: str, fields: Sequence[str]) -> str | None:
    """The field a header that looks like a wire name was probably meant to be."""
    if not _WIRE_NAME.fullmatch(header):
        return None
    folded = {fold_key(f): f for f in fields}
    close = difflib.get_close_matches(fold_key(header), list(folded), n=1, cutoff=0.9)
    return folded[close[0]] if close else None


def _check_columns(table: Table, form: str, unknown_columns: UnknownColumns) -> None:
    fields = list(_value_fields_of(form))
    where = InputLocation(file=table.file, sheet=table.sheet, row=table.header_row)
    for letter, header in table.ignored_columns:
        near = _near_field(header, fields)
        if near is not None:
            raise InputRefused.pair(
                dataclasses.replace(where, column=letter, header=header),
                (
                    f"cột {header!r} không phải trường của {form}; có lẽ là {near}",
                    f"column {header!r} is not a {form} field; did you mean {near}?",
                ),
                header,
                (f"tên cột {near}", f"the column name {near}"),
            )
    if unknown_columns == "refuse" and table.ignored_columns:
        names = ", ".join(f"{letter} ({header})" for letter, header in table.ignored_columns)
        known = ", ".join(fields)
        raise InputRefused.pair(
            where,
            (f"cột không thuộc {form}: {names}", f"unknown column(s) {names}"),
            None,
            (f"các cột của {form}: {known}", f"known columns: {known}"),
        )


def _table_row_values(
    row: Row, form: str, notes: list[str], problems: list[InputRefused]
) -> dict[str, str]:
    fields = _value_fields_of(form)
    values: dict[str, str] = {}
    for name, spec in fields.items():
        if name not in row.cells:
            continue
        try:
            text = _cell_text(row, name, spec, notes)
            values[name] = normalise_value(spec, text) if text else ""
        except InputRefused as exc:
            problems.append(exc)
        except ValueError:
            problems.append(
                InputRefused.pair(
                    row.where(name),
                    (f"giá trị không đúng dạng của {name}", f"the value does not fit {name}"),
                    row.text(name),
                    _kind_expected(spec),
                )
            )
    for name, spec in fields.items():
        if spec.required and not spec.fill and name in row.cells and not row.text(name):
            problems.append(
                InputRefused.pair(
                    row.where(name),
                    ("Không được để trống", "required (Không được để trống: must not be empty)"),
                    None,
                    (f"một giá trị cho {name}", f"a value for {name}"),
                )
            )
    pa = values.get("PA", "")
    if form == "D02-TS" and pa and pa not in PA_CODES:
        problems.append(
            InputRefused.pair(
                row.where("PA"),
                ("mã phương án không có", "unknown PA code"),
                pa,
                _kind_expected(fields["PA"]),
            )
        )
    if "PhuCap" in row.cells:
        try:
            total = row.amount("PhuCap")
        except InputRefused as exc:
            problems.append(exc)
        else:
            if total not in ("", "0"):
                # The document is silent on which D02-TS allowance the template's total is;
                # our choice: refuse rather than guess.
                problems.append(
                    InputRefused.pair(
                        row.where("PhuCap"),
                        (
                            "cột tổng phụ cấp không cho biết là phụ cấp nào; tờ khai D02-TS "
                            "ghi riêng từng khoản",
                            "a total of allowances does not say which allowance it is; a "
                            "D02-TS has one column per allowance",
                        ),
                        total,
                        (
                            "các cột Phụ cấp chức vụ, Phụ cấp thâm niên vượt khung, Phụ cấp "
                            "thâm niên nghề, Phụ cấp lương, Các khoản bổ sung (PhuCapCV, "
                            "PhuCapTNVK, PhuCapTNNghe, PhuCapLuong, PhuCapBosung); để trống "
                            "hoặc 0 cột tổng",
                            "the columns PhuCapCV, PhuCapTNVK, PhuCapTNNghe, PhuCapLuong, "
                            "PhuCapBosung; the total left empty or 0",
                        ),
                    )
                )
    return values


def _duplicates(
    form: str, read: Sequence[tuple[Row, dict[str, str]]], notes: list[str]
) -> list[InputRefused]:
    """The same worker on two rows: refused on MasoBHXH / CMND in a D02-TS (as the
    validation would, naming both rows), noted by name and birth date everywhere."""
    problems: list[InputRefused] = []
    for name in ("MasoBHXH", "CMND"):
        first: dict[str, Row] = {}
        for row, values in read:
            value = values.get(name, "")
            if not value:
                continue
            if value not in first:
                first[value] = row
                continue
            earlier = first[value].number
            if form == "D02-TS":
                problems.append(
                    InputRefused.pair(
                        row.where(name),
                        (
                            f"người lao động có {name} {value} đã có ở dòng {earlier}",
                            f"the worker with {name} {value} is already on row {earlier}",
                        ),
                        value,
                        ("mỗi người lao động một dòng", "each worker on one row"),
                    )
                )
            else:
                notes.append(
                    f"{row.where(name).describe('vi')}: {name} {value} trùng dòng {earlier} — "
                    f"{row.where(name).describe('en')}: {name} {value} repeats row {earlier}"
                )
    seen: dict[tuple[str, str], tuple[Row, dict[str, str]]] = {}
    for row, values in read:
        person = values.get("HoTen", ""), values.get("NgaySinh", "")
        if not all(person):
            continue
        key = (duplicate_key(person[0]), person[1])
        other = seen.get(key)
        if other is None:
            seen[key] = (row, values)
            continue
        earlier_row, before = other
        if any(
            values.get(n) and before.get(n) and values[n] != before[n] for n in ("MasoBHXH", "CMND")
        ):
            continue  # two people with the same name and birth date
        if any(values.get(n) and values.get(n) == before.get(n) for n in ("MasoBHXH", "CMND")):
            continue  # already reported above
        notes.append(
            f"{row.where('HoTen').describe('vi')}: {person[0]!r} sinh {person[1]} có lẽ là người "
            f"ở dòng {earlier_row.number} ({before.get('HoTen')!r}); kiểm tra lại — "
            f"{row.where('HoTen').describe('en')}: {person[0]!r} born {person[1]} may be the "
            f"person on row {earlier_row.number}; check it"
        )
    return problems


def rows_from_table(
    table: Table, form: str, *, unknown_columns: UnknownColumns = "warn"
) -> RowsRead:
    """Rows of ``form`` from an HR table already read (:func:`bhxh.workbook.read_table`
    with :func:`file_columns`).

    Each value is read as its field needs: amounts (``9.000.000 đ``, ``9,000,000``, a
    number cell) as whole VND, months (``1/2026``, an Excel date) as ``MM/yyyy``, dates
    (``5/3/1990``, an Excel date or serial) as ``dd/MM/yyyy``, ``MasoBHXH`` as 10 digits
    and ``CMND`` as 9 or 12 digits (a number cell's lost leading zeros put back, with a
    warning), ``GioiTinh`` ``Nam`` / ``Nữ`` as 1 / 0, text as NFC; then written as the
    samples write the field (:func:`normalise_value`).

    Decisions (the portal documents none; our choices): a column that is not a field of
    the form is ignored with a warning (HR exports carry departments, bank accounts, the
    VNPT template's name columns beside its codes), except a header that looks like a
    misspelt field name (``PhuCapCVV``), which is refused; ``unknown_columns="refuse"``
    refuses every such column. The same ``MasoBHXH`` or ``CMND`` on two rows of a D02-TS
    is refused (the portal refuses it); the same name (compared once normalised: NFC,
    case, tone placement) and birth date on two rows without different identity numbers
    is a warning (two workers may share both).

    Raises:
        InputRefused: every cell that cannot be read (up to 50, the first in the message
            and the others in its details), naming unit, file, sheet, row and column.
    """
    row_type = _ROW_TYPES[form]
    _check_columns(table, form, unknown_columns)
    notes: list[str] = []
    problems: list[InputRefused] = []
    read: list[tuple[Row, dict[str, str]]] = []
    for row in table.rows:
        read.append((row, _table_row_values(row, form, notes, problems)))
    problems += _duplicates(form, read, notes)
    if problems:
        first, rest = problems[0], problems[1:_MAX_CELL_PROBLEMS]
        details = [p.summary("vi") for p in rest]
        if len(problems) > _MAX_CELL_PROBLEMS:
            details.append(f"... và {len(problems) - _MAX_CELL_PROBLEMS} ô nữa / and more cells")
        if not details:
            raise first
        raise InputRefused(
            first.reason_vi,
            first.reason_en,
            where=first.where,
            read=first.read,
            expected_vi=first.expected_vi,
            expected_en=first.expected_en,
            details=[f"{len(problems)} ô không đọc được / cells refused; còn / also:", *details],
        )
    rows = tuple(row_type._of_read_values(values) for _, values in read)
    return RowsRead(form, rows, table, (*table.warnings, *notes))


def _source(path_or_text: str | Path) -> tuple[str | Path | bytes, str | None]:
    """A path, or CSV text itself (a string holding a newline) as bytes named ``CSV text``."""
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        return path_or_text.encode("utf-8"), "CSV text"
    return path_or_text, None


def read_rows_csv(path_or_text: str | Path, form: str) -> list[DeclarationRow]:
    """Rows of ``form`` from a CSV file (a path), CSV text (a string with a newline) or a
    workbook (the content decides), for programs: the header names row fields of the form
    (wire names, or the Vietnamese headers :func:`read_rows` knows), in any order; a column
    that is not the form's is refused (there is no one to show a warning to).

    Raises:
        InputRefused: the file, a column or a value cannot be read; the message names the
            file, row and column.
    """
    source, name = _source(path_or_text)
    return list(read_rows(source, form, name=name, unknown_columns="refuse").rows)


def read_workers_csv(path_or_text: str | Path) -> list[WorkerRow]:
    """Read D02-TS worker rows from a CSV file (a path) or CSV text (see :func:`read_rows_csv`)."""
    return [r for r in read_rows_csv(path_or_text, "D02-TS") if isinstance(r, WorkerRow)]


def read_tk1_csv(path_or_text: str | Path) -> list[TK1Row]:
    """Read TK1-TS rows from a CSV file or CSV text (see :func:`read_rows_csv`)."""
    return [r for r in read_rows_csv(path_or_text, "TK1-TS") if isinstance(r, TK1Row)]


# --- the command ----------------------------------------------------------------------------

_UNIT_CODE = re.compile(r"[A-Z0-9]{1,20}")


def _form_spec(form: str, *, optional: bool = False, sheet: str | None = None) -> FormSpec:
    def build(table: Table, unit: UnitInfo, period: str) -> BuiltDeclaration:
        read = rows_from_table(table, form)
        content = build_declaration(form, unit, period, read.rows)
        return BuiltDeclaration(content, read.warnings)

    return FormSpec(
        form=form,
        filename=form_filename(form),
        columns=file_columns(form),
        required=required_columns(form),
        build=build,
        optional=optional,
        sheet=sheet,
    )


def file_forms() -> dict[str, list[FormSpec]]:
    """Procedure -> the forms the command builds from an HR file.

    600 and 601: the D02-TS from the table found (or ``--sheet``); 600 also a TK1-TS when
    the workbook has a sheet named ``TK1-TS``. 602: the D05-TS and the TK1-TS of the sheet
    ``TK1-TS`` (both required); 603: the D05-TS, and a TK1-TS sheet when there is one.
    """
    d02, d05 = _form_spec("D02-TS"), _form_spec("D05-TS")
    tk1 = _form_spec("TK1-TS", sheet="TK1-TS")
    tk1_optional = _form_spec("TK1-TS", optional=True, sheet="TK1-TS")
    return {"600": [d02, tk1_optional], "601": [d02], "602": [d05, tk1], "603": [d05, tk1_optional]}


def unit_from_code(code: str) -> UnitInfo:
    """The unit the command files a dossier for, from its code at VSS (``TA0001A``).

    The declarations carry no unit header and the inbox files a dossier under the unit's
    code, so the code is what the command needs; ``--tax-code`` (written to the manifest,
    so the run checks it against the unit's block) and ``--name`` are optional. Our
    choice: the code is written in capitals, as VSS writes it.

    Raises:
        DossierInvalid: not a code of letters and digits.
    """
    text = code.strip().upper()
    if not _UNIT_CODE.fullmatch(text):
        raise DossierInvalid(
            f"mã đơn vị {code!r} chỉ gồm chữ và số, ví dụ TA0001A — unit code {code!r}: "
            "letters and digits only, e.g. TA0001A"
        )
    return UnitInfo(code=text, tax_code="", name=text, agency_code="")


def cli(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """``python -m bhxh.declarations build --unit TA0001A --period 01/2026 --procedure 600
    luong.xlsx``: the HR file into a dossier in the inbox (see :mod:`bhxh.build_cli`).

    Returns the exit status: 0 written (or checked, ``--dry-run``), 2 refused (nothing
    written).
    """
    from bhxh.build_cli import main

    return main(argv, forms=file_forms(), resolve_unit=unit_from_code, out=out, err=err)


# --- demo data -----------------------------------------------------------------------------

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
_MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thành")
_MIDDLE_F = ("Thị", "Ngọc", "Thu", "Thanh", "Bảo", "Khánh", "Mỹ")
_GIVEN_M = ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Tuấn")
_GIVEN_F = ("Anh", "Châu", "Dung", "Hà", "Hạnh", "Hoa", "Lan", "Linh", "Mai", "Trang", "Yến")
_JOBS = (
    "Nhân viên kế toán",
    "Nhân viên kinh doanh",
    "Kỹ sư phần mềm",
    "Công nhân sản xuất",
    "Trưởng phòng hành chính",
    "Nhân viên kho",
    "Lái xe",
)
_PLACES = ("Văn phòng chính", "Xưởng sản xuất", "Kho hàng", "Chi nhánh")
#: The columns :func:`write_demo_csv` writes (what an HR export typically has).
DEMO_COLUMNS: Sequence[str] = (
    "STT",
    "HoTen",
    "MasoBHXH",
    "ChucVu",
    "NoiLamViec",
    "TienLuong",
    "PhuCapCV",
    "TuThang",
    "PA",
    "TyleDong",
    "MavungLTT",
    "NgaySinh",
    "GioiTinh",
    "CMND",
    "Hdld_tungay",
)


def _demo_rows(n_workers: int, seed: int, period: str) -> list[dict[str, object]]:
    """``n_workers`` invented but plausible D02-TS rows (the same seed, the same rows)."""
    if n_workers < 0:
        raise ValueError("n_workers must be >= 0")
    month, year = validate_period(period)
    rng = random.Random(seed)
    used_bhxh: set[str] = set()
    used_cmnd: set[str] = set()

    def unique(digits: int, used: set[str]) -> str:
        while True:
            value = "".join(rng.choice("0123456789") for _ in range(digits))
            if value not in used:
                used.add(value)
                return value

    rows: list[dict[str, object]] = []
    for i in range(1, n_workers + 1):
        male = rng.random() < 0.5
        name = " ".join(
            (
                rng.choice(_FAMILY),
                rng.choice(_MIDDLE_M if male else _MIDDLE_F),
                rng.choice(_GIVEN_M if male else _GIVEN_F),
            )
        )
        born = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1970, 2004)}"
        rows.append(
            {
                "STT": i,
                "HoTen": name,
                "MasoBHXH": unique(10, used_bhxh),
                "ChucVu": rng.choice(_JOBS),
                "NoiLamViec": rng.choice(_PLACES),
                "TienLuong": rng.randrange(5_000_000, 40_000_001, 100_000),
                "PhuCapCV": rng.choice((0, 0, 0, 500_000, 1_000_000)),
                "TuThang": f"{month:02d}/{year}",
                "PA": "TM",
                "TyleDong": "32.0",
                "MavungLTT": "01",
                "NgaySinh": born,
                "GioiTinh": "1" if male else "0",
                "CMND": unique(12, used_cmnd),
                "Hdld_tungay": f"01/{month:02d}/{year}",
            }
        )
    return rows


def write_demo_csv(
    path: str | Path, n_workers: int, seed: int = 0, *, period: str = "01/2026"
) -> Path:
    """Write ``n_workers`` invented but plausible D02-TS rows (all ``PA=TM``) as a UTF-8 CSV.

    Names come from a small built-in list; MasoBHXH (10 digits) and CMND (12 digits) are
    random and unique within the file. The same seed gives the same file.

    Example:
        >>> rows = read_workers_csv(write_demo_csv(tmp / "workers.csv", 3, seed=1))
    """
    rows = _demo_rows(n_workers, seed, period)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(DEMO_COLUMNS)
        for row in rows:
            writer.writerow([row[c] for c in DEMO_COLUMNS])
    return p


#: The demo workbook's headers: the VNPT I-VAN import template's names where it has the
#: column, common Vietnamese headers elsewhere (see :mod:`bhxh.workbook`).
DEMO_WORKBOOK_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "STT": "STT",
        "HoTen": "Họ và tên",
        "MasoBHXH": "Mã số BHXH",
        "ChucVu": "Chức vụ",
        "NoiLamViec": "Nơi làm việc",
        "TienLuong": "Tiền lương",
        "PhuCapCV": "Phụ cấp chức vụ",
        "TuThang": "Từ tháng",
        "PA": "Mã Phương án",
        "TyleDong": "Tỷ lệ đóng (%)",
        "MavungLTT": "Mã vùng lương tối thiểu",
        "NgaySinh": "Ngày sinh",
        "GioiTinh": "Giới tính",
        "CMND": "CMND/CCCD",
        "Hdld_tungay": "Ngày bắt đầu HĐLĐ",
    }
)


def write_demo_workbook(
    path: str | Path,
    n_workers: int,
    seed: int = 0,
    *,
    period: str = "01/2026",
    title: str = "",
) -> Path:
    """Write the rows :func:`write_demo_csv` writes for the same seed as an Excel workbook
    shaped like an HR export: a title above the header, Vietnamese headers, the row of
    column numbers official forms carry, salaries as number cells with thousands
    separators, months and dates as date cells, ``Giới tính`` as ``Nam`` / ``Nữ``,
    ``Mã số BHXH`` as number cells (Excel drops the leading zero; the reader puts it back)
    and every other name in decomposed Unicode, as a Mac writes it.

    Read back with :func:`read_rows`, it gives the same rows as the CSV.
    """
    import unicodedata

    import openpyxl

    rows = _demo_rows(n_workers, seed, period)
    month, year = validate_period(period)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Dữ Liệu"
    width = len(DEMO_COLUMNS)
    ws.append([title or f"DANH SÁCH LAO ĐỘNG THAM GIA BHXH, BHYT, BHTN — THÁNG {month:02d}/{year}"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.append([])
    ws.append([DEMO_WORKBOOK_HEADERS[c] for c in DEMO_COLUMNS])
    ws.append([f"({i})" for i in range(1, width + 1)])

    def day(text: object) -> dt.datetime:
        d, m, y = (int(part) for part in str(text).split("/"))
        return dt.datetime(y, m, d)

    for index, row in enumerate(rows):
        cells: dict[str, object] = dict(row)
        if index % 2:
            cells["HoTen"] = unicodedata.normalize("NFD", str(row["HoTen"]))
        cells["MasoBHXH"] = int(str(row["MasoBHXH"]))
        cells["TuThang"] = day(f"01/{row['TuThang']}")
        cells["NgaySinh"] = day(row["NgaySinh"])
        cells["Hdld_tungay"] = day(row["Hdld_tungay"])
        cells["GioiTinh"] = "Nam" if row["GioiTinh"] == "1" else "Nữ"
        cells["TyleDong"] = 32
        cells["MavungLTT"] = 1
        ws.append([cells[c] for c in DEMO_COLUMNS])
        line = ws.max_row
        for name, number_format in (
            ("TienLuong", "#,##0"),
            ("PhuCapCV", "#,##0"),
            ("MasoBHXH", "0000000000"),
            ("TuThang", "mm/yyyy"),
            ("NgaySinh", "dd/mm/yyyy"),
            ("Hdld_tungay", "dd/mm/yyyy"),
        ):
            ws.cell(line, DEMO_COLUMNS.index(name) + 1).number_format = number_format
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb.save(p)
    return p


if __name__ == "__main__":
    # Run as ``python -m bhxh.declarations``: use the module under its own name, so that
    # its row types are the ones the rest of the package imports.
    from bhxh.declarations import cli as _cli

    raise SystemExit(_cli())
