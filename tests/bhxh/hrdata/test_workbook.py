"""HR tables from workbooks and CSV: sheet and header found, formulas, merged headers,
empty rows, encodings, legacy cells refused or converted, provenance of every value."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from bhxh.errors import InputRefused
from bhxh.hrdata import HeaderNotFound, Table, parse_amount, parse_date, parse_month, read_table
from bhxh.vntext import encode_legacy
from tests.bhxh.hrdata.conftest import (
    D02_COLUMNS,
    D02_REQUIRED,
    HEADER,
    WriteBook,
    rewrite_part,
)

ROW_AN = (1, "Nguyễn Văn An", "0123456789", "Kế toán trưởng", 15_000_000, "TM", "05/03/1990")
ROW_BINH = (2, "Trần Thị Bình", "0123456790", "Công nhân may", "9.000.000", "TM", "1/2/1995")


def _read(path: Path, **kw: Any) -> Table:
    return read_table(path, D02_COLUMNS, required=D02_REQUIRED, **kw)


# --- sheet, header, rows --------------------------------------------------------------


def test_rows_carry_their_provenance(book: WriteBook) -> None:
    table = read_table(book([HEADER, ROW_AN, ROW_BINH]), D02_COLUMNS, required=D02_REQUIRED)
    assert table.sheet == "Dữ Liệu" and table.header_row == 1
    assert [c.field for c in table.columns] == [
        "STT", "HoTen", "MasoBHXH", "ChucVu", "TienLuong", "PA", "NgaySinh",
    ]  # fmt: skip
    cell = table.rows[1].cells["TienLuong"]
    assert (cell.value, cell.raw, cell.row, cell.column, cell.header) == (
        "9.000.000", "9.000.000", 3, "E", "Tiền lương",
    )  # fmt: skip
    assert (
        cell.where.describe("en")
        == "file luong.xlsx, sheet 'Dữ Liệu', row 3, column E (Tiền lương)"
    )
    assert table.rows[0].raw("TienLuong") == 15_000_000
    assert parse_amount(cell.raw, cell.where) == "9000000"
    assert table.rows[0].text("PhuCapCV") == ""  # a column the file does not have


def test_header_found_below_a_title_row(book: WriteBook) -> None:
    path = book(
        [
            ("DANH SÁCH LAO ĐỘNG THAM GIA BHXH, BHYT",),
            ("Tháng 01 năm 2026",),
            (),
            HEADER,
            ROW_AN,
        ],
        merges=["A1:G1", "A2:G2"],
    )
    table = _read(path)
    assert table.header_row == 4
    assert [r.number for r in table.rows] == [5]


def test_two_row_header_with_merged_cells(book: WriteBook) -> None:
    # Row 1: merged group titles; row 2: sub-headers; columns merged down over both rows.
    path = book(
        [
            ("STT", "Họ và tên", "Chức vụ", "Tiền lương và phụ cấp", None, "Phương án", "Ghi chú"),
            (None, None, None, "Mức lương", "Phụ cấp", None, None),
            # sub-headers under a second group: "Phụ cấp" + "Chức vụ"
            (1, "Nguyễn Văn An", "Kỹ sư", 15_000_000, 500_000, "TM", ""),
        ],
        merges=["A1:A2", "B1:B2", "C1:C2", "D1:E1", "F1:F2", "G1:G2"],
    )
    table = read_table(path, D02_COLUMNS, required=D02_REQUIRED)
    assert table.header_row == 2
    found = {c.field: (c.letter, c.header) for c in table.columns}
    assert found["HoTen"] == ("B", "Họ và tên")  # merged down: counts for its first column
    assert found["TienLuong"] == ("D", "Mức lương")
    assert found["PA"] == ("F", "Phương án")
    assert [r.text("HoTen") for r in table.rows] == ["Nguyễn Văn An"]


def test_group_title_decides_what_a_sub_header_means(book: WriteBook) -> None:
    # "Chức vụ" under "Phụ cấp" is the position allowance (PhuCapCV), not the position.
    path = book(
        [
            ("Họ và tên", "Chức vụ", "Tiền lương", "Phụ cấp", None, "PA"),
            (None, None, None, "Chức vụ", "Thâm niên nghề", None),
            ("Lê Thị Hoa", "Kế toán", 9_000_000, 700_000, 0, "TM"),
        ],
        merges=["A1:A2", "B1:B2", "C1:C2", "D1:E1", "F1:F2"],
    )
    table = read_table(path, [*D02_COLUMNS, "PhuCapTNNghe"], required=D02_REQUIRED)
    found = {c.field: c.letter for c in table.columns}
    assert found["ChucVu"] == "B" and found["PhuCapCV"] == "D" and found["PhuCapTNNghe"] == "E"
    assert table.rows[0].raw("PhuCapCV") == 700_000


def test_empty_trailing_rows_are_ignored(book: WriteBook) -> None:
    path = book([HEADER, ROW_AN, (), ROW_BINH], empty_formatted_rows=300)
    table = _read(path)
    assert [r.number for r in table.rows] == [2, 4]


def test_column_numbering_row_under_the_header_is_skipped(book: WriteBook) -> None:
    path = book([HEADER, ("(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)"), ROW_AN])
    table = _read(path)
    assert [r.number for r in table.rows] == [3]
    assert any("dòng 2 bỏ qua" in w for w in table.warnings)


def test_a_wrong_dimension_does_not_cut_the_sheet_short(book: WriteBook) -> None:
    path = book([HEADER, ROW_AN, ROW_BINH])
    rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace('<dimension ref="A1:G3"/>', '<dimension ref="A1"/>'),
    )
    assert len(_read(path).rows) == 2


def test_first_visible_sheet_with_the_header_is_chosen(book: WriteBook) -> None:
    path = book(
        [("Hướng dẫn điền biểu mẫu",), ("Điền từ dòng 2 của trang Dữ liệu",)],
        sheet="Hướng dẫn",
        extra_sheets=[("Ẩn", [HEADER, ROW_BINH], True), ("Lao động", [HEADER, ROW_AN], False)],
    )
    table = _read(path)
    assert table.sheet == "Lao động"
    assert _read(path, sheet="ẩn").sheet == "Ẩn"


def test_a_sheet_that_does_not_exist_is_refused_listing_the_sheets(book: WriteBook) -> None:
    path = book([HEADER, ROW_AN])
    with pytest.raises(InputRefused, match=r"không có trang tính 'Tháng 1'.*'Dữ Liệu'"):
        _read(path, sheet="Tháng 1")


def test_missing_required_column_is_refused_with_the_closest_header(book: WriteBook) -> None:
    path = book([("STT", "Họ và tên", "Chức vụ", "Phương án"), (1, "Lê Hoa", "Kế toán", "TM")])
    with pytest.raises(HeaderNotFound) as info:
        _read(path, unit="TZ1234A")
    message = str(info.value)
    assert "Đơn vị TZ1234A, tệp luong.xlsx" in message
    assert "dòng 1 trang 'Dữ Liệu'" in message and "thiếu TienLuong" in message
    assert "it lacks TienLuong" in message


def test_a_column_twice_is_refused(book: WriteBook) -> None:
    path = book([("Họ và tên", "Chức vụ", "Tiền lương", "PA", "Họ tên"), ("A", "B", 1, "TM", "C")])
    with pytest.raises(InputRefused, match="cột HoTen xuất hiện nhiều lần"):
        _read(path)


def test_caller_aliases_match_their_own_headers(book: WriteBook) -> None:
    path = book([("Tên NV", "Vị trí", "Lương CB", "PA"), ("Lê Hoa", "Kế toán", 9_000_000, "TM")])
    table = read_table(
        path,
        D02_COLUMNS,
        required=D02_REQUIRED,
        aliases={"HoTen": ["Tên NV"], "ChucVu": ["Vị trí"], "TienLuong": ["Lương CB"]},
    )
    assert table.rows[0].text("HoTen") == "Lê Hoa"
    assert {c.matched_by for c in table.columns} == {"alias", "name"}


def test_vnpt_import_template_columns_are_recognised(book: WriteBook) -> None:
    # FileMau_D02_TK1_VNPT.xlsx, sheet "Dữ Liệu": display names, then the element names,
    # data from row 4. Its "Phương án" is the PA's name; "Mã Phương án" is the code.
    display = (
        "ID Lao động", "Họ tên", "Mã số BHXH", "Loại khai báo", "Mã loại khai báo",
        "Phương án", "Mã Phương án", "Chức vụ", "Nơi làm việc", "Tiền lương",
    )  # fmt: skip
    codes = (
        "STT", "HoTen", "MasoBHXH", "TenLoaiKhaiBao", "Loai", "TenPhuongAn", "PA", "ChucVu",
        "NoiLamViec", "TienLuong",
    )  # fmt: skip
    data = (
        1, "Vũ Thị Mai", "0123456789", "Tăng lao động", 1, "Tăng mới", "TM", "Thủ kho", "",
        8_000_000,
    )  # fmt: skip
    path = book([display, codes, (), data])
    table = _read(path)
    assert table.template == "VNPT FileMau_D02_TK1_VNPT.xlsx"
    found = {c.field: c.letter for c in table.columns}
    assert found["PA"] == "G" and found["TienLuong"] == "J"
    assert [(r.number, r.text("PA")) for r in table.rows] == [(4, "TM")]
    assert any("cột F" in w and "không được dùng" in w for w in table.warnings)


# --- formulas, errors, package ---------------------------------------------------------


def test_formula_without_a_cached_value_is_refused_naming_sheet_and_cell(book: WriteBook) -> None:
    # openpyxl writes formulas without calculating them: exactly a never-calculated file.
    path = book([HEADER, (1, "Nguyễn Văn An", "0123456789", "Kỹ sư", "=12000000*1.1", "TM")])
    with pytest.raises(InputRefused) as info:
        _read(path)
    message = str(info.value)
    assert "trang tính 'Dữ Liệu', dòng 2, cột E (Tiền lương)" in message
    assert "ô E2 có công thức =12000000*1.1 nhưng không có giá trị đã tính" in message
    assert "cell E2 holds the formula =12000000*1.1 but no calculated value" in message


def test_formula_is_read_as_its_cached_value(book: WriteBook) -> None:
    path = book([HEADER, (1, "Nguyễn Văn An", "0123456789", "Kỹ sư", "=12000000*1.1", "TM")])
    rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("<f>12000000*1.1</f><v></v>", "<f>12000000*1.1</f><v>13200000</v>"),
    )
    assert _read(path).rows[0].raw("TienLuong") == 13_200_000


def test_formula_in_a_column_not_read_does_not_matter(book: WriteBook) -> None:
    path = book([(*HEADER, "Tổng"), (*ROW_AN, "=E2*2")])
    assert len(_read(path).rows) == 1


def test_error_value_is_refused(book: WriteBook) -> None:
    path = book([HEADER, (1, "Nguyễn Văn An", "0123456789", "Kỹ sư", "#REF!", "TM")])
    with pytest.raises(InputRefused, match="ô E2 có lỗi #REF!"):
        _read(path)


def test_dates_and_numbers_keep_their_excel_types(book: WriteBook) -> None:
    path = book(
        [(*HEADER, "Từ tháng"), (*ROW_AN[:6], dt.datetime(1990, 3, 5), dt.datetime(2026, 1, 1))]
    )
    row = _read(path).rows[0]
    assert row.text("NgaySinh") == "05/03/1990"
    assert parse_date(row.raw("NgaySinh")) == "05/03/1990"
    assert parse_month(row.raw("TuThang")) == "01/2026"


def test_row_readers_give_the_declaration_strings_and_name_the_cell(book: WriteBook) -> None:
    path = book([(*HEADER, "Từ tháng"), (*ROW_BINH, dt.datetime(2026, 1, 1))])
    row = _read(path).rows[0]
    assert (row.amount("TienLuong"), row.month("TuThang"), row.date("NgaySinh")) == (
        "9000000", "01/2026", "01/02/1995",
    )  # fmt: skip
    assert row.digits("MasoBHXH", (10,)) == "0123456790"
    assert row.amount("PhuCapCV") == ""  # a column the file does not have
    with pytest.raises(InputRefused, match=r"dòng 2, cột D \(Chức vụ\)"):
        row.amount("ChucVu")


def test_a_1904_workbook_counts_serials_from_1904(tmp_path: Path) -> None:
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    assert ws is not None
    ws.append(("Họ và tên", "Chức vụ", "Tiền lương", "PA", "Ngày sinh"))
    ws.append(("Lê Hoa", "Kế toán", 1, "TM", 31412))  # a number cell: a serial
    wb.save(tmp_path / "mac.xlsx")
    table = _read(tmp_path / "mac.xlsx")
    assert table.date1904 and table.rows[0].date("NgaySinh") == "01/01/1990"


def test_old_xls_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "luong.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(InputRefused, match=r"\.xls.*Excel Workbook \(\.xlsx\)"):
        _read(path)


def test_a_file_named_xlsx_that_is_not_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "luong.xlsx"
    path.write_text("HoTen,ChucVu\n", encoding="utf-8")
    with pytest.raises(InputRefused, match="không phải tệp Excel"):
        _read(path)


def test_dtd_markup_inside_the_package_is_refused(book: WriteBook) -> None:
    path = book([HEADER, ROW_AN])
    rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: '<!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml,
    )
    with pytest.raises(InputRefused, match="DOCTYPE/ENTITY"):
        _read(path)


# --- text: NFC, control characters, duplicates ----------------------------------------


def test_decomposed_names_are_read_precomposed_and_found_twice(book: WriteBook) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    path = book(
        [
            HEADER,
            (1, "Nguyễn Văn An", "", "Kỹ sư", 9_000_000, "TM", "05/03/1990"),
            (2, f"  {nfd}\u00a0", "", "Kỹ sư", 9_000_000, "TM", "05/03/1990"),
            (3, "Nguyễn Văn Ân", "", "Kỹ sư", 9_000_000, "TM", "05/03/1990"),
        ]
    )
    table = _read(path)
    assert [r.text("HoTen") for r in table.rows] == [
        "Nguyễn Văn An", "Nguyễn Văn An", "Nguyễn Văn Ân",
    ]  # fmt: skip
    pairs = table.duplicates("HoTen", "NgaySinh")
    assert [(a.number, b.number) for a, b in pairs] == [(2, 3)]


def test_control_character_in_a_cell_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "luong.csv"
    path.write_text("Họ và tên,Chức vụ,Tiền lương,PA\nNguyễn\x07Văn An,Kỹ sư,1,TM\n", "utf-8")
    with pytest.raises(InputRefused, match=r"dòng 2, cột A.*U\+0007"):
        _read(path)


# --- legacy encodings -----------------------------------------------------------------


def _legacy_rows(encoding: str) -> list[tuple[object, ...]]:
    def enc(text: str) -> str:
        return encode_legacy(text, encoding)  # type: ignore[arg-type]

    return [
        (enc("STT"), enc("Họ và tên"), enc("Chức vụ"), enc("Tiền lương"), "PA"),
        (1, enc("Nguyễn Văn An"), enc("Kế toán trưởng"), 15_000_000, "TM"),
        (2, enc("Trần Thị Bình"), enc("Công nhân may"), 9_000_000, "TM"),
        (3, enc("Phạm Thị Thu Hường"), enc("Thủ kho"), 8_000_000, "TM"),
    ]


@pytest.mark.parametrize(("encoding", "name"), [("tcvn3", "TCVN3 (ABC)"), ("vni", "VNI-Windows")])
def test_legacy_rows_are_refused_naming_file_row_column_and_encoding(
    book: WriteBook, encoding: str, name: str
) -> None:
    path = book(_legacy_rows(encoding))
    with pytest.raises(InputRefused) as info:
        _read(path, unit="TZ1234A")
    message = str(info.value)
    assert f"bảng mã cũ {name}" in message and f"legacy encoding {name}" in message
    assert (
        "Đơn vị TZ1234A, tệp luong.xlsx, trang tính 'Dữ Liệu', dòng 2, cột B (Họ và tên)" in message
    )
    assert "probably 'Nguyễn Văn An'" in message
    assert "--convert-legacy" in message


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_legacy_rows_are_converted_on_request_and_every_cell_reported(
    book: WriteBook, encoding: str
) -> None:
    path = book(_legacy_rows(encoding))
    table = _read(path, convert_legacy=True)
    rows = table.rows
    assert [(r.text("HoTen"), r.text("ChucVu")) for r in rows] == [
        ("Nguyễn Văn An", "Kế toán trưởng"),
        ("Trần Thị Bình", "Công nhân may"),
        ("Phạm Thị Thu Hường", "Thủ kho"),
    ]
    conversions = table.conversions
    assert {(c.where.row, c.where.column) for c in conversions} >= {
        (2, "B"), (2, "C"), (3, "B"), (3, "C"), (4, "B"),
    }  # fmt: skip
    assert all(c.encoding == encoding for c in conversions)
    assert rows[0].cells["HoTen"].raw == encode_legacy("Nguyễn Văn An", encoding)  # type: ignore[arg-type]


def test_a_cell_both_encodings_explain_takes_the_file_encoding(book: WriteBook) -> None:
    # "Thuû kho" is VNI "Thủ kho" and TCVN3 "Thuỷ kho"; the other cells are VNI.
    assert encode_legacy("Thủ kho", "vni") == "Thuû kho"
    path = book(_legacy_rows("vni"))
    table = _read(path, convert_legacy=True)
    assert table.rows[2].text("ChucVu") == "Thủ kho"


def test_a_cell_no_other_cell_settles_is_refused_even_with_conversion(book: WriteBook) -> None:
    path = book([HEADER[:6], (1, "Lê Hoa", "", "Thuû kho", 8_000_000, "TM")])
    with pytest.raises(InputRefused, match="không rõ là TCVN3 hay VNI"):
        _read(path, convert_legacy=True)


def test_a_legacy_cell_that_reads_as_vietnamese_both_ways_is_pointed_out(
    book: WriteBook,
) -> None:
    # VNI "Hoà Thò An" is "Hồ Thị An", and also reads as (odd) Vietnamese as it is.
    rows = _legacy_rows("vni")
    rows.append((4, encode_legacy("Hồ Thị An", "vni"), encode_legacy("Lái xe", "vni"), 1, "TM"))
    table = _read(book(rows), convert_legacy=True)
    assert table.rows[3].text("HoTen") == "Hoà Thò An"  # not converted: no proof
    assert any("dòng 5, cột B" in w and "'Hồ Thị An'" in w for w in table.warnings)


# --- CSV ------------------------------------------------------------------------------

CSV = 'STT,Họ và tên,Chức vụ,Tiền lương,PA\n1,Nguyễn Văn An,Kỹ sư,"9.000.000",TM\n\n\n'


def test_csv_with_bom_and_without(tmp_path: Path) -> None:
    for name, data in (("bom.csv", b"\xef\xbb\xbf" + CSV.encode()), ("plain.csv", CSV.encode())):
        path = tmp_path / name
        path.write_bytes(data)
        table = _read(path)
        assert table.sheet is None and table.delimiter == ","
        row = table.rows[0]
        assert row.text("HoTen") == "Nguyễn Văn An"
        assert (row.number, row.cells["TienLuong"].column) == (2, "D")


def test_content_given_as_bytes_is_read_like_a_file(book: WriteBook) -> None:
    csv_table = read_table(CSV.encode(), D02_COLUMNS, required=D02_REQUIRED)
    assert csv_table.file == "CSV" and csv_table.rows[0].text("HoTen") == "Nguyễn Văn An"
    data = book([HEADER, ROW_AN]).read_bytes()
    xlsx = read_table(data, D02_COLUMNS, required=D02_REQUIRED, name="tai-len.xlsx")
    assert xlsx.file == "tai-len.xlsx" and xlsx.rows[0].cells["HoTen"].where.sheet == "Dữ Liệu"


def test_csv_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "luong.csv"
    path.write_text(CSV.replace(",", ";"), encoding="utf-8")
    table = _read(path)
    assert table.delimiter == ";" and table.rows[0].text("TienLuong") == "9.000.000"


def test_non_utf8_csv_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "luong.csv"
    path.write_bytes(CSV.encode("cp1258", errors="replace"))
    with pytest.raises(InputRefused) as info:
        _read(path, unit="TZ1234A")
    message = str(info.value)
    assert "Đơn vị TZ1234A, tệp luong.csv, dòng 1:" in message  # the header is not UTF-8
    assert "không phải UTF-8" in message and "CSV UTF-8" in message


def test_utf16_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "luong.csv"
    path.write_bytes(CSV.encode("utf-16"))
    with pytest.raises(InputRefused, match="UTF-16"):
        _read(path)


def test_tcvn3_csv_rows_are_refused_then_converted(tmp_path: Path) -> None:
    path = tmp_path / "luong.csv"
    path.write_text(
        "Họ và tên,Chức vụ,Tiền lương,PA\n"
        + f"{encode_legacy('Lê Thị Ánh', 'tcvn3')},{encode_legacy('Kế toán', 'tcvn3')},1,TM\n",
        encoding="utf-8",
    )
    with pytest.raises(InputRefused, match=r"tệp luong\.csv, dòng 2, cột A"):
        _read(path)
    table = _read(path, convert_legacy=True)
    assert table.rows[0].text("HoTen") == "Lê Thị Ánh"
    assert len(table.conversions) == 2
