"""Invented, plausible D02-TS rows for the demo and the benchmarks: names, jobs, salaries
and dates of people who do not exist, written as a CSV or an Excel workbook.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from bhxh.intake import validate_period

__all__ = [
    "write_demo_csv",
    "write_demo_workbook",
]

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
_MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thành")
_MIDDLE_F = ("Thị", "Ngọc", "Thu", "Thanh", "Bảo", "Khánh", "Mỹ")
_GIVEN_M = ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Tuấn")
_GIVEN_F = ("Anh", "Châu", "Dung", "Hà", "Hạnh", "Hoa", "Lan", "Linh", "Mai", "Trang", "Yến")
_JOBS = (
    "Nhân viên kế toán",
    "Nhân viên kinh doanh",
    "Kỹ sư phần mềm",
    "Công nhân sản xuất",
    "Trưởng phòng hành chính",
    "Nhân viên kho",
    "Lái xe",
)
_PLACES = ("Văn phòng chính", "Xưởng sản xuất", "Kho hàng", "Chi nhánh")
#: The columns :func:`write_demo_csv` writes (what an HR export typically has).
DEMO_COLUMNS: Sequence[str] = (
    "STT",
    "HoTen",
    "MasoBHXH",
    "ChucVu",
    "NoiLamViec",
    "TienLuong",
    "PhuCapCV",
    "TuThang",
    "PA",
    "TyleDong",
    "MavungLTT",
    "NgaySinh",
    "GioiTinh",
    "CMND",
    "Hdld_tungay",
)


def _demo_rows(n_workers: int, seed: int, period: str) -> list[dict[str, object]]:
    """``n_workers`` invented but plausible D02-TS rows (the same seed, the same rows)."""
    if n_workers < 0:
        raise ValueError("n_workers must be >= 0")
    month, year = validate_period(period)
    rng = random.Random(seed)
    used_bhxh: set[str] = set()
    used_cmnd: set[str] = set()

    def unique(digits: int, used: set[str]) -> str:
        while True:
            value = "".join(rng.choice("0123456789") for _ in range(digits))
            if value not in used:
                used.add(value)
                return value

    rows: list[dict[str, object]] = []
    for i in range(1, n_workers + 1):
        male = rng.random() < 0.5
        name = " ".join(
            (
                rng.choice(_FAMILY),
                rng.choice(_MIDDLE_M if male else _MIDDLE_F),
                rng.choice(_GIVEN_M if male else _GIVEN_F),
            )
        )
        born = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1970, 2004)}"
        rows.append(
            {
                "STT": i,
                "HoTen": name,
                "MasoBHXH": unique(10, used_bhxh),
                "ChucVu": rng.choice(_JOBS),
                "NoiLamViec": rng.choice(_PLACES),
                "TienLuong": rng.randrange(5_000_000, 40_000_001, 100_000),
                "PhuCapCV": rng.choice((0, 0, 0, 500_000, 1_000_000)),
                "TuThang": f"{month:02d}/{year}",
                "PA": "TM",
                "TyleDong": "32.0",
                "MavungLTT": "01",
                "NgaySinh": born,
                "GioiTinh": "1" if male else "0",
                "CMND": unique(12, used_cmnd),
                "Hdld_tungay": f"01/{month:02d}/{year}",
            }
        )
    return rows


def write_demo_csv(
    path: str | Path, n_workers: int, seed: int = 0, *, period: str = "01/2026"
) -> Path:
    """Write ``n_workers`` invented but plausible D02-TS rows (all ``PA=TM``) as a UTF-8 CSV.

    Names come from a small built-in list; MasoBHXH (10 digits) and CMND (12 digits) are
    random and unique within the file. The same seed gives the same file.

    Example:
        >>> rows = read_workers_csv(write_demo_csv(tmp / "workers.csv", 3, seed=1))
    """
    rows = _demo_rows(n_workers, seed, period)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(DEMO_COLUMNS)
        for row in rows:
            writer.writerow([row[c] for c in DEMO_COLUMNS])
    return p


#: The demo workbook's headers: the VNPT I-VAN import template's names where it has the
#: column, common Vietnamese headers elsewhere (see :mod:`bhxh.hrdata`).
DEMO_WORKBOOK_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "STT": "STT",
        "HoTen": "Họ và tên",
        "MasoBHXH": "Mã số BHXH",
        "ChucVu": "Chức vụ",
        "NoiLamViec": "Nơi làm việc",
        "TienLuong": "Tiền lương",
        "PhuCapCV": "Phụ cấp chức vụ",
        "TuThang": "Từ tháng",
        "PA": "Mã Phương án",
        "TyleDong": "Tỷ lệ đóng (%)",
        "MavungLTT": "Mã vùng lương tối thiểu",
        "NgaySinh": "Ngày sinh",
        "GioiTinh": "Giới tính",
        "CMND": "CMND/CCCD",
        "Hdld_tungay": "Ngày bắt đầu HĐLĐ",
    }
)


def write_demo_workbook(
    path: str | Path,
    n_workers: int,
    seed: int = 0,
    *,
    period: str = "01/2026",
    title: str = "",
) -> Path:
    """Write the rows :func:`write_demo_csv` writes for the same seed as an Excel workbook
    shaped like an HR export: a title above the header, Vietnamese headers, the row of
    column numbers official forms carry, salaries as number cells with thousands
    separators, months and dates as date cells, ``Giới tính`` as ``Nam`` / ``Nữ``,
    ``Mã số BHXH`` as number cells (Excel drops the leading zero; the reader puts it back)
    and every other name in decomposed Unicode, as a Mac writes it.

    Read back with :func:`read_rows`, it gives the same rows as the CSV.
    """
    import unicodedata

    import openpyxl

    rows = _demo_rows(n_workers, seed, period)
    month, year = validate_period(period)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Dữ Liệu"
    width = len(DEMO_COLUMNS)
    ws.append([title or f"DANH SÁCH LAO ĐỘNG THAM GIA BHXH, BHYT, BHTN — THÁNG {month:02d}/{year}"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.append([])
    ws.append([DEMO_WORKBOOK_HEADERS[c] for c in DEMO_COLUMNS])
    ws.append([f"({i})" for i in range(1, width + 1)])

    def day(text: object) -> dt.datetime:
        d, m, y = (int(part) for part in str(text).split("/"))
        return dt.datetime(y, m, d)

    for index, row in enumerate(rows):
        cells: dict[str, object] = dict(row)
        if index % 2:
            cells["HoTen"] = unicodedata.normalize("NFD", str(row["HoTen"]))
        cells["MasoBHXH"] = int(str(row["MasoBHXH"]))
        cells["TuThang"] = day(f"01/{row['TuThang']}")
        cells["NgaySinh"] = day(row["NgaySinh"])
        cells["Hdld_tungay"] = day(row["Hdld_tungay"])
        cells["GioiTinh"] = "Nam" if row["GioiTinh"] == "1" else "Nữ"
        cells["TyleDong"] = 32
        cells["MavungLTT"] = 1
        ws.append([cells[c] for c in DEMO_COLUMNS])
        line = ws.max_row
        for name, number_format in (
            ("TienLuong", "#,##0"),
            ("PhuCapCV", "#,##0"),
            ("MasoBHXH", "0000000000"),
            ("TuThang", "mm/yyyy"),
            ("NgaySinh", "dd/mm/yyyy"),
            ("Hdld_tungay", "dd/mm/yyyy"),
        ):
            ws.cell(line, DEMO_COLUMNS.index(name) + 1).number_format = number_format
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb.save(p)
    return p
