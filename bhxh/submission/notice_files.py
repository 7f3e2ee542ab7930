"""The C12-TS notice as a file a person drops: the portal's answer saved as JSON, or a
workbook with the same rows, checked like every other input before anything is read.

Where (in the unit's export location, beside its exported dossiers)::

    <unit>/<MM-YYYY>/c12/C12-TS.json    the VSS portal's answer (code 137) saved as it is
    <unit>/<MM-YYYY>/c12/C12-TS.xlsx    or a workbook with the same rows

The JSON has the portal's shape (``maCqBhxh``, ``tenCqBhxh``, ``c12s``: rows ``stt``,
``noiDung``, ``bhxh``, ``bhyt``, ``bhtn``, ``bhtnld``, ``cong``), as the public
``finizi-app/bhxh-proxy-worker`` documents it (``api-docs/code-137.md``). The workbook
(our layout: the portal offers none) is one sheet: above the table, a row ``maCqBhxh`` |
code and a row ``tenCqBhxh`` | name (optionally ``maDonVi`` | the unit's code); then the
header row ``stt | noiDung | bhxh | bhyt | bhtn | bhtnld | cong`` (the Vietnamese
headers ``STT``, ``Nội dung``, ``BHXH``, ``BHYT``, ``BHTN``, ``BHTNLĐ-BNN``, ``Cộng`` are
read too) and one row per line of the notice.

Refused, naming the file, the sheet, the row and the column (``InputRefused``, Vietnamese
first): a damaged or unsafe package (DOCTYPE / ENTITY markup, too large unpacked), a
formula in any cell (the amounts must be the notice's, not a computation), an amount that
is not a whole number written with digits only (``2,655,000`` or ``2.655.000`` is refused:
the separator's meaning depends on the machine), a line (``stt``) twice, a missing header
or column, a line without ``stt``, another unit's notice. The JSON file is refused when it
is not UTF-8 JSON with one object, or holds a key twice; its rows are checked by the
notice's parser (``bhxh.contributions``), which names the row and the field.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from typing import Any

from bhxh.errors import InputLocation, InputRefused

__all__ = [
    "MAX_NOTICE_BYTES",
    "NOTICE_COLUMNS",
    "NOTICE_FOLDER",
    "NOTICE_JSON",
    "NOTICE_XLSX",
    "read_notice_json",
    "read_notice_workbook",
]

#: The folder of a period's notice, inside ``<unit>/<MM-YYYY>/``.
NOTICE_FOLDER = "c12"
NOTICE_JSON = "C12-TS.json"
NOTICE_XLSX = "C12-TS.xlsx"
#: Larger than any notice (a few dozen lines); a bigger file is not one.
MAX_NOTICE_BYTES = 2 * 1024 * 1024
_MAX_UNPACKED_BYTES = 40 * 1024 * 1024

#: The table's columns (the portal's keys), in order.
NOTICE_COLUMNS = ("stt", "noiDung", "bhxh", "bhyt", "bhtn", "bhtnld", "cong")
_AMOUNTS = ("bhxh", "bhyt", "bhtn", "bhtnld", "cong")
#: Headers read for each column, folded (lower case, no accents, no spaces or dashes).
_HEADERS = {
    "stt": "stt",
    "noidung": "noiDung",
    "bhxh": "bhxh",
    "bhyt": "bhyt",
    "bhtn": "bhtn",
    "bhtnld": "bhtnld",
    "bhtnldbnn": "bhtnld",
    "cong": "cong",
    "tong": "cong",
}
_TOP_KEYS = {"macqbhxh": "maCqBhxh", "tencqbhxh": "tenCqBhxh", "madonvi": "maDonVi"}
#: The line whose values are a rate, not an amount: B.5.2, the interest rate in % (the
#: portal writes 0.644 for 0.644 %).
_RATE_LINES = frozenset({"B.5.2"})
_DIGITS = re.compile(r"-?\d+")
_RATE = re.compile(r"\d+(\.\d+)?")
_DTD_MARKUP = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)

_EXPECTED_AMOUNT = (
    "số nguyên VND chỉ gồm chữ số, không dấu phân cách, ví dụ 2655000",
    "a whole number of VND in digits only, no separators, e.g. 2655000",
)


def _fold(text: object) -> str:
    """``"BHTNLĐ-BNN"`` -> ``"bhtnldbnn"``: what a header is compared by."""
    plain = str(text or "").replace("đ", "d").replace("Đ", "D")
    plain = unicodedata.normalize("NFKD", plain)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def _letter(column: int) -> str:
    out = ""
    while column:
        column, rest = divmod(column - 1, 26)
        out = chr(65 + rest) + out
    return out


# ------------------------------------------------------------------------------ JSON
def _no_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _KeyTwice(key)
        seen[key] = value
    return seen


class _KeyTwice(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def read_notice_json(data: bytes, where: InputLocation) -> dict[str, Any]:
    """The portal's answer from a saved JSON file (its rows are checked by the parser).

    Raises:
        InputRefused: too large, not UTF-8, not JSON, not one object, a key twice.
    """
    if len(data) > MAX_NOTICE_BYTES:
        raise InputRefused(
            f"tệp quá lớn ({len(data)} byte, tối đa {MAX_NOTICE_BYTES})",
            f"the file is too large ({len(data)} bytes, at most {MAX_NOTICE_BYTES})",
            where=where,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputRefused(
            "tệp không phải UTF-8",
            "the file is not UTF-8",
            where=where,
            expected_vi="câu trả lời của cổng BHXH lưu nguyên dạng JSON (UTF-8)",
            expected_en="the VSS portal's answer saved as it is (JSON, UTF-8)",
        ) from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_twice)
    except _KeyTwice as exc:
        raise InputRefused(
            f"khóa {exc.key!r} xuất hiện hai lần",
            f"the key {exc.key!r} appears twice",
            where=where,
        ) from None
    except ValueError as exc:
        raise InputRefused(
            f"không đọc được JSON ({exc})",
            f"not readable as JSON ({exc})",
            where=where,
            expected_vi="câu trả lời của cổng BHXH lưu nguyên dạng JSON",
            expected_en="the VSS portal's answer saved as it is (JSON)",
        ) from None
    if not isinstance(doc, dict):
        raise InputRefused.pair(
            where,
            ("tệp không chứa một đối tượng JSON", "the file does not hold one JSON object"),
            type(doc).__name__,
            ('{"maCqBhxh": ..., "tenCqBhxh": ..., "c12s": [...]}',) * 2,
        )
    return doc


# ------------------------------------------------------------------------------ workbook
def _check_package(data: bytes, where: InputLocation) -> None:
    damaged = ("tệp Excel hỏng hoặc không an toàn", "the Excel file is damaged or unsafe")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InputRefused(
            f"không phải tệp Excel .xlsx ({exc})",
            f"not an Excel .xlsx file ({exc})",
            where=where,
            expected_vi="tệp .xlsx (Excel Workbook)",
            expected_en="an .xlsx file (Excel Workbook)",
        ) from None
    with archive:
        total = sum(info.file_size for info in archive.infolist())
        if total > _MAX_UNPACKED_BYTES:
            raise InputRefused(
                f"{damaged[0]}: giải nén ra {total} byte, quá {_MAX_UNPACKED_BYTES}",
                f"{damaged[1]}: it unpacks to {total} bytes, above {_MAX_UNPACKED_BYTES}",
                where=where,
            )
        for info in archive.infolist():
            if info.filename.endswith((".xml", ".rels")) and _DTD_MARKUP.search(archive.read(info)):
                raise InputRefused(
                    f"{damaged[0]}: phần {info.filename} có khai báo DOCTYPE/ENTITY",
                    f"{damaged[1]}: part {info.filename} holds DOCTYPE/ENTITY markup",
                    where=where,
                )


def _cell_where(base: InputLocation, sheet: str, row: int, column: int, header: str = "") -> Any:
    return InputLocation(
        file=base.file,
        unit=base.unit,
        sheet=sheet,
        row=row,
        column=_letter(column),
        header=header or None,
    )


def _amount(value: object, stt: str, where: InputLocation) -> str:
    """A cell's amount as the portal writes it (a string of digits); "" when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    rate = stt in _RATE_LINES
    if isinstance(value, bool):
        raise InputRefused.pair(
            where, ("ô không phải số tiền", "the cell is not an amount"), value, _EXPECTED_AMOUNT
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        if rate:
            return repr(value)
        raise InputRefused.pair(
            where,
            ("số tiền có phần lẻ", "an amount with decimals"),
            value,
            _EXPECTED_AMOUNT,
        )
    if isinstance(value, str):
        text = value.strip()
        if _DIGITS.fullmatch(text) or (rate and _RATE.fullmatch(text)):
            return text
        if "," in text or "." in text or " " in text:
            reason = (
                "số tiền có dấu phân cách (dấu phẩy, dấu chấm hoặc dấu cách)",
                "an amount with a separator (a comma, a dot or a space)",
            )
        else:
            reason = ("ô không phải số tiền", "the cell is not an amount")
        raise InputRefused.pair(where, reason, value, _EXPECTED_AMOUNT)
    raise InputRefused.pair(
        where, ("ô không phải số tiền", "the cell is not an amount"), value, _EXPECTED_AMOUNT
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def _formulas(sheet: Any, base: InputLocation) -> None:
    """A formula in any cell is refused, naming the first one."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" or (
                isinstance(cell.value, str) and cell.value.startswith("=") and cell.data_type != "s"
            ):
                formula = cell.value if isinstance(cell.value, str) else "(công thức / formula)"
                raise InputRefused(
                    f"ô {cell.coordinate} có công thức {formula}",
                    f"cell {cell.coordinate} holds the formula {formula}",
                    where=_cell_where(base, sheet.title, cell.row, cell.column),
                    expected_vi="số liệu của thông báo C12-TS gõ hoặc dán dạng giá trị, "
                    "không có công thức",
                    expected_en="the C12-TS figures typed or pasted as values, no formula",
                )


def _header_row(rows: Sequence[tuple[int, list[object]]]) -> tuple[int, dict[str, int]] | None:
    for number, values in rows:
        columns: dict[str, int] = {}
        for index, value in enumerate(values, start=1):
            key = _HEADERS.get(_fold(value))
            if key is not None and key not in columns:
                columns[key] = index
        if "stt" in columns and len(columns) >= 3:
            return number, columns
    return None


def read_notice_workbook(
    data: bytes, where: InputLocation, unit_code: str | None = None
) -> dict[str, Any]:
    """The portal's answer from a workbook with the notice's rows (see the module).

    Raises:
        InputRefused: naming the cell: see the module for every refusal.
    """
    if len(data) > MAX_NOTICE_BYTES:
        raise InputRefused(
            f"tệp quá lớn ({len(data)} byte, tối đa {MAX_NOTICE_BYTES})",
            f"the file is too large ({len(data)} bytes, at most {MAX_NOTICE_BYTES})",
            where=where,
        )
    _check_package(data, where)
    import openpyxl  # only a dropped workbook needs it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputRefused(
            f"không mở được tệp Excel ({type(exc).__name__}: {exc})",
            f"cannot open the Excel file ({type(exc).__name__}: {exc})",
            where=where,
        ) from None
    try:
        sheet = book.worksheets[0]
        _formulas(sheet, where)
        rows: list[tuple[int, list[object]]] = [
            (int(cells[0].row or number), [c.value for c in cells])
            for number, cells in enumerate(sheet.iter_rows(), start=1)
            if cells and any(c.value is not None and str(c.value).strip() for c in cells)
        ]
    finally:
        book.close()
    found = _header_row(rows)
    sheet_where = InputLocation(file=where.file, unit=where.unit, sheet=sheet.title)
    if found is None:
        raise InputRefused(
            "không tìm thấy dòng tiêu đề của bảng",
            "no header row for the table",
            where=sheet_where,
            expected_vi="một dòng " + " | ".join(NOTICE_COLUMNS),
            expected_en="a row " + " | ".join(NOTICE_COLUMNS),
        )
    header_at, columns = found
    missing = [c for c in NOTICE_COLUMNS if c not in columns]
    if missing:
        raise InputRefused(
            f"dòng tiêu đề {header_at} thiếu cột {', '.join(missing)}",
            f"the header row {header_at} lacks the column(s) {', '.join(missing)}",
            where=InputLocation(file=where.file, unit=where.unit, sheet=sheet.title, row=header_at),
            expected_vi=" | ".join(NOTICE_COLUMNS),
            expected_en=" | ".join(NOTICE_COLUMNS),
        )
    top: dict[str, str] = {}
    for number, values in rows:
        if number >= header_at:
            break
        key = _TOP_KEYS.get(_fold(values[0] if values else ""))
        if key is not None:
            top[key] = _text(values[1] if len(values) > 1 else "")
    for key in ("maCqBhxh", "tenCqBhxh"):
        if not top.get(key):
            raise InputRefused(
                f"thiếu dòng {key} phía trên bảng",
                f"the row {key} above the table is missing",
                where=sheet_where,
                expected_vi=f"cột A: {key}, cột B: giá trị của thông báo",
                expected_en=f"column A: {key}, column B: the notice's value",
            )
    declared_unit = top.get("maDonVi", "")
    if unit_code and declared_unit and declared_unit != unit_code:
        raise InputRefused(
            f"thông báo của đơn vị {declared_unit}, không phải {unit_code}",
            f"the notice of unit {declared_unit}, not {unit_code}",
            where=sheet_where,
        )
    lines: list[dict[str, str]] = []
    first_row: dict[str, int] = {}
    for number, values in rows:
        if number <= header_at:
            continue

        def cell(key: str, values: list[object] = values) -> object:
            index = columns[key]
            return values[index - 1] if index <= len(values) else None

        stt = _text(cell("stt"))
        if not stt:
            raise InputRefused(
                "dòng có số liệu nhưng không có stt",
                "a line with figures but no stt",
                where=_cell_where(where, sheet.title, number, columns["stt"], "stt"),
                expected_vi="mã dòng của thông báo, ví dụ B.3",
                expected_en="the notice's line code, e.g. B.3",
            )
        if stt in first_row:
            raise InputRefused(
                f"dòng {stt} xuất hiện hai lần (lần đầu ở dòng {first_row[stt]})",
                f"the line {stt} appears twice (first at row {first_row[stt]})",
                where=_cell_where(where, sheet.title, number, columns["stt"], "stt"),
            )
        first_row[stt] = number
        line = {
            "tenDonVi": "",
            "maDonVi": declared_unit or (unit_code or ""),
            "diaChi": "",
            "stt": stt,
            "noiDung": _text(cell("noiDung")),
        }
        for key in _AMOUNTS:
            line[key] = _amount(
                cell(key), stt, _cell_where(where, sheet.title, number, columns[key], key)
            )
        lines.append(line)
    return {"maCqBhxh": top["maCqBhxh"], "tenCqBhxh": top["tenCqBhxh"], "c12s": lines}
