"""The company workbook and the checks of a company's codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bhxh.errors import InputRefused
from bhxh.roster import (
    CompanyInvalid,
    check_agency_code,
    check_tax_code,
    check_unit_code,
    read_roster,
    unit_slug,
)
from tests.bhxh.roster.workbooks import BAD_ROWS, write_companies

PROVIDERS = {"misa": ("MISA eSign",), "vnpt": ("VNPT SmartCA",)}
CARRIERS = {"gateway": ("Gateway",), "export": ("Xuất tệp",)}


def test_forty_companies_with_three_bad_rows(tmp_path: Path) -> None:
    read = read_roster(
        write_companies(tmp_path / "don-vi.xlsx"), providers=PROVIDERS, carriers=CARRIERS
    )
    assert len(read.companies) == 37
    assert len(read.refused) == 3
    named = sorted((r.where.sheet, r.where.row, r.where.column) for r in read.refused)
    assert named == [("Đơn vị", row, col) for row, (col, _) in sorted(BAD_ROWS.items())]
    first = read.companies[0]
    assert (first.unit_code, first.tax_code, first.provider) == ("TK0001K", "0300000001", "misa")
    assert read.companies[1].provider == "vnpt"


def test_a_refusal_names_sheet_row_column_and_reason(tmp_path: Path) -> None:
    read = read_roster(
        write_companies(tmp_path / "don-vi.xlsx"), providers=PROVIDERS, carriers=CARRIERS
    )
    message = str(next(r for r in read.refused if r.where.row == 19))
    assert "trang tính 'Đơn vị', dòng 19, cột C (Mã số thuế)" in message
    assert "mã số thuế '01012345' không đúng dạng" in message


def test_passwords_are_not_read_unless_asked(tmp_path: Path) -> None:
    path = write_companies(tmp_path / "don-vi.xlsx", bad=False)
    read = read_roster(path, providers=PROVIDERS, carriers=CARRIERS)
    assert all(c.password is None for c in read.companies)
    assert any("column H (Mật khẩu) was not read" in n for n in read.notes)
    asked = read_roster(path, providers=PROVIDERS, carriers=CARRIERS, read_secrets=True)
    password = asked.companies[0].password
    assert password is not None and password.get_secret_value() == "mat-khau-bi-mat-1"
    assert "mat-khau-bi-mat-1" not in repr(asked)


def test_the_same_company_twice_is_refused_naming_the_first_row(tmp_path: Path) -> None:
    path = write_companies(tmp_path / "don-vi.xlsx", count=3, bad=False)
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet["D5"] = "TK0001K"
    book.save(path)
    read = read_roster(path, providers=PROVIDERS, carriers=CARRIERS)
    assert [c.row for c in read.companies] == [3, 4]
    assert "trùng với dòng 3" in str(read.refused[0])


def test_a_formula_without_a_value_refuses_the_file(tmp_path: Path) -> None:
    path = write_companies(tmp_path / "don-vi.xlsx", count=3, bad=False)
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet["C3"] = "=A1&B1"
    book.save(path)  # openpyxl writes no cached value
    with pytest.raises(InputRefused, match=r"cột C"):
        read_roster(path, providers=PROVIDERS, carriers=CARRIERS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0101234567", "0101234567"), ("0101234567-001", "0101234567-001"),
     ("0101234567001", "0101234567-001")],
)  # fmt: skip
def test_tax_codes(value: str, expected: str) -> None:
    assert check_tax_code(value) == expected


@pytest.mark.parametrize("value", ["010123456", "01012345678", "0101234567-01", "abc"])
def test_bad_tax_codes(value: str) -> None:
    with pytest.raises(CompanyInvalid, match="mã số thuế"):
        check_tax_code(value)


def test_unit_and_agency_codes() -> None:
    assert check_unit_code(" ta0001a ") == "TA0001A"
    assert check_unit_code("T00001X") == "T00001X"
    assert check_agency_code("7906") == "07906"
    with pytest.raises(CompanyInvalid, match="mã đơn vị"):
        check_unit_code("TA001A")
    with pytest.raises(CompanyInvalid, match="mã cơ quan BHXH"):
        check_agency_code("079060")


def test_block_names_from_company_names() -> None:
    assert unit_slug("Công ty TNHH An Phát", "TA0001A") == "an-phat"
    assert unit_slug("Công ty Cổ phần Đông Á", "TD0004D") == "dong-a"
    assert unit_slug("Công ty TNHH An Phát", "TX0009X", taken={"an-phat"}) == "an-phat-tx0009x"
