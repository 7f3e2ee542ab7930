"""Numbers and dates as people type them: each accepted form, each ambiguous refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bhxh.errors import DossierInvalid, InputLocation, InputRefused
from bhxh.hrdata import (
    excel_serial_to_date,
    parse_amount,
    parse_birth_date,
    parse_date,
    parse_digits,
    parse_month,
)

WHERE = InputLocation(
    file="luong.xlsx", sheet="Dữ Liệu", row=7, column="J", header="Tiền lương", unit="TZ1234A"
)


def _serial(date: dt.date) -> int:
    return (date - dt.date(1899, 12, 30)).days


# --- amounts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("9000000", "9000000"),
        ("9.000.000", "9000000"),  # Vietnamese thousands
        ("9,000,000", "9000000"),  # English thousands
        ("9 000 000", "9000000"),
        ("\u00a09.000.000\u00a0", "9000000"),
        ("9.000.000 đ", "9000000"),
        ("9.000.000đ", "9000000"),
        ("9.000.000 đồng", "9000000"),
        ("9,000,000 VND", "9000000"),
        ("9.000.000 VNĐ", "9000000"),
        ("9.000.000 ₫", "9000000"),
        ("₫9.000.000", "9000000"),
        ("500.000", "500000"),  # one group: thousands, VND has no decimals
        ("1,234", "1234"),
        ("9.000.000,00", "9000000"),  # both separators: zero decimals
        ("9,000,000.00", "9000000"),
        ("9000000,0", "9000000"),
        ("0", "0"),
        (9000000, "9000000"),  # number cells
        (9000000.0, "9000000"),
        (9450000.000000002, "9450000"),  # a formula's rounding noise
        (Decimal("9000000"), "9000000"),
        ("", ""),
        (None, ""),
        ("   ", ""),
    ],
)
def test_amounts_as_people_type_them(typed: object, digits: str) -> None:
    assert parse_amount(typed, WHERE) == digits


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("9.000,5", "phần lẻ"),  # Vietnamese decimal comma
        ("9000000.5", "phần lẻ"),
        ("9,5", "phần lẻ"),
        (8571428.57, "phần lẻ"),  # an Excel number with decimals
        ("9.000.00", "nhóm chữ số"),
        ("9000.000", "nhóm chữ số"),
        ("90.00.000", "nhóm chữ số"),
        ("9.000,000", "không rõ"),  # 9 thousand or 9 million?
        ("1,234.567", "không rõ"),
        ("-500.000", "âm"),
        ("(500.000)", "âm"),
        (-1, "âm"),
        ("9E+06", "khoa học"),
        ("9 triệu", "không phải số tiền"),
        ("chín triệu", "không phải số tiền"),
        (True, "không chứa số tiền"),
        (dt.datetime(2026, 1, 1), "không chứa số tiền"),
    ],
)
def test_ambiguous_or_wrong_amounts_are_refused(typed: object, reason: str) -> None:
    with pytest.raises(InputRefused, match=reason):
        parse_amount(typed, WHERE)


def test_an_amount_refusal_names_the_cell_what_was_read_and_what_is_expected() -> None:
    with pytest.raises(InputRefused) as info:
        parse_amount("9.000,5", WHERE)
    message = str(info.value)
    vi, en = message.split(" — ")
    assert vi.startswith(
        "Đơn vị TZ1234A, tệp luong.xlsx, trang tính 'Dữ Liệu', dòng 7, cột J (Tiền lương):"
    )
    assert "đọc được '9.000,5'" in vi and "cần số tiền nguyên VND" in vi and "=ROUND(J7;0)" in vi
    assert en.startswith(
        "unit TZ1234A, file luong.xlsx, sheet 'Dữ Liệu', row 7, column J (Tiền lương):"
    )
    assert "read '9.000,5'" in en and "expected a whole number of VND" in en
    assert isinstance(info.value, DossierInvalid) and isinstance(info.value, ValueError)


# --- dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "date"),
    [
        ("05/03/1990", "05/03/1990"),
        ("5/3/1990", "05/03/1990"),
        ("05-03-1990", "05/03/1990"),
        ("05.03.1990", "05/03/1990"),
        ("1990-03-05", "05/03/1990"),
        ("1990-03-05 00:00:00", "05/03/1990"),  # a date cell exported by a program
        (dt.datetime(1990, 3, 5), "05/03/1990"),
        (dt.date(1990, 3, 5), "05/03/1990"),
        (32874, "01/01/1990"),  # Excel serials, 1900 system
        (32874.0, "01/01/1990"),
        (45658, "01/01/2025"),
        (1, "01/01/1900"),
        (59, "28/02/1900"),
        (61, "01/03/1900"),  # after Excel's 29/02/1900
        ("", ""),
    ],
)
def test_dates_as_people_type_them(typed: object, date: str) -> None:
    assert parse_date(typed, WHERE) == date


def test_excel_1904_date_system() -> None:
    assert parse_date(0, date1904=True) == "01/01/1904"
    assert parse_date(32874 - 1462, date1904=True) == "01/01/1990"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        (60, "29/02/1900"),  # the Lotus 1-2-3 bug Excel kept
        (0, "ngoài khoảng"),
        (3_000_000, "ngoài khoảng"),
        (32874.5, "giờ"),
        (dt.datetime(1990, 3, 5, 14, 30), "giờ"),
        ("31/02/1990", "không có ngày 31/02/1990"),
        ("05/03/90", "2 chữ số"),
        ("32874", "chỉ có chữ số"),
        ("5 tháng 3", "không đọc được ngày"),
        ("05/03/1890", "trước 1900"),
    ],
)
def test_wrong_dates_are_refused(typed: object, reason: str) -> None:
    with pytest.raises(InputRefused, match=reason):
        parse_date(typed, WHERE)


def test_a_month_day_year_date_gets_a_hint() -> None:
    with pytest.raises(InputRefused, match="có phải 13/02/1990") as info:
        parse_date("02/13/1990", WHERE)
    assert "did you mean 13/02/1990" in str(info.value)


def test_serial_to_date_matches_the_1900_system() -> None:
    assert excel_serial_to_date(_serial(dt.date(2026, 1, 31))) == dt.date(2026, 1, 31)


# --- months ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "month"),
    [
        ("01/2026", "01/2026"),
        ("1/2026", "01/2026"),
        ("01-2026", "01/2026"),
        ("1.2026", "01/2026"),
        ("2026-01", "01/2026"),
        ("T1/2026", "01/2026"),
        ("Tháng 01/2026", "01/2026"),
        ("01/01/2026", "01/2026"),  # a date on the 1st: what Excel stores for 1/2026
        (dt.datetime(2026, 1, 1), "01/2026"),
        (dt.date(2025, 12, 1), "12/2025"),
        (_serial(dt.date(2026, 1, 1)), "01/2026"),
        (None, ""),
    ],
)
def test_months_as_people_type_them(typed: object, month: str) -> None:
    assert parse_month(typed, WHERE) == month


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("13/2026", "không có tháng 13"),
        ("0/2026", "không có tháng 0"),
        ("15/01/2026", "không phải một tháng"),
        (dt.datetime(2026, 1, 15), "không phải một tháng"),
        (_serial(dt.date(2026, 1, 15)), "không phải một tháng"),
        ("2026", "không đọc được tháng"),
        ("Jan-26", "không đọc được tháng"),
    ],
)
def test_wrong_months_are_refused(typed: object, reason: str) -> None:
    with pytest.raises(InputRefused, match=reason):
        parse_month(typed, WHERE)


@pytest.mark.parametrize(
    ("typed", "born"),
    [
        ("1990", "1990"),
        (1990, "1990"),  # a number cell from 1900 to 2100 is a year
        ("03/1990", "03/1990"),
        ("3/1990", "03/1990"),
        ("05/03/1990", "05/03/1990"),
        (dt.datetime(1990, 3, 5), "05/03/1990"),
        (32874, "01/01/1990"),
    ],
)
def test_birth_dates_full_or_partial(typed: object, born: str) -> None:
    assert parse_birth_date(typed, WHERE) == born


# --- identity numbers -----------------------------------------------------------------


def test_bhxh_number_that_lost_its_leading_zero_in_excel_gets_it_back() -> None:
    notes: list[str] = []
    assert parse_digits(123456789, WHERE, lengths=(10,), notes=notes) == "0123456789"
    assert len(notes) == 1 and "0123456789" in notes[0] and "dòng 7" in notes[0]


@pytest.mark.parametrize(
    ("typed", "lengths", "digits"),
    [
        ("0123456789", (10,), "0123456789"),
        ("'0123456789", (10,), "0123456789"),
        ("0123 456 789", (10,), "0123456789"),
        (1190000001, (9, 12), "001190000001"),  # a CCCD with two leading zeros
        (12345678, (9, 12), "012345678"),  # an old CMND
        (123456789012.0, (9, 12), "123456789012"),
    ],
)
def test_identity_numbers(typed: object, lengths: tuple[int, ...], digits: str) -> None:
    assert parse_digits(typed, WHERE, lengths=lengths) == digits


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1.23457E+11", "khoa học"),
        ("01234-56789", "không phải dãy chữ số"),
        ("012345678", "có 9 chữ số"),
        (12345678901234, "có 14 chữ số"),
        (1.5, "không phải dãy chữ số"),
    ],
)
def test_wrong_identity_numbers_are_refused(typed: object, reason: str) -> None:
    with pytest.raises(InputRefused, match=reason):
        parse_digits(typed, WHERE, lengths=(10,))
