"""Numbers and dates as people type them in HR files, read into the exact strings a
declaration carries: an amount as integer digits (``9000000``), a date ``dd/MM/yyyy``, a
month ``MM/yyyy``, an identity number as its digits.

Each parser takes the raw cell value (a ``str`` from CSV; from a workbook also ``int``,
``float``, ``datetime`` or ``date`` as openpyxl gives them) and an optional
:class:`~bhxh.errors.InputLocation`. An empty value (``None`` or only spaces) gives ``""``:
whether a field is required is decided by the declaration's rules, not here. Anything
that cannot be read with certainty is refused with an
:class:`~bhxh.errors.InputRefused` naming the cell, what was read and what is expected.

Decisions on ambiguous forms (no VSS document covers them; our choices):

- **Amounts are whole VND.** ``9000000``, ``9.000.000`` (Vietnamese), ``9,000,000``
  (English) and ``9 000 000`` are read; a currency word before or after (``đ``, ``đồng``,
  ``VND``, ``VNĐ``, ``₫``) is dropped. One separator followed by exactly three digits
  (``500.000``, ``1,234``) is a thousands separator, never a decimal point: VND has no
  minor unit, and ``500.000`` (five hundred thousand) is the most common allowance typed.
  Both separators (``9.000.000,00``, ``9,000,000.00``): the last one is the decimal
  point and the decimals must be zero. Refused: decimals that are not zero
  (``9.000,5``, ``9000000.5``, an Excel number ``8571428.57``; a number within 1e-6 of
  a whole one, a formula's rounding noise, is that whole number), groups that are not
  three digits (``9.000.00``), both separators with three decimals (``9.000,000``:
  9 thousand or 9 million?), negative amounts, scientific notation (``9E+06``: Excel has
  already rounded it), words (``9 triệu``).
- **Dates are day/month/year**, as Vietnamese write them: ``dd/MM/yyyy`` and
  ``d/M/yyyy`` with ``/``, ``-`` or ``.``; ``yyyy-MM-dd`` (ISO, unambiguous); an Excel
  date cell; an Excel serial number (1900 date system, or 1904 when the workbook says so).
  Refused: a two-digit year (which century?), a day or month out of range (with a hint
  when it looks like month/day/year), serial 60 (1900-02-29, a day that never existed:
  Excel's copy of a Lotus 1-2-3 bug; serials 1-59 are one day off from 61 on, as Excel
  counts), a time of day other than midnight, digits in a text cell (``32874``: format
  the column as a date; a number *cell* is read as a serial).
- **Months** ``MM/yyyy``, ``M/yyyy`` (``/``, ``-``, ``.``), ``yyyy-MM``, with an optional
  ``T`` / ``Tháng`` before; an Excel date (typing ``1/2026`` makes Excel store 1 January
  2026) or a full date on the 1st of the month. A date on another day is refused: it is
  a date, not a month.
- **Birth dates** (TK1-TS allows a partial one): a full date, ``MM/yyyy`` or ``yyyy``; a
  number cell from 1900 to 2100 is a year (a serial in that range is a date in 1905).
- **Identity numbers** (MasoBHXH, CMND/CCCD) are digits. Excel turns ``0123456789`` typed
  into a number cell into ``123456789``: when the number has fewer digits than the one
  expected length it can have, the leading zeros are put back and a note says so.

Example:
    >>> parse_amount("9.000.000 đ"), parse_date(32874), parse_month("1/2026")
    ('9000000', '01/01/1990', '01/2026')
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from bhxh.errors import InputLocation, InputRefused
from bhxh.vntext import normalize_text

__all__ = [
    "EXCEL_MAX_SERIAL",
    "excel_serial_to_date",
    "parse_amount",
    "parse_birth_date",
    "parse_date",
    "parse_digits",
    "parse_month",
]

#: The last serial Excel accepts (31/12/9999).
EXCEL_MAX_SERIAL = 2_958_465
_NOISE = 1e-6  # a float this close to a whole number is that number (formula rounding)

_AMOUNT_EXPECTED = (
    "số tiền nguyên VND, ví dụ 9000000, 9.000.000 hoặc 9,000,000",
    "a whole number of VND, e.g. 9000000, 9.000.000 or 9,000,000",
)
_DATE_EXPECTED = (
    "ngày dạng ngày/tháng/năm, ví dụ 05/03/1990 hoặc 5/3/1990",
    "a date as day/month/year, e.g. 05/03/1990 or 5/3/1990",
)
_MONTH_EXPECTED = (
    "tháng dạng MM/yyyy, ví dụ 01/2026 hoặc 1/2026",
    "a month as MM/yyyy, e.g. 01/2026 or 1/2026",
)
_BIRTH_EXPECTED = (
    "ngày sinh dd/MM/yyyy, hoặc MM/yyyy, hoặc yyyy khi chỉ biết năm",
    "a birth date dd/MM/yyyy, or MM/yyyy, or yyyy when only the year is known",
)


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and normalize_text(value) == "")


def _cell_ref(where: InputLocation | None) -> str:
    if where is not None and where.column and where.row is not None:
        return f"{where.column}{where.row}"
    return "A1"


# --- amounts ----------------------------------------------------------------------------

_CURRENCY = re.compile(r"^(?:₫\s*)?(?P<num>.*?)\s*(?:đồng|vnđ|vnd|đ|₫)?$", re.IGNORECASE)
_SPACE_GROUPS = re.compile(r"\d{1,3}(?: \d{3})+")
_NUMBERISH = re.compile(r"\d+(?:[.,]\d+)*")


def _whole_number(value: float | Decimal, where: InputLocation | None, read: object) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise InputRefused.pair(where, ("không phải số", "not a number"), read, _AMOUNT_EXPECTED)
    nearest = round(value)
    if abs(Decimal(str(value)) - nearest) > Decimal(str(_NOISE)):
        ref = _cell_ref(where)
        raise InputRefused.pair(
            where,
            (
                f"số tiền có phần lẻ (VND không có số lẻ; làm tròn trong bảng tính, "
                f"ví dụ =ROUND({ref};0))",
                f"the amount has decimals (VND has none; round it in the workbook, "
                f"e.g. =ROUND({ref},0))",
            ),
            read,
            _AMOUNT_EXPECTED,
        )
    if nearest < 0:
        raise InputRefused.pair(where, ("số tiền âm", "a negative amount"), read, _AMOUNT_EXPECTED)
    return str(int(nearest))


def _grouped(int_part: str, sep: str) -> bool:
    return re.fullmatch(rf"\d{{1,3}}(?:{re.escape(sep)}\d{{3}})*", int_part) is not None


def parse_amount(value: object, where: InputLocation | None = None) -> str:
    """An amount in whole VND as digits (``"9000000"``); ``""`` for an empty cell.

    Raises:
        InputRefused: decimals, negative, ambiguous separators, wrong digit groups,
            scientific notation, words, a date or a yes/no cell (see the module's rules).
    """
    if _is_empty(value):
        return ""
    if isinstance(value, bool | dt.date | dt.time):
        raise InputRefused.pair(
            where, ("ô này không chứa số tiền", "the cell holds no amount"), value, _AMOUNT_EXPECTED
        )
    if isinstance(value, int):
        return _whole_number(Decimal(value), where, value)
    if isinstance(value, float | Decimal):
        return _whole_number(value, where, value)
    text = normalize_text(str(value))
    read = text
    match = _CURRENCY.fullmatch(text)
    num = match.group("num") if match else text
    if re.fullmatch(r"[-−(].*|.*\)", num):
        raise InputRefused.pair(where, ("số tiền âm", "a negative amount"), read, _AMOUNT_EXPECTED)
    if re.fullmatch(r"\d+(?:[.,]\d+)?[eE][+-]?\d+", num):
        raise InputRefused.pair(
            where,
            (
                "số hiển thị dạng khoa học, Excel đã làm tròn mất chữ số; định dạng cột là "
                "số (Number) rồi xuất lại",
                "the number is in scientific notation and Excel has already rounded it; "
                "format the column as Number and export again",
            ),
            read,
            _AMOUNT_EXPECTED,
        )
    if _SPACE_GROUPS.fullmatch(num):
        num = num.replace(" ", "")
    if not _NUMBERISH.fullmatch(num):
        raise InputRefused.pair(
            where, ("không phải số tiền", "not an amount"), read, _AMOUNT_EXPECTED
        )
    if num.isdigit():
        return str(int(num))
    dots, commas = num.count("."), num.count(",")
    bad_groups = (
        "nhóm chữ số không đúng: sau mỗi dấu phân cách hàng nghìn phải có đúng 3 chữ số",
        "the digit groups are wrong: each thousands separator is followed by exactly 3 digits",
    )
    if dots and commas:
        decimal_sep = "," if num.rfind(",") > num.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        int_part, _, frac = num.rpartition(decimal_sep)
        if decimal_sep in int_part or not _grouped(int_part, thousands):
            raise InputRefused.pair(where, bad_groups, read, _AMOUNT_EXPECTED)
        if len(frac) == 3:
            raise InputRefused.pair(
                where,
                (
                    f"không rõ dấu {decimal_sep!r} là dấu thập phân hay dấu phân cách hàng nghìn",
                    f"cannot tell whether {decimal_sep!r} is a decimal point or a thousands "
                    "separator",
                ),
                read,
                _AMOUNT_EXPECTED,
            )
        return _whole_number(Decimal(int_part.replace(thousands, "") + "." + frac), where, read)
    sep = "." if dots else ","
    parts = num.split(sep)
    if len(parts) > 2 or len(parts[1]) == 3:
        # Thousands separators: VND has no decimals, so "500.000" is five hundred thousand.
        if not _grouped(num, sep):
            raise InputRefused.pair(where, bad_groups, read, _AMOUNT_EXPECTED)
        return str(int(num.replace(sep, "")))
    try:
        amount = Decimal(parts[0] + "." + parts[1])
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        raise InputRefused.pair(
            where, ("không phải số tiền", "not an amount"), read, _AMOUNT_EXPECTED
        ) from None
    return _whole_number(amount, where, read)


# --- dates ------------------------------------------------------------------------------


def excel_serial_to_date(
    serial: float, *, date1904: bool = False, where: InputLocation | None = None
) -> dt.date:
    """The date an Excel serial number stands for.

    1900 system (the default): serial 1 is 01/01/1900; Excel counts a 29/02/1900 that
    never was (serial 60, refused), so from serial 61 on the date is 30/12/1899 + serial
    days. 1904 system (old Mac workbooks): serial 0 is 01/01/1904.

    Raises:
        InputRefused: serial 60, below the first day, above 31/12/9999, or with a time of
            day.
    """
    read = serial
    if not math.isfinite(serial) or abs(serial - round(serial)) > _NOISE:
        raise InputRefused.pair(
            where,
            ("ô có cả giờ trong ngày", "the cell has a time of day"),
            read,
            _DATE_EXPECTED,
        )
    day = round(serial)
    first = 0 if date1904 else 1
    if day < first or day > EXCEL_MAX_SERIAL:
        raise InputRefused.pair(
            where,
            ("số ngày Excel ngoài khoảng cho phép", "an Excel date serial out of range"),
            read,
            _DATE_EXPECTED,
        )
    if date1904:
        return dt.date(1904, 1, 1) + dt.timedelta(days=day)
    if day == 60:
        raise InputRefused.pair(
            where,
            (
                "số ngày Excel 60 là ngày 29/02/1900, một ngày không có thật",
                "Excel serial 60 is 29/02/1900, a day that never existed",
            ),
            read,
            _DATE_EXPECTED,
        )
    if day < 60:
        return dt.date(1899, 12, 31) + dt.timedelta(days=day)
    return dt.date(1899, 12, 30) + dt.timedelta(days=day)


_DMY = re.compile(r"(?P<d>\d{1,2})(?P<s>[/.-])(?P<m>\d{1,2})(?P=s)(?P<y>\d{4})")
_DMY_SHORT = re.compile(r"\d{1,2}([/.-])\d{1,2}\1\d{2}")
_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]00:00(?::00)?)?")


def _make_date(
    y: int, m: int, d: int, where: InputLocation | None, read: object, expected: tuple[str, str]
) -> dt.date:
    try:
        date = dt.date(y, m, d)
    except ValueError:
        hint_vi = hint_en = ""
        if m > 12 and d <= 12:
            hint_vi = f"; ngày viết theo thứ tự ngày/tháng/năm: có phải {m:02d}/{d:02d}/{y}?"
            hint_en = f"; dates are day/month/year: did you mean {m:02d}/{d:02d}/{y}?"
        raise InputRefused.pair(
            where,
            (
                f"không có ngày {d:02d}/{m:02d}/{y}{hint_vi}",
                f"there is no day {d:02d}/{m:02d}/{y}{hint_en}",
            ),
            read,
            expected,
        ) from None
    if y < 1900:
        raise InputRefused.pair(where, ("năm trước 1900", "a year before 1900"), read, expected)
    return date


def _date_of(
    value: object,
    where: InputLocation | None,
    *,
    date1904: bool,
    expected: tuple[str, str],
) -> dt.date:
    """A full date from a cell (not empty)."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise InputRefused.pair(
                where, ("ô có cả giờ trong ngày", "the cell has a time of day"), value, expected
            )
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool | dt.time):
        raise InputRefused.pair(
            where, ("ô này không chứa ngày", "the cell holds no date"), value, expected
        )
    if isinstance(value, int | float):
        return excel_serial_to_date(float(value), date1904=date1904, where=where)
    text = normalize_text(str(value))
    m = _DMY.fullmatch(text)
    if m:
        return _make_date(int(m["y"]), int(m["m"]), int(m["d"]), where, text, expected)
    m = _ISO.fullmatch(text)
    if m:
        return _make_date(int(m["y"]), int(m["m"]), int(m["d"]), where, text, expected)
    if _DMY_SHORT.fullmatch(text):
        raise InputRefused.pair(
            where,
            ("năm chỉ có 2 chữ số (thế kỷ nào?)", "a two-digit year (which century?)"),
            text,
            expected,
        )
    if text.isdigit():
        raise InputRefused.pair(
            where,
            (
                "ô văn bản chỉ có chữ số, có lẽ là số ngày của Excel; định dạng cột là ngày "
                "(dd/mm/yyyy) rồi xuất lại",
                "a text cell holding only digits, probably an Excel date serial; format the "
                "column as a date (dd/mm/yyyy) and export again",
            ),
            text,
            expected,
        )
    raise InputRefused.pair(where, ("không đọc được ngày", "not a date"), text, expected)


def parse_date(value: object, where: InputLocation | None = None, *, date1904: bool = False) -> str:
    """A date as ``dd/MM/yyyy``; ``""`` for an empty cell.

    Raises:
        InputRefused: not a day/month/year date, a two-digit year, no such day, serial 60,
            a time of day (see the module's rules).
    """
    if _is_empty(value):
        return ""
    return _date_of(value, where, date1904=date1904, expected=_DATE_EXPECTED).strftime("%d/%m/%Y")


_MONTH = re.compile(r"(?:(?:tháng|thg|t)\s*)?(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4})", re.I)
_YEAR_MONTH = re.compile(r"(?P<y>\d{4})[/-](?P<m>\d{1,2})")


def _month_of(m: int, y: int, where: InputLocation | None, read: object) -> str:
    if not 1 <= m <= 12:
        raise InputRefused.pair(
            where,
            (f"không có tháng {m}", f"there is no month {m}"),
            read,
            _MONTH_EXPECTED,
        )
    if y < 1900:
        raise InputRefused.pair(
            where, ("năm trước 1900", "a year before 1900"), read, _MONTH_EXPECTED
        )
    return f"{m:02d}/{y}"


def parse_month(
    value: object, where: InputLocation | None = None, *, date1904: bool = False
) -> str:
    """A month as ``MM/yyyy``; ``""`` for an empty cell.

    Raises:
        InputRefused: not a month, month 13, a date on another day than the 1st.
    """
    if _is_empty(value):
        return ""
    if isinstance(value, str):
        text = normalize_text(value)
        m = _MONTH.fullmatch(text) or _YEAR_MONTH.fullmatch(text)
        if m:
            return _month_of(int(m["m"]), int(m["y"]), where, text)
        if not (_DMY.fullmatch(text) or _ISO.fullmatch(text)):
            raise InputRefused.pair(
                where, ("không đọc được tháng", "not a month"), text, _MONTH_EXPECTED
            )
    date = _date_of(value, where, date1904=date1904, expected=_MONTH_EXPECTED)
    if date.day != 1:
        raise InputRefused.pair(
            where,
            (
                f"đây là một ngày ({date:%d/%m/%Y}), không phải một tháng; gõ {date:%m/%Y}",
                f"this is a day ({date:%d/%m/%Y}), not a month; type {date:%m/%Y}",
            ),
            value if not isinstance(value, dt.date) else f"{date:%d/%m/%Y}",
            _MONTH_EXPECTED,
        )
    return f"{date:%m/%Y}"


def parse_birth_date(
    value: object, where: InputLocation | None = None, *, date1904: bool = False
) -> str:
    """A birth date: ``dd/MM/yyyy``, or ``MM/yyyy`` / ``yyyy`` when only that is known.

    Raises:
        InputRefused: none of the three forms.
    """
    if _is_empty(value):
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2100:
        return str(value)
    if isinstance(value, str):
        text = normalize_text(value)
        if re.fullmatch(r"\d{4}", text) and 1900 <= int(text) <= 2100:
            return text
        m = _MONTH.fullmatch(text)
        if m:
            return _month_of(int(m["m"]), int(m["y"]), where, text)
    return _date_of(value, where, date1904=date1904, expected=_BIRTH_EXPECTED).strftime("%d/%m/%Y")


# --- identity numbers -------------------------------------------------------------------


def parse_digits(
    value: object,
    where: InputLocation | None = None,
    *,
    lengths: Sequence[int],
    what: tuple[str, str] = ("mã số", "number"),
    notes: list[str] | None = None,
) -> str:
    """An identity number as its digits (MasoBHXH: ``lengths=(10,)``; CMND/CCCD ``(9, 12)``).

    A number cell that lost its leading zeros (Excel drops them) gets them back when it
    is shorter than exactly one allowed length's nearest longer one; ``notes`` (when
    given) receives a sentence saying so. Spaces in a text cell are dropped, and the
    ``'`` Excel users type to keep zeros.

    Raises:
        InputRefused: not digits, scientific notation, a length not allowed.
    """
    if _is_empty(value):
        return ""
    allowed = sorted(set(lengths))
    allowed_text = " hoặc ".join(map(str, allowed))
    expected = (
        f"{what[0]} gồm {allowed_text} chữ số",
        f"a {what[1]} of {' or '.join(map(str, allowed))} digits",
    )
    restored = False
    if isinstance(value, bool | dt.date | dt.time):
        raise InputRefused.pair(
            where, ("ô này không chứa mã số", "the cell holds no number"), value, expected
        )
    if isinstance(value, float | Decimal):
        if not math.isfinite(value) or value != int(value):
            raise InputRefused.pair(where, ("không phải dãy chữ số", "not digits"), value, expected)
        value = int(value)
    if isinstance(value, int):
        digits = str(value)
        if value < 0:
            raise InputRefused.pair(where, ("không phải dãy chữ số", "not digits"), value, expected)
        if len(digits) not in allowed:
            longer = [n for n in allowed if n > len(digits)]
            if longer:
                digits = digits.zfill(longer[0])
                restored = True
    else:
        text = normalize_text(str(value)).lstrip("'").replace(" ", "")
        if re.fullmatch(r"\d+(?:[.,]\d+)?[eE][+-]?\d+", text):
            raise InputRefused.pair(
                where,
                (
                    "số hiển thị dạng khoa học, Excel đã làm mất chữ số; định dạng cột là văn "
                    "bản (Text) rồi gõ lại",
                    "the number is in scientific notation and Excel has lost digits; format "
                    "the column as Text and type it again",
                ),
                text,
                expected,
            )
        if not (text.isascii() and text.isdigit()):
            raise InputRefused.pair(where, ("không phải dãy chữ số", "not digits"), text, expected)
        digits = text
    if len(digits) not in allowed:
        raise InputRefused.pair(
            where,
            (f"có {len(digits)} chữ số", f"{len(digits)} digits"),
            value,
            expected,
        )
    if restored and notes is not None:
        place = where.describe("vi") if where else ""
        place_en = where.describe("en") if where else ""
        notes.append(
            f"{place}: ô số {value} được đọc là {digits} (Excel bỏ số 0 ở đầu) — "
            f"{place_en}: number cell {value} read as {digits} (Excel drops leading zeros)"
        )
    return digits
