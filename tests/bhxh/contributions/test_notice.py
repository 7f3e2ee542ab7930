"""The C12-TS notice read from the portal's JSON (call 137), and what is refused."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any

import pytest

from bhxh.contributions import (
    MAX_NOTICE_BYTES,
    C12NoticeInvalid,
    parse_c12,
    parse_payment_history,
    transfer_note,
)
from bhxh.errors import InputRefused
from tests.bhxh.contributions.notices import (
    AGENCY,
    AGENCY_NAME,
    SAMPLE_DUE,
    UNIT,
    dumps,
    notice_json,
    row,
    sample_notice_json,
    standard_rows,
)


def _read(data: Any, **kwargs: Any) -> Any:
    return parse_c12(data, period="01/2026", unit=UNIT, source="c12-01-2026.json", **kwargs)


def test_the_documented_sample_reads_into_the_model() -> None:
    notice = _read(dumps(sample_notice_json()))
    assert (notice.ma_cq_bhxh, notice.ten_cq_bhxh, notice.ma_don_vi) == (AGENCY, AGENCY_NAME, UNIT)
    assert notice.row("B.3").bhxh == 2_655_000
    assert (
        tuple(notice.row("B.3").get(c) for c in ("bhxh", "bhyt", "bhtn", "bhtnld", "cong"))
        == SAMPLE_DUE
    )
    assert (notice.headcount, notice.salary_fund, notice.due, notice.paid) == (
        2,
        10_620_000,
        3_398_400,
        3_398_400,
    )
    [payment] = notice.payments
    assert (payment.stt, payment.so_unc, payment.ngay_nop, payment.so_tien) == (
        "C.1",
        "01043",
        dt.date(2026, 1, 29),
        3_398_400,
    )
    assert notice.deadline == dt.date(2026, 2, 28)


def test_rows_are_keyed_on_stt_not_on_their_position() -> None:
    data = sample_notice_json()
    shuffled = dict(data, c12s=random.Random(7).sample(data["c12s"], len(data["c12s"])))
    assert _read(shuffled).rows == _read(data).rows


def test_amounts_as_json_numbers_and_negative_adjustments_are_read() -> None:
    rows = standard_rows(headcount=2, salary_fund=10_620_000, due=SAMPLE_DUE)
    rows.append(row("B.4.2", "Giảm", -120_000, 0, 0, 0, "-120000"))
    rows.append(row("B.5.1", "Số tiền tính lãi", 1_000_000.0, 0, 0, 0, 1_000_000))
    notice = _read(notice_json(rows))
    assert notice.amount("B.4.2") == -120_000 and notice.row("B.4.2").bhxh == -120_000
    assert notice.amount("B.5.1") == 1_000_000
    assert notice.amount("A.2.2") == 0  # a row the notice does not carry reads as zeros


def test_the_interest_rate_row_is_read_as_a_decimal() -> None:
    rows = standard_rows(headcount=2, salary_fund=10_620_000, due=SAMPLE_DUE)
    rows.append(row("B.5.2", "Tỷ lệ tính lãi", "", "", "", "", "0.644"))
    assert _read(notice_json(rows)).row("B.5.2").rate == Decimal("0.644")


def _refusal(data: Any) -> C12NoticeInvalid:
    with pytest.raises(C12NoticeInvalid) as caught:
        _read(data)
    return caught.value


def _with(**changes: Any) -> dict[str, Any]:
    """The sample with row B.3's fields changed."""
    data = sample_notice_json()
    for item in data["c12s"]:
        if item["stt"] == "B.3":
            item.update(changes)
    return data


def test_an_amount_with_a_thousands_comma_is_refused_naming_the_row_and_column() -> None:
    error = _refusal(_with(bhxh="2,655,000"))
    text = str(error)
    assert text.startswith("Đơn vị TZH490L, tệp c12-01-2026.json, stt B.3, phần tử bhxh:")
    assert "số tiền không phải số nguyên VND" in text and "'2,655,000'" in text
    assert "— unit TZH490L, file c12-01-2026.json, stt B.3, element bhxh: the amount" in text
    assert isinstance(error, InputRefused) and isinstance(error, ValueError)


@pytest.mark.parametrize("amount", ["2.655.000", "2655000.5", 2655000.5, True, [1], "12e5", " - 5"])
def test_an_amount_that_is_not_a_whole_number_is_refused(amount: object) -> None:
    assert "stt B.3, phần tử bhxh" in str(_refusal(_with(bhxh=amount)))


def test_a_row_twice_is_refused_naming_it() -> None:
    data = sample_notice_json()
    data["c12s"].append(row("B.3", "Phải đóng", "1", "1", "1", "1", "4"))
    text = str(_refusal(data))
    assert "stt B.3, phần tử stt: dòng xuất hiện hai lần" in text


def test_a_key_twice_in_a_row_is_refused() -> None:
    raw = dumps(sample_notice_json()).replace(b'"bhyt": "477900"', b'"bhyt": "477900", "bhyt": "1"')
    assert "một khóa xuất hiện hai lần" in str(_refusal(raw))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfe not utf-8", "không phải văn bản UTF-8"),
        (b"{not json", "không đọc được JSON"),
        (b"[]", "không đúng cấu trúc thông báo C12"),
        (b'{"maCqBhxh": "07906", "tenCqBhxh": "x"}', "phần tử c12s: thiếu trường bắt buộc"),
        (b'{"maCqBhxh": "07906", "tenCqBhxh": "x", "c12s": {}}', "c12s không phải danh sách"),
        (
            b'{"maCqBhxh": "07906", "tenCqBhxh": "x", "c12s": [1]}',
            "dòng 1: dòng không phải đối tượng",
        ),
        (b'{"maCqBhxh": 7906, "tenCqBhxh": "x", "c12s": [{}]}', "phần tử maCqBhxh"),
    ],
)
def test_a_wrong_shape_is_refused(data: bytes, expected: str) -> None:
    assert expected in str(_refusal(data))


def test_an_unknown_line_is_refused_naming_its_position() -> None:
    data = sample_notice_json()
    data["c12s"][3]["stt"] = "X.1"
    assert "dòng 4, phần tử stt: stt không phải một dòng" in str(_refusal(data))


def test_an_unknown_field_is_refused() -> None:
    assert "phần tử =cmd|' /C calc'!A0" in str(_refusal(_with(**{"=cmd|' /C calc'!A0": "1"})))


def test_another_unit_s_notice_is_refused() -> None:
    assert "thông báo của đơn vị khác" in str(_refusal(_with(maDonVi="TA0001A")))


def test_a_notice_without_b3_is_refused() -> None:
    data = sample_notice_json()
    data["c12s"] = [r for r in data["c12s"] if r["stt"] != "B.3"]
    assert "stt B.3: thiếu dòng bắt buộc" in str(_refusal(data))


def test_a_payment_line_without_its_unc_and_date_is_refused() -> None:
    data = sample_notice_json()
    for item in data["c12s"]:
        if item["stt"] == "C.1":
            item["noiDung"] = "+ chuyển khoản"
    assert "stt C.1, phần tử noiDung" in str(_refusal(data))


def test_a_file_too_large_is_refused_before_it_is_parsed() -> None:
    assert "tệp quá lớn" in str(_refusal(b" " * (MAX_NOTICE_BYTES + 1)))


def test_the_period_must_be_mm_yyyy() -> None:
    with pytest.raises(ValueError, match="MM/yyyy"):
        parse_c12(sample_notice_json(), period="2026-01")


def test_the_payment_history_reads_each_transfer() -> None:
    data = {
        "DSNopBhxhBB": [
            {"soUnc": "01043", "ngayNop": "29/01/2026", "soTien": "3398400", "other": 1},
            {"soUnc": "01044", "ngayNop": "2026-02-03T00:00:00", "soTien": 120000},
        ],
        "TotalRecords": 2.0,
    }
    records = parse_payment_history(json.dumps(data))
    assert [(r.so_unc, r.ngay_nop, r.so_tien) for r in records] == [
        ("01043", dt.date(2026, 1, 29), 3_398_400),
        ("01044", dt.date(2026, 2, 3), 120_000),
    ]


def test_a_unit_without_payment_history_has_none() -> None:
    assert parse_payment_history(b'{"DSNopBhxhBB": null, "TotalRecords": 0.0}') == ()


def test_a_payment_history_amount_with_a_comma_is_refused() -> None:
    data = {"DSNopBhxhBB": [{"soUnc": "1", "ngayNop": "29/01/2026", "soTien": "3,398,400"}]}
    with pytest.raises(C12NoticeInvalid, match="dòng 1, phần tử soTien"):
        parse_payment_history(json.dumps(data))


def test_the_transfer_note_follows_the_documented_format() -> None:
    assert transfer_note(UNIT, AGENCY) == "+BHXH+103+00+TZH490L+07906+dong BHXH+"
    with pytest.raises(ValueError):
        transfer_note("TZ+1", AGENCY)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"1e400", b"10000000000000000000"])
def test_json_numbers_that_are_not_amounts_are_refused(literal: bytes) -> None:
    raw = dumps(sample_notice_json()).replace(b'"bhyt": "477900"', b'"bhyt": ' + literal, 1)
    assert "stt B.3, phần tử bhyt: số tiền không phải số nguyên VND" in str(_refusal(raw))


def test_an_stt_that_is_not_text_is_refused_naming_its_position() -> None:
    data = sample_notice_json()
    data["c12s"][0]["stt"] = 1
    assert "dòng 1, phần tử stt: giá trị không phải chuỗi ký tự" in str(_refusal(data))
