"""HR files -> a form's rows: Excel workbooks and CSV as accountants have them.

:func:`read_rows` reads a form's rows from a workbook or a CSV (``bhxh.hrdata.workbook``
finds the sheet and the header, matches Vietnamese headers and the VNPT I-VAN's import
template, refuses or converts TCVN3 / VNI; ``bhxh.hrdata.values`` reads amounts, months and
dates as people type them), naming unit, file, sheet, row and column in every refusal.
:func:`read_workers_csv` / :func:`read_tk1_csv` are its strict form for programs (a header
of field names; an unknown column is refused).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bhxh.catalogue import (
    PA_CODES,
    FieldSpec,
)
from bhxh.errors import DossierInvalid, InputLocation, InputRefused
from bhxh.hrdata.declarations import (
    _ROW_TYPES,
    DeclarationRow,
    TK1Row,
    WorkerRow,
    _value_fields_of,
    normalise_value,
)
from bhxh.hrdata.table import (
    Row,
    Table,
)
from bhxh.hrdata.workbook import (
    read_table,
)
from bhxh.vntext import LegacyConversion, duplicate_key, fold_key

__all__ = [
    "RowsRead",
    "UnknownColumns",
    "file_columns",
    "read_rows",
    "read_rows_csv",
    "read_tk1_csv",
    "read_workers_csv",
    "required_columns",
    "rows_from_table",
]

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
    def conversions(self) -> tuple[LegacyConversion, ...]:
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

    The file is read by :func:`bhxh.hrdata.read_table` (sheet and header row found,
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
    """Rows of ``form`` from an HR table already read (:func:`bhxh.hrdata.read_table`
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
