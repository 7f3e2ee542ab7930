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

from collections.abc import Mapping, Sequence
from pathlib import Path

import bhxh.hrdata.table as limits  # read at call time: tests lower the limits
from bhxh.errors import InputLocation, InputRefused
from bhxh.hrdata.csvfile import (
    _read_csv,
)
from bhxh.hrdata.reading import (
    _Reading,
)
from bhxh.hrdata.table import (
    Table,
    _alias_index,
)
from bhxh.hrdata.xlsx import (
    _read_xlsx,
)

__all__ = ["read_table"]


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
        if len(source) > limits.MAX_FILE_BYTES:
            raise InputRefused(
                f"tệp quá lớn: {len(source)} byte, tối đa {limits.MAX_FILE_BYTES}",
                f"the file is too large: {len(source)} bytes, at most {limits.MAX_FILE_BYTES}",
                where=base,
            )
    else:
        p = Path(source)
        data, suffix = p, p.suffix.lower()
        base = InputLocation(file=name or p.name, unit=unit)
        try:
            size = p.stat().st_size
            if size > limits.MAX_FILE_BYTES:
                raise InputRefused(
                    f"tệp quá lớn: {size} byte, tối đa {limits.MAX_FILE_BYTES}",
                    f"the file is too large: {size} bytes, at most {limits.MAX_FILE_BYTES}",
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
