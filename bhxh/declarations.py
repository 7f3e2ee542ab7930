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
``row.replace(HoTen=...)`` changes one). The builders also take plain mappings. A CSV of
rows (UTF-8, a BOM allowed) has a header row naming those fields, in any order; missing
columns are empty. :func:`write_demo_csv` writes invented, plausible D02-TS rows.

Every refusal names the unit, the file, the row (and its STT) and the field.

Example:
    >>> rows = read_workers_csv("HoTen,ChucVu,TienLuong,PA\\nNguyễn Văn An,Kế toán,9000000,TM\\n")
    >>> build_d02ts(unit, "01/2026", rows)[:38]
    b'<?xml version="1.0" encoding="UTF-8"?>'
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, TypeVar

from lxml import etree

from bhxh.catalogue import (
    FORM_LAYOUTS,
    SIGNATURE_SLOT,
    FieldSpec,
    FormLayout,
    form_filename,
)
from bhxh.errors import DossierInvalid
from bhxh.models import UnitInfo
from bhxh.validation import field_problem, validate_period

__all__ = [
    "D01_FIELDS",
    "D02_FIELDS",
    "D05_FIELDS",
    "TK1_FIELDS",
    "XML_DECLARATION",
    "D01Row",
    "D05Row",
    "DeclarationRow",
    "TK1Row",
    "WorkerRow",
    "build_d01ts",
    "build_d02ts",
    "build_d05ts",
    "build_declaration",
    "build_tk1ts",
    "normalise_value",
    "read_rows_csv",
    "read_tk1_csv",
    "read_workers_csv",
    "write_demo_csv",
]

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
_MAX_CSV_BYTES = 50 * 1024 * 1024
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
    return str(value).strip()


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


# --- CSV -----------------------------------------------------------------------------------


def _csv_text(path_or_text: str | Path, what: str) -> tuple[str, str]:
    """(text, source name) from a path or from CSV text itself (text holds a newline)."""
    if isinstance(path_or_text, Path) or "\n" not in path_or_text:
        p = Path(path_or_text)
        try:
            if p.stat().st_size > _MAX_CSV_BYTES:
                raise DossierInvalid(f"{what} CSV {p.name}: larger than {_MAX_CSV_BYTES} bytes")
            raw = p.read_bytes()
        except OSError as exc:
            raise DossierInvalid(f"{what} CSV {p}: cannot read: {exc.strerror or exc}") from None
        source = p.name
    else:
        raw = path_or_text.encode("utf-8")
        source = "CSV text"
    try:
        # utf-8-sig: a BOM (as spreadsheet programs write) is removed.
        return raw.decode("utf-8-sig"), source
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DossierInvalid(
            f"{what} CSV {source}, line {line}: not UTF-8 (save the file as CSV UTF-8)"
        ) from None


def _csv_cells(reader: Iterator[list[str]], source: str, what: str) -> list[str]:
    try:
        return [h.strip() for h in next(reader)]
    except StopIteration:
        raise DossierInvalid(f"{what} CSV {source}: empty, expected a header row") from None
    except csv.Error as exc:
        raise DossierInvalid(f"{what} CSV {source}, line 1: {exc}") from None


def read_rows_csv(path_or_text: str | Path, form: str) -> list[DeclarationRow]:
    """Rows of ``form`` from a CSV file (a path) or CSV text (a string with a newline).

    The header names row fields of the form (the catalogue's wire names), in any order.
    A required field without a default must have a column and a value on every line.

    Raises:
        DossierInvalid: not UTF-8, unknown or missing columns, a row of the wrong width, a
            value of the wrong kind; the message names the line and the column.
    """
    row_type = _ROW_TYPES.get(form)
    if row_type is None:
        raise DossierInvalid(f"form {form!r}: no row type (known: {', '.join(_ROW_TYPES)})")
    fields = _value_fields(FORM_LAYOUTS[form])
    text, source = _csv_text(path_or_text, form)
    required = [name for name, f in fields.items() if f.required and not f.fill]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _csv_cells(reader, source, form)
    unknown = [h for h in header if h not in fields]
    if unknown:
        raise DossierInvalid(
            f"{form} CSV {source}, line 1: unknown column(s) {', '.join(unknown)}; "
            f"known columns: {', '.join(fields)}"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DossierInvalid(f"{form} CSV {source}, line 1: column(s) {', '.join(dupes)} twice")
    missing = [name for name in required if name not in header]
    if missing:
        raise DossierInvalid(
            f"{form} CSV {source}, line 1: missing required column(s) {', '.join(missing)}"
        )
    rows: list[DeclarationRow] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines are common at the end of exports
            if len(cells) != len(header):
                raise DossierInvalid(
                    f"{form} CSV {source}, line {line}: {len(cells)} cells, "
                    f"the header has {len(header)}"
                )
            values: dict[str, str] = {}
            for name, cell in zip(header, cells, strict=True):
                value = cell.strip()
                if not value and name in required:
                    raise DossierInvalid(
                        f"{form} CSV {source}, line {line}, column {name}: required "
                        "(Không được để trống)"
                    )
                try:
                    normalise_value(fields[name], value)
                except ValueError as exc:
                    raise DossierInvalid(
                        f"{form} CSV {source}, line {line}, column {name}: {exc}"
                    ) from None
                values[name] = value
            rows.append(row_type(values))
    except csv.Error as exc:
        raise DossierInvalid(f"{form} CSV {source}, line {reader.line_num}: {exc}") from None
    return rows


def read_workers_csv(path_or_text: str | Path) -> list[WorkerRow]:
    """Read D02-TS worker rows from a CSV file (a path) or CSV text (see :func:`read_rows_csv`)."""
    return [r for r in read_rows_csv(path_or_text, "D02-TS") if isinstance(r, WorkerRow)]


def read_tk1_csv(path_or_text: str | Path) -> list[TK1Row]:
    """Read TK1-TS rows from a CSV file or CSV text (see :func:`read_rows_csv`)."""
    return [r for r in read_rows_csv(path_or_text, "TK1-TS") if isinstance(r, TK1Row)]


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


def write_demo_csv(
    path: str | Path, n_workers: int, seed: int = 0, *, period: str = "01/2026"
) -> Path:
    """Write ``n_workers`` invented but plausible D02-TS rows (all ``PA=TM``) as a UTF-8 CSV.

    Names come from a small built-in list; MasoBHXH (10 digits) and CMND (12 digits) are
    random and unique within the file. The same seed gives the same file.

    Example:
        >>> rows = read_workers_csv(write_demo_csv(tmp / "workers.csv", 3, seed=1))
    """
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

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(DEMO_COLUMNS)
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
            row = {
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
            writer.writerow([row[c] for c in DEMO_COLUMNS])
    return p
