"""HR files through the declarations' real entry points: ``read_rows`` / ``read_workers_csv``
and the D02-TS / TK1-TS builders, for workbooks and CSV as accountants have them."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import openpyxl
import pytest

from bhxh.errors import InputRefused
from bhxh.hrdata import (
    WorkerRow,
    build_d02ts,
    read_rows,
    read_workers_csv,
    write_demo_csv,
    write_demo_workbook,
)
from bhxh.intake import validate_dossier
from bhxh.models import Declaration, Dossier, UnitInfo
from bhxh.vntext import encode_legacy
from tests.bhxh.hrdata.conftest import WriteBook, rewrite_part
from tests.bhxh.hrdata.corpus import LATIN1_ONLY, TITLES, addresses, companies, names

UNIT = UnitInfo(code="TZ1234A", tax_code="0101234567", name="Công ty TNHH Thử", agency_code="07906")
TODAY = dt.date(2026, 2, 10)
# The VNPT I-VAN import template's headers (sheet "Dữ Liệu").
VNPT = ("ID Lao động", "Họ tên", "Mã số BHXH", "Chức vụ", "Tiền lương", "Từ tháng", "Mã Phương án")
AN = "Nguyễn Văn An"


def _row(stt: int, name: str = AN, salary: object = 9_000_000, **more: object) -> list[object]:
    return [stt, name, more.get("maso", ""), more.get("title", "Kế toán"), salary, "1/2026", "TM"]


def _d02(read_rows_result: object) -> bytes:
    return build_d02ts(UNIT, "01/2026", read_rows_result.rows)  # type: ignore[attr-defined]


def _valid(d02: bytes) -> None:
    dossier = Dossier(UNIT, "01/2026", "600", "t", (Declaration("D02-TS", "D02-TS-595.xml", d02),))
    validate_dossier(dossier, today=TODAY)


# --- workbooks and templates ---------------------------------------------------------------


def test_a_vnpt_template_workbook_becomes_a_valid_d02ts(book: WriteBook) -> None:
    path = book([VNPT, _row(1, maso="0123456789"), _row(2, "Trần Thị Bình", "8.500.000 đ")])
    read = read_rows(path, "D02-TS", unit="TZ1234A")
    assert read.table.template == "VNPT FileMau_D02_TK1_VNPT.xlsx"
    assert [(r.HoTen, r.TienLuong, r.TuThang, r.MasoBHXH) for r in read.rows] == [
        (AN, "9000000", "01/2026", "0123456789"),
        ("Trần Thị Bình", "8500000", "01/2026", ""),
    ]
    _valid(_d02(read))


def test_the_demo_workbook_reads_back_as_the_demo_csv(tmp_path: Path) -> None:
    csv = read_workers_csv(write_demo_csv(tmp_path / "w.csv", 12, seed=3, period="01/2026"))
    xlsx = read_rows(write_demo_workbook(tmp_path / "w.xlsx", 12, seed=3), "D02-TS")
    assert list(xlsx.rows) == csv
    assert build_d02ts(UNIT, "01/2026", xlsx.rows) == build_d02ts(UNIT, "01/2026", csv)
    assert xlsx.table.header_row == 3
    assert any("dòng 4 bỏ qua" in w for w in xlsx.warnings)  # the (1) (2) (3) row


# --- NFC and duplicates --------------------------------------------------------------------


def test_decomposed_names_are_written_precomposed(book: WriteBook) -> None:
    nfd = unicodedata.normalize("NFD", AN)
    assert len(nfd) == 16
    read = read_rows(book([VNPT, _row(1, nfd)]), "D02-TS")
    assert read.rows[0].HoTen == AN and len(read.rows[0].HoTen) == 13
    assert f"<HoTen>{AN}</HoTen>".encode() in _d02(read)


def test_the_same_worker_in_nfc_and_nfd_with_one_maso_is_refused(book: WriteBook) -> None:
    rows = [VNPT, _row(1, AN, maso="0123456789"), _row(2, unicodedata.normalize("NFD", AN))]
    rows[2][2] = "0123456789"
    with pytest.raises(InputRefused) as refused:
        read_rows(book(rows), "D02-TS", unit="TZ1234A")
    assert (
        "Đơn vị TZ1234A, tệp luong.xlsx, trang tính 'Dữ Liệu', dòng 3, cột C (Mã số BHXH): "
        "người lao động có MasoBHXH 0123456789 đã có ở dòng 2" in str(refused.value)
    )


def test_the_same_name_and_birth_date_without_numbers_is_a_warning(tmp_path: Path) -> None:
    nfd_caps = unicodedata.normalize("NFD", AN.upper())
    path = tmp_path / "w.csv"
    path.write_text(
        "HoTen,ChucVu,TienLuong,PA,NgaySinh\n"
        f"{AN},Kế toán,9000000,TM,05/03/1990\n"
        f"{nfd_caps},Kỹ sư,9000000,TM,5/3/1990\n"
        f"{AN},Kỹ sư,9000000,TM,06/03/1990\n",
        encoding="utf-8",
    )
    read = read_rows(path, "D02-TS")
    (warning,) = [w for w in read.warnings if "có lẽ là người" in w]
    assert warning.startswith("tệp w.csv, dòng 3, cột A (HoTen): 'NGUYỄN VĂN AN' sinh 05/03/1990")
    assert "ở dòng 2" in warning


# --- legacy encodings ----------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "name"), [("tcvn3", "TCVN3 (ABC)"), ("vni", "VNI-Windows")])
def test_legacy_rows_are_refused_then_converted(book: WriteBook, encoding: str, name: str) -> None:
    legacy = [
        _row(
            1,
            encode_legacy("Nguyễn Thị Hương", encoding),
            title=encode_legacy("Kế toán trưởng", encoding),
        ),  # type: ignore[arg-type]
        _row(
            2, encode_legacy("Đặng Quốc Việt", encoding), title=encode_legacy("Thủ kho", encoding)
        ),  # type: ignore[arg-type]
    ]
    path = book([VNPT, *legacy])
    with pytest.raises(InputRefused) as refused:
        read_rows(path, "D02-TS", unit="TZ1234A")
    message = str(refused.value)
    assert message.startswith("Đơn vị TZ1234A, tệp luong.xlsx, trang tính 'Dữ Liệu'")
    assert f"4 ô được gõ bằng bảng mã cũ {name}" in message
    assert "dòng 2, cột B (Họ tên)" in message and "'Nguyễn Thị Hương'" in message
    read = read_rows(path, "D02-TS", convert_legacy=True)
    assert [(r.HoTen, r.ChucVu) for r in read.rows] == [
        ("Nguyễn Thị Hương", "Kế toán trưởng"),
        ("Đặng Quốc Việt", "Thủ kho"),
    ]
    assert len(read.conversions) == 4
    _valid(_d02(read))


def test_no_false_positive_on_a_genuine_workbook(book: WriteBook) -> None:
    people = names() + [n.upper() for n in names()[:100]]
    places = addresses() + companies() + list(LATIN1_ONLY)
    typed = [unicodedata.normalize("NFD", p) if i % 3 == 0 else p for i, p in enumerate(people)]
    rows: list[list[object]] = [["Họ và tên", "Chức vụ", "Nơi làm việc", "Tiền lương", "PA"]]
    for i, person in enumerate(typed):
        rows.append([person, TITLES[i % len(TITLES)], places[i % len(places)], 7_000_000, "TM"])
    read = read_rows(book(rows), "D02-TS")
    assert len(read.rows) == len(people) >= 700 and read.conversions == ()
    assert [r.HoTen for r in read.rows] == people
    assert {r.NoiLamViec for r in read.rows} == set(places)
    assert not [w for w in read.warnings if "bảng mã" in w or "có thể cũng là" in w]


# --- numbers and dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        (9_000_000, "9000000"),
        (9_000_000.0, "9000000"),
        ("9.000.000", "9000000"),
        ("9,000,000", "9000000"),
        ("9 000 000", "9000000"),
        ("  9.000.000 đ ", "9000000"),
        ("9000000 VND", "9000000"),
        ("9.000.000,00", "9000000"),
        ("500.000", "500000"),
    ],
)
def test_amounts_as_people_type_them(book: WriteBook, typed: object, read: str) -> None:
    assert read_rows(book([VNPT, _row(1, salary=typed)]), "D02-TS").rows[0].TienLuong == read


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("9.000,5", "số tiền có phần lẻ"),
        (8571428.57, "=ROUND(E2;0)"),
        ("9 triệu", "không phải số tiền"),
        ("9E+06", "khoa học"),
    ],
)
def test_ambiguous_amounts_are_refused_with_the_fix(
    book: WriteBook, typed: object, words: str
) -> None:
    with pytest.raises(InputRefused) as refused:
        read_rows(book([VNPT, _row(1, salary=typed)]), "D02-TS")
    assert "dòng 2, cột E (Tiền lương)" in str(refused.value)
    assert words in str(refused.value)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        (dt.datetime(1990, 3, 5), "05/03/1990"),
        (32937, "05/03/1990"),  # an Excel serial in a number cell
        ("5/3/1990", "05/03/1990"),
        ("05-03-1990", "05/03/1990"),
        ("1990-03-05", "05/03/1990"),
        (" 05/03/1990 ", "05/03/1990"),
        ("03/1990", "03/1990"),
        (1990, "1990"),
    ],
)
def test_birth_dates_as_people_type_them(book: WriteBook, typed: object, read: str) -> None:
    rows = [[*VNPT, "Ngày sinh"], [*_row(1), typed]]
    assert read_rows(book(rows), "D02-TS").rows[0].NgaySinh == read


@pytest.mark.parametrize(
    ("typed", "read"),
    [("1/2026", "01/2026"), ("01/2026", "01/2026"), (dt.datetime(2026, 1, 1), "01/2026")],
)
def test_months_as_people_type_them(book: WriteBook, typed: object, read: str) -> None:
    row = _row(1)
    row[5] = typed
    assert read_rows(book([VNPT, row]), "D02-TS").rows[0].TuThang == read


def test_a_two_digit_year_is_refused(book: WriteBook) -> None:
    rows = [[*VNPT, "Ngày sinh"], [*_row(1), "5/3/90"]]
    with pytest.raises(InputRefused, match=r"dòng 2, cột H \(Ngày sinh\)"):
        read_rows(book(rows), "D02-TS")


def test_identity_numbers_get_their_lost_zeros_back(book: WriteBook) -> None:
    rows = [[*VNPT, "CMND/CCCD", "Giới tính"], [*_row(1, maso=123456789), 1090000001, "Nữ"]]
    read = read_rows(book(rows), "D02-TS")
    row = read.rows[0]
    assert (row.MasoBHXH, row.CMND, row.GioiTinh) == ("0123456789", "001090000001", "0")
    assert sum("Excel bỏ số 0 ở đầu" in w for w in read.warnings) == 2


def test_an_identity_number_of_the_wrong_length_is_refused(book: WriteBook) -> None:
    rows = [[*VNPT, "CMND/CCCD"], [*_row(1), "0010900000011"]]
    with pytest.raises(InputRefused, match=r"cột H \(CMND/CCCD\): có 13 chữ số"):
        read_rows(book(rows), "D02-TS")
    passport = [[*VNPT, "CMND/CCCD"], [*_row(1), "B1234567"]]
    assert read_rows(book(passport, name="p.xlsx"), "D02-TS").rows[0].CMND == "B1234567"


# --- cells that cannot be read ---------------------------------------------------------------


def test_a_formula_without_a_cached_value_is_refused_naming_the_cell(book: WriteBook) -> None:
    path = book([VNPT, _row(1, salary="=8000000+1000000")])
    with pytest.raises(InputRefused) as refused:
        read_rows(path, "D02-TS", unit="TZ1234A")
    assert (
        "trang tính 'Dữ Liệu', dòng 2, cột E (Tiền lương): ô E2 có công thức =8000000+1000000 "
        "nhưng không có giá trị đã tính" in str(refused.value)
    )
    # Once Excel has calculated and saved it, the cached value is read.
    rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("<v></v>", "<v>9000000</v>"),
    )
    assert read_rows(path, "D02-TS").rows[0].TienLuong == "9000000"


def test_an_error_value_is_refused(book: WriteBook) -> None:
    with pytest.raises(InputRefused, match=r"dòng 2, cột E \(Tiền lương\): ô E2 có lỗi #REF!"):
        read_rows(book([VNPT, _row(1, salary="#REF!")]), "D02-TS")


def test_every_cell_problem_is_listed(book: WriteBook) -> None:
    rows = [VNPT, _row(1, salary="9.000,5"), _row(2, salary="abc"), _row(3, title="")]
    with pytest.raises(InputRefused) as refused:
        read_rows(book(rows), "D02-TS")
    message = str(refused.value)
    assert "3 ô không đọc được" in message
    assert "dòng 3, cột E (Tiền lương)" in message and "dòng 4, cột D (Chức vụ)" in message


def test_a_total_allowance_is_refused_rather_than_guessed(book: WriteBook) -> None:
    rows = [[*VNPT, "Phụ cấp tính vào mức đóng"], [*_row(1), 500_000], [*_row(2), 0]]
    with pytest.raises(InputRefused, match=r"dòng 2, cột H \(Phụ cấp tính vào mức đóng\)"):
        read_rows(book(rows), "D02-TS")
    rows[1][-1] = None
    assert len(read_rows(book(rows, name="ok.xlsx"), "D02-TS").rows) == 2


def test_a_misspelt_field_is_refused_and_other_columns_are_reported(book: WriteBook) -> None:
    with pytest.raises(InputRefused, match=r"cột H \(PhuCapCVV\).*có lẽ là PhuCapCV"):
        read_rows(book([[*VNPT, "PhuCapCVV"], [*_row(1), 500_000]]), "D02-TS")
    read = read_rows(book([[*VNPT, "Phòng ban"], [*_row(1), "Kế toán"]], name="b.xlsx"), "D02-TS")
    assert "cột H ('Phòng ban') không được dùng — column H ('Phòng ban') not used" in read.warnings


def test_a_rate_stored_as_a_percentage_is_refused(book: WriteBook) -> None:
    rows = [[*VNPT, "Tỷ lệ đóng (%)"], [*_row(1), 0.32]]
    with pytest.raises(InputRefused, match=r"32% được lưu là 0\.32"):
        read_rows(book(rows), "D02-TS")


def test_an_unknown_pa_code_names_the_cell(book: WriteBook) -> None:
    row = _row(1)
    row[6] = "Tăng mới"
    with pytest.raises(InputRefused, match=r"cột G \(Mã Phương án\): mã phương án không có"):
        read_rows(book([VNPT, row]), "D02-TS")


def test_an_unquoted_comma_in_a_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(
        "HoTen,ChucVu,NoiLamViec,TienLuong,PA\nLê Hoa,Kế toán,Số 3, Phố Huế,9000000,TM\n",
        encoding="utf-8",
    )
    with pytest.raises(InputRefused, match="dòng 2: dòng có 6 ô nhưng dòng tiêu đề có 5"):
        read_rows(path, "D02-TS")


def test_rows_keep_the_worker_row_type(book: WriteBook) -> None:
    (row,) = read_rows(book([VNPT, _row(1)]), "D02-TS").rows
    assert isinstance(row, WorkerRow) and row.PA == "TM"


def test_a_workbook_written_by_openpyxl_with_dates_in_1904(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws.append(["Họ tên", "Chức vụ", "Tiền lương", "Mã Phương án", "Ngày sinh"])
    ws.append([AN, "Kế toán", 9_000_000, "TM", 31475])  # serial 31475 in 1904 = 05/03/1990
    wb.save(tmp_path / "mac.xlsx")
    assert read_rows(tmp_path / "mac.xlsx", "D02-TS").rows[0].NgaySinh == "05/03/1990"
