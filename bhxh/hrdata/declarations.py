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
accountants have them (:mod:`bhxh.hrdata` finds the sheet and the header, matches
Vietnamese headers and the VNPT I-VAN's import template, refuses or converts TCVN3 / VNI;
:mod:`bhxh.hrdata` reads amounts, months and dates as people type them), naming unit,
file, sheet, row and column in every refusal. :func:`read_workers_csv` /
:func:`read_tk1_csv` are its strict form for programs (a header of field names; an unknown
column is refused). ``python -m bhxh.hrdata build`` (:func:`cli`) turns a file into a
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

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
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
from bhxh.intake import field_problem, validate_period
from bhxh.models import UnitInfo
from bhxh.vntext import normalize_text

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
