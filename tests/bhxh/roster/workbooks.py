"""Company workbooks for the tests: forty companies, some rows deliberately wrong."""

from __future__ import annotations

from pathlib import Path

import openpyxl

HEADER = [
    "STT",
    "Tên đơn vị",
    "Mã số thuế",
    "Mã đơn vị",
    "Mã cơ quan BHXH",
    "Nhà cung cấp ký số",
    "Tài khoản ký số",
    "Mật khẩu",
    "Người ký",
]

#: Row (1-based in the sheet) -> what is wrong there, for the 40-company workbook.
BAD_ROWS = {
    7: ("D", "TA00X5A"),  # the unit code: a letter among the digits
    19: ("C", "01012345"),  # the tax code: 8 digits
    33: ("F", "Viettel CA"),  # a provider nobody registered
}


def company(i: int) -> list[object]:
    return [
        i,
        f"Công ty TNHH Thử Nghiệm Số {i}",
        f"03{i:08d}",  # not 01...: demo.scenario.many_units' tax codes, saved by other tests
        f"TK{i:04d}K",
        "07906",
        "MISA eSign" if i % 2 else "vnpt",
        f"ketoan{i}@example.vn",
        f"mat-khau-bi-mat-{i}",
        "Nguyễn Thị Thu Hà",
    ]


def write_companies(path: Path, count: int = 40, *, bad: bool = True) -> Path:
    """A workbook of ``count`` companies on sheet 'Đơn vị' (title row, then the header on
    row 2); with ``bad``, the cells of :data:`BAD_ROWS` are spoiled."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Đơn vị"
    sheet.append(["DANH SÁCH ĐƠN VỊ KHÁCH HÀNG"])
    sheet.append(HEADER)
    for i in range(1, count + 1):
        sheet.append(company(i))
    if bad:
        for row, (column, value) in BAD_ROWS.items():
            sheet[f"{column}{row}"] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
