"""CSV files read into the HR table model (UTF-8 with or without a BOM; ``,``, ``;`` or tab,
whichever makes the header match)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

import bhxh.hrdata.table as limits  # read at call time: tests lower the limits
from bhxh.errors import InputLocation, InputRefused
from bhxh.hrdata.reading import (
    _build_rows,
    _Reading,
)
from bhxh.hrdata.table import (
    HEADER_SCAN_ROWS,
    Table,
    _find_header,
    _Header,
    _qualifies,
)
from bhxh.hrdata.xlsx import (
    _finish,
    _no_header,
)

__all__: list[str] = []

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
            if len(rows) > limits.MAX_ROWS + HEADER_SCAN_ROWS:
                raise InputRefused(
                    f"quá {limits.MAX_ROWS} dòng dữ liệu",
                    f"more than {limits.MAX_ROWS} data rows",
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
