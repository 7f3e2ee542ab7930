"""The C12-TS notice (Thông báo kết quả đóng BHXH, BHYT, BHTN, BHTNLĐ-BNN) as the VSS
portal answers it, read into a typed model that refuses what it cannot trust.

The shape is the portal's answer to its call 137 as documented in the public repository
``finizi-app/bhxh-proxy-worker`` (``api-docs/code-137.md`` and
``src/models/payment/code-137-c12-report.model.ts``)::

    {"maCqBhxh": "07906", "tenCqBhxh": "Bảo hiểm xã hội cơ sở Bình Thạnh",
     "c12s": [{"tenDonVi": "...", "maDonVi": "TZH490L", "diaChi": "...",
               "stt": "B.3", "noiDung": "Phải đóng",
               "bhxh": "2655000", "bhyt": "477900", "bhtn": "212400", "bhtnld": "53100",
               "cong": "3398400"}, ...]}

Each row is one line of the statement, named by its ``stt`` (never by its position):
``A`` carried over from the last period (``A.1`` headcount, ``A.2`` due with ``A.2.1``
over- and ``A.2.2`` under-payment, ``A.3`` interest owed); ``B`` this period (``B.1``
headcount, ``B.1.1`` / ``B.1.2`` up / down; ``B.2`` salary fund; ``B.3`` due; ``B.4``
adjustments of earlier periods, ``B.4.3`` their net; ``B.5`` interest, ``B.5.1`` the
principal, ``B.5.2`` the rate in percent, ``B.5.3`` the interest; ``B.6`` the 2% the
employer keeps); ``C`` paid in the period, one line per transfer
(``+ UNC số 01043, Ngày 29/01/2026``); ``D`` allocation (``D.1`` to dues, ``D.2`` to
interest); ``Đ`` carried forward (``Đ.1`` headcount, ``Đ.2`` due, ``Đ.2.1`` over-,
``Đ.2.2`` under-payment, ``Đ.2.3`` interest owed). The columns are the funds: ``bhxh``
(sickness-maternity and retirement-death together), ``bhyt``, ``bhtn``, ``bhtnld``
(occupational accidents and diseases) and ``cong`` (their sum).

Where the document is silent, the choices are ours and said here:

* amounts come as JSON numbers or strings (the model says ``string/number``); we accept a
  whole number either way (``3398400``, ``"3398400"``, ``"-120000"``) and refuse anything
  else, a thousands separator included (``"3,398,400"`` or ``"3.398.400"``): in Vietnamese
  ``1,5`` is one and a half, so a comma or a dot is never guessed at. An empty string or
  ``null`` reads as 0 (headings such as ``A`` may carry no amounts).
* ``B.5.2`` is a rate, not money: it is read as a decimal (``0.644`` meaning 0.644%).
* the sample has one transfer, numbered ``C.1``; further transfers are expected as
  ``C.2``, ``C.3``... Every ``stt`` must be unique: a row twice is refused, since a
  statement keyed on ``stt`` cannot hold two values for one line.
* the rows ``B.1``, ``B.2`` and ``B.3`` must be present (without them nothing can be
  reconciled); any other line missing reads as 0.

The transfer note a unit writes on its bank order follows the format documented in the
same repository (``src/models/payment/payment-reference.model.ts``):
``+BHXH+103+00+<unit>+<agency>+dong BHXH+`` (:func:`transfer_note`). The payment history
(call 514, ``DSNopBhxhBB``) gives ``soUnc``, ``ngayNop``, ``soTien`` per transfer
(:func:`parse_payment_history`).

Example:
    >>> notice = parse_c12(raw_json, period="01/2026", unit="TZH490L")
    >>> notice.amount("B.3", "cong"), [p.so_unc for p in notice.payments]
    (3398400, ['01043'])
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Literal

from bhxh.errors import InputLocation, InputRefused
from bhxh.periods import contribution_due, parse_period
from bhxh.vntext import normalize_text

__all__ = [
    "AMOUNT_COLUMNS",
    "MAX_NOTICE_BYTES",
    "REQUIRED_ROWS",
    "C12Notice",
    "C12NoticeInvalid",
    "Column",
    "NoticePayment",
    "NoticeRow",
    "PaymentRecord",
    "parse_c12",
    "parse_payment_history",
    "transfer_note",
]

#: The notice's amount columns, in the portal's order; ``cong`` is their sum.
Column = Literal["bhxh", "bhyt", "bhtn", "bhtnld", "cong"]
AMOUNT_COLUMNS: tuple[Column, ...] = ("bhxh", "bhyt", "bhtn", "bhtnld", "cong")

#: Rows without which nothing can be reconciled (our choice; the document is silent).
REQUIRED_ROWS: tuple[str, ...] = ("B.1", "B.2", "B.3")

#: A notice is a few dozen rows; 2 MB is far above any real one and bounds a hostile file.
MAX_NOTICE_BYTES = 2 * 1024 * 1024

_RATE_ROWS = frozenset({"B.5.2"})
_STT = re.compile(r"[ABCDĐ](\.[1-9][0-9]{0,2}){0,4}")
_WHOLE = re.compile(r"-?[0-9]{1,15}")
_RATE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?")
_PAYMENT_LINE = re.compile(
    r"\+?\s*UNC\s+số\s+(?P<unc>[0-9A-Za-z/-]{1,30})\s*,\s*Ngày\s+"
    r"(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})\s*"
)
_PAYMENT_STT = re.compile(r"C\.[1-9][0-9]{0,2}")
_ROW_TEXT_FIELDS = ("stt", "noiDung", "maDonVi", "tenDonVi", "diaChi")


class C12NoticeInvalid(InputRefused):
    """A C12-TS notice refused before it is used: not the portal's shape, a row twice, an
    amount that is not a whole number of VND, another unit's notice. The message names the
    unit, the source (file or call), the row (``stt``) and the field, Vietnamese first."""


@dataclass(frozen=True)
class NoticeRow:
    """One line of the notice. Amounts are whole VND (headcount rows: people).

    ``rate`` is set only on ``B.5.2`` (the interest rate in percent, from its ``cong``
    column, else the first column that has one); its amount fields are then 0.
    """

    stt: str
    noi_dung: str
    bhxh: int = 0
    bhyt: int = 0
    bhtn: int = 0
    bhtnld: int = 0
    cong: int = 0
    rate: Decimal | None = None

    def get(self, column: Column) -> int:
        """The amount of one column (``"bhxh"``... ``"cong"``)."""
        value: int = getattr(self, column)
        return value

    def funds(self) -> dict[str, int]:
        """The four fund columns (without ``cong``)."""
        return {c: self.get(c) for c in AMOUNT_COLUMNS if c != "cong"}


@dataclass(frozen=True)
class NoticePayment:
    """A transfer the notice lists under ``C`` (``+ UNC số 01043, Ngày 29/01/2026``)."""

    stt: str
    so_unc: str  # the bank order's number (ủy nhiệm chi), as the portal writes it
    ngay_nop: dt.date
    so_tien: int  # the line's ``cong``


@dataclass(frozen=True)
class C12Notice:
    """A unit's C12-TS notice for one period, rows keyed by ``stt`` in the portal's order.

    Example:
        >>> notice.row("B.3").bhyt, notice.headcount, notice.paid
        (477900, 2, 3398400)
    """

    period: str  # MM/yyyy, the month the notice is for (the call's ``thang`` / ``nam``)
    ma_cq_bhxh: str  # the VSS office's code
    ten_cq_bhxh: str
    ma_don_vi: str  # the unit's code (the rows' ``maDonVi``)
    ten_don_vi: str
    dia_chi: str
    rows: Mapping[str, NoticeRow]
    payments: tuple[NoticePayment, ...] = field(default=())
    source: str = ""  # where it was read from (a file name, ``call 137``), named in errors

    def __contains__(self, stt: object) -> bool:
        return stt in self.rows

    def __iter__(self) -> Iterator[NoticeRow]:
        return iter(self.rows.values())

    def row(self, stt: str) -> NoticeRow:
        """The row ``stt``; a row the notice does not carry reads as zeros."""
        return self.rows.get(stt) or NoticeRow(stt=stt, noi_dung="")

    def amount(self, stt: str, column: Column = "cong") -> int:
        """One amount: ``notice.amount("B.3", "bhyt")``; 0 when the row is absent."""
        return self.row(stt).get(column)

    @property
    def headcount(self) -> int:
        """B.1: the people the period's dues are for, read in the ``bhxh`` column (the
        other columns repeat it or are empty; when ``bhxh`` is empty, the largest)."""
        row = self.row("B.1")
        return row.bhxh or max(row.funds().values())

    @property
    def salary_fund(self) -> int:
        """B.2: the salary fund the BHXH dues are computed on (the ``bhxh`` column; when it
        is empty, the largest column). :meth:`salary_funds` gives each column."""
        row = self.row("B.2")
        return row.bhxh or max(row.funds().values())

    def salary_funds(self) -> dict[str, int]:
        """B.2 by fund column, without the empty ones (a fund's salary fund differs from
        the BHXH one when salaries pass a cap that is not the same, e.g. BHTN's)."""
        return {c: v for c, v in self.row("B.2").funds().items() if v}

    @property
    def due(self) -> int:
        """B.3 ``cong``: what the period's declarations make due."""
        return self.amount("B.3")

    @property
    def paid(self) -> int:
        """C ``cong``: what was paid in the period (all transfers)."""
        if "C" in self.rows:
            return self.amount("C")
        return sum(p.so_tien for p in self.payments)

    @property
    def deadline(self) -> dt.date:
        """The last day of the month after the period (Vietnam's calendar)."""
        return contribution_due(self.period)


@dataclass(frozen=True)
class PaymentRecord:
    """One transfer of the payment history (call 514, ``DSNopBhxhBB``)."""

    so_unc: str
    ngay_nop: dt.date
    so_tien: int


def transfer_note(unit: str, agency: str, *, kind: str = "103", text: str = "dong BHXH") -> str:
    """The note of a bank transfer paying a unit's contributions, in the documented format
    ``+BHXH+<kind>+00+<unit>+<agency>+<text>+`` (``103``: a payment of dues).

    Example:
        >>> transfer_note("TZH490L", "07906")
        '+BHXH+103+00+TZH490L+07906+dong BHXH+'
    """
    for name, value in (("unit", unit), ("agency", agency), ("kind", kind), ("text", text)):
        if not value or "+" in value or "\n" in value:
            raise ValueError(f"transfer note: {name} {value!r} is empty or holds '+'")
    return f"+BHXH+{kind}+00+{unit}+{agency}+{text}+"


# --- reading ---------------------------------------------------------------------------------


class _Reader:
    """Refusals of one notice, each naming unit, source, row and field."""

    def __init__(self, unit: str | None, source: str) -> None:
        self.unit = unit
        self.source = source

    def where(self, stt: str | int | None = None, column: str | None = None) -> InputLocation:
        """A row named by its ``stt`` (the same word in both languages: the wire's), or by
        its position in the list (1-based) when it has no usable ``stt``."""
        return InputLocation(
            unit=self.unit,
            file=self.source or None,
            row=stt if isinstance(stt, int) else None,
            record=f"stt {stt}" if isinstance(stt, str) and stt else None,
            element=column,
        )

    def refuse(
        self,
        reason: tuple[str, str],
        *,
        stt: str | int | None = None,
        column: str | None = None,
        read: object = None,
        expected: tuple[str, str] = ("", ""),
    ) -> C12NoticeInvalid:
        return C12NoticeInvalid(
            reason[0],
            reason[1],
            where=self.where(stt, column),
            read=read,
            expected_vi=expected[0],
            expected_en=expected[1],
        )


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _load(data: bytes | str | Mapping[str, Any], reader: _Reader) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_NOTICE_BYTES:
        raise reader.refuse(
            ("tệp quá lớn", "file too large"),
            read=f"{len(raw)} bytes",
            expected=(f"tối đa {MAX_NOTICE_BYTES} byte", f"at most {MAX_NOTICE_BYTES} bytes"),
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise reader.refuse(
            ("tệp không phải văn bản UTF-8", "the file is not UTF-8 text"),
            expected=("JSON do cổng BHXH trả về", "the JSON the VSS portal returns"),
        ) from None
    try:
        loaded = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        raise reader.refuse(
            ("một khóa xuất hiện hai lần", "a key appears twice"),
            read=exc.key,
            expected=("mỗi khóa một lần", "each key once"),
        ) from None
    except (ValueError, RecursionError) as exc:
        raise reader.refuse(
            ("không đọc được JSON", "not readable as JSON"),
            read=str(exc)[:80],
            expected=("JSON do cổng BHXH trả về", "the JSON the VSS portal returns"),
        ) from None
    if not isinstance(loaded, dict):
        raise reader.refuse(
            ("không đúng cấu trúc thông báo C12", "not the shape of a C12 notice"),
            read=type(loaded).__name__,
            expected=(
                "một đối tượng có maCqBhxh, tenCqBhxh, c12s",
                "an object with maCqBhxh, tenCqBhxh, c12s",
            ),
        )
    return loaded


def _text(value: object, reader: _Reader, stt: str | int | None, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise reader.refuse(
            ("giá trị không phải chuỗi ký tự", "not a text value"),
            stt=stt,
            column=name,
            read=value,
            expected=("chuỗi ký tự", "text"),
        )
    return normalize_text(value)


def _whole(value: object, reader: _Reader, stt: str | int, column: str) -> int:
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**15:
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 10**15:
        return int(value)
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return 0
        if _WHOLE.fullmatch(stripped):
            return int(stripped)
    raise reader.refuse(
        ("số tiền không phải số nguyên VND", "the amount is not a whole number of VND"),
        stt=stt,
        column=column,
        read=value,
        expected=(
            "số nguyên, không dấu phẩy, không dấu chấm, ví dụ 3398400",
            "a whole number without commas or dots, e.g. 3398400",
        ),
    )


def _rate(value: object, reader: _Reader, stt: str, column: str) -> Decimal | None:
    if value is None or value == "":
        return None
    text = str(value).strip() if not isinstance(value, bool) else "x"
    if isinstance(value, (int, float, str)) and _RATE.fullmatch(text):
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            pass
    raise reader.refuse(
        ("tỷ lệ tính lãi không đọc được", "the interest rate is not readable"),
        stt=stt,
        column=column,
        read=value,
        expected=("số thập phân với dấu chấm, ví dụ 0.644", "a decimal with a dot, e.g. 0.644"),
    )


def _payment(row: NoticeRow, reader: _Reader) -> NoticePayment:
    match = _PAYMENT_LINE.fullmatch(row.noi_dung.strip())
    day: dt.date | None = None
    if match:
        try:
            day = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            day = None
    if match is None or day is None:
        raise reader.refuse(
            ("dòng nộp tiền không đọc được số UNC và ngày", "a payment line without UNC and date"),
            stt=row.stt,
            column="noiDung",
            read=row.noi_dung,
            expected=("+ UNC số 01043, Ngày 29/01/2026", "+ UNC số 01043, Ngày 29/01/2026"),
        )
    return NoticePayment(stt=row.stt, so_unc=match["unc"], ngay_nop=day, so_tien=row.cong)


def parse_c12(
    data: bytes | str | Mapping[str, Any],
    *,
    period: str,
    unit: str | None = None,
    source: str = "",
) -> C12Notice:
    """The portal's answer (call 137) read into a :class:`C12Notice`, or refused.

    Args:
        data: the JSON as bytes or text, or already loaded.
        period: the month the notice is for (``MM/yyyy``); the answer does not carry it.
        unit: the unit's code when known: a notice for another unit is refused.
        source: what a person calls where it came from (a file name), named in refusals.

    Raises:
        C12NoticeInvalid: not the portal's shape, a field of the wrong type, an ``stt``
            that is not a line of the notice or appears twice, an amount that is not a
            whole number (a comma, a dot, a fraction), a payment line without its UNC and
            date, rows of several units, another unit's notice, a required row missing.
            Each names the row (``stt``) and the field.
    """
    reader = _Reader(unit, source)
    if parse_period(period) is None:
        raise ValueError(f"period {period!r} is not MM/yyyy with a month 01-12, e.g. '01/2026'")
    loaded = _load(data, reader)
    for key in ("maCqBhxh", "tenCqBhxh", "c12s"):
        if key not in loaded:
            raise reader.refuse(
                ("thiếu trường bắt buộc", "a required field is missing"),
                column=key,
                expected=("maCqBhxh, tenCqBhxh, c12s", "maCqBhxh, tenCqBhxh, c12s"),
            )
    items = loaded["c12s"]
    if not isinstance(items, list) or not items:
        raise reader.refuse(
            ("c12s không phải danh sách các dòng", "c12s is not a list of rows"),
            column="c12s",
            read=type(items).__name__ if not isinstance(items, list) else "[]",
            expected=("danh sách dòng có stt", "a list of rows with stt"),
        )
    ma_cq = _text(loaded["maCqBhxh"], reader, None, "maCqBhxh")
    ten_cq = _text(loaded["tenCqBhxh"], reader, None, "tenCqBhxh")
    rows: dict[str, NoticeRow] = {}
    units: dict[str, tuple[str, str]] = {}
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise reader.refuse(
                ("dòng không phải đối tượng", "a row is not an object"),
                stt=position,
                read=type(item).__name__,
                expected=(
                    "đối tượng có stt, noiDung và các số tiền",
                    "an object with stt, noiDung and amounts",
                ),
            )
        raw_stt = item.get("stt")
        stt = _text(raw_stt, reader, position, "stt").strip()
        if not _STT.fullmatch(stt):
            raise reader.refuse(
                ("stt không phải một dòng của thông báo C12", "stt is not a line of a C12 notice"),
                stt=position,
                column="stt",
                read=raw_stt,
                expected=("A, B.1, B.4.1.1, C.1, Đ.2.2...", "A, B.1, B.4.1.1, C.1, Đ.2.2..."),
            )
        if stt in rows:
            raise reader.refuse(
                ("dòng xuất hiện hai lần", "the row appears twice"),
                stt=stt,
                column="stt",
                read=raw_stt,
                expected=("mỗi stt một lần", "each stt once"),
            )
        unknown = sorted(set(item) - set(_ROW_TEXT_FIELDS) - set(AMOUNT_COLUMNS))
        if unknown:
            raise reader.refuse(
                ("trường không có trong thông báo C12", "a field a C12 row does not have"),
                stt=stt,
                column=unknown[0],
                expected=(
                    "stt, noiDung, maDonVi, tenDonVi, diaChi, bhxh, bhyt, bhtn, bhtnld, cong",
                    "stt, noiDung, maDonVi, tenDonVi, diaChi, bhxh, bhyt, bhtn, bhtnld, cong",
                ),
            )
        noi_dung = _text(item.get("noiDung"), reader, stt, "noiDung")
        ma_dv = _text(item.get("maDonVi"), reader, stt, "maDonVi").strip()
        ten_dv = _text(item.get("tenDonVi"), reader, stt, "tenDonVi")
        dia_chi = _text(item.get("diaChi"), reader, stt, "diaChi")
        if ma_dv:
            units.setdefault(ma_dv, (ten_dv, dia_chi))
            if unit is not None and ma_dv != unit:
                raise reader.refuse(
                    ("thông báo của đơn vị khác", "the notice of another unit"),
                    stt=stt,
                    column="maDonVi",
                    read=ma_dv,
                    expected=(f"mã đơn vị {unit}", f"unit code {unit}"),
                )
            if len(units) > 1:
                raise reader.refuse(
                    ("các dòng thuộc nhiều đơn vị", "rows of several units"),
                    stt=stt,
                    column="maDonVi",
                    read=ma_dv,
                    expected=("một đơn vị", "one unit"),
                )
        if stt in _RATE_ROWS:
            rates = {c: _rate(item.get(c), reader, stt, c) for c in AMOUNT_COLUMNS}
            given = [r for r in (rates["cong"], *rates.values()) if r is not None]
            rows[stt] = NoticeRow(stt=stt, noi_dung=noi_dung, rate=given[0] if given else None)
            continue
        bhxh, bhyt, bhtn, bhtnld, cong = (
            _whole(item.get(c), reader, stt, c) for c in AMOUNT_COLUMNS
        )
        rows[stt] = NoticeRow(stt, noi_dung, bhxh, bhyt, bhtn, bhtnld, cong)
    for stt in REQUIRED_ROWS:
        if stt not in rows:
            raise reader.refuse(
                ("thiếu dòng bắt buộc", "a required row is missing"),
                stt=stt,
                expected=("các dòng B.1, B.2, B.3", "the rows B.1, B.2, B.3"),
            )
    payments = tuple(_payment(r, reader) for s, r in rows.items() if _PAYMENT_STT.fullmatch(s))
    (ma_don_vi, (ten_don_vi, dia_chi)) = next(iter(units.items()), (unit or "", ("", "")))
    return C12Notice(
        period=period,
        ma_cq_bhxh=ma_cq,
        ten_cq_bhxh=ten_cq,
        ma_don_vi=ma_don_vi,
        ten_don_vi=ten_don_vi,
        dia_chi=dia_chi,
        rows=MappingProxyType(rows),
        payments=payments,
        source=source,
    )


_DMY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(T[0-9:.]+)?")


def parse_payment_history(
    data: bytes | str | Mapping[str, Any], *, unit: str | None = None, source: str = ""
) -> tuple[PaymentRecord, ...]:
    """The transfers of the payment history (call 514): ``DSNopBhxhBB`` (``null`` when the
    unit has none) of ``{soUnc, ngayNop, soTien}``.

    The document marks the record's fields as partly known; our choices: ``ngayNop`` as
    ``dd/MM/yyyy`` or ISO (``2026-01-29`` with or without a time), ``soTien`` a whole number
    as for the notice, other fields of a record ignored.

    Raises:
        C12NoticeInvalid: not that shape, a date or an amount that cannot be read.
    """
    reader = _Reader(unit, source)
    loaded = _load(data, reader)
    records = loaded.get("DSNopBhxhBB", "missing")
    if records is None:
        return ()
    if not isinstance(records, list):
        raise reader.refuse(
            ("không đúng cấu trúc lịch sử nộp tiền", "not the shape of a payment history"),
            column="DSNopBhxhBB",
            read=type(records).__name__ if records != "missing" else None,
            expected=("danh sách hoặc null", "a list or null"),
        )
    out: list[PaymentRecord] = []
    for position, item in enumerate(records, start=1):
        where = position
        if not isinstance(item, dict):
            raise reader.refuse(
                ("bản ghi không phải đối tượng", "a record is not an object"),
                stt=where,
                read=type(item).__name__,
            )
        so_unc = _text(item.get("soUnc"), reader, where, "soUnc").strip()
        ngay = _text(item.get("ngayNop"), reader, where, "ngayNop").strip()
        day: dt.date | None = None
        try:
            if m := _DMY.fullmatch(ngay):
                day = dt.date(int(m[3]), int(m[2]), int(m[1]))
            elif m := _ISO.fullmatch(ngay):
                day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            day = None
        if day is None:
            raise reader.refuse(
                ("ngày nộp không đọc được", "the payment date is not readable"),
                stt=where,
                column="ngayNop",
                read=ngay,
                expected=("dd/MM/yyyy, ví dụ 29/01/2026", "dd/MM/yyyy, e.g. 29/01/2026"),
            )
        amount = _whole(item.get("soTien"), reader, where, "soTien")
        out.append(PaymentRecord(so_unc=so_unc, ngay_nop=day, so_tien=amount))
    return tuple(out)
