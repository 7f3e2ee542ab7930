"""Declarations built from CSV rows: the header, the rows, the CSV errors, the demo data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from bhxh.declarations import (
    D02_FIELDS,
    TK1Row,
    WorkerRow,
    build_d02ts,
    build_d05ts,
    build_tk1ts,
    read_tk1_csv,
    read_workers_csv,
    write_demo_csv,
)
from bhxh.errors import DossierInvalid
from bhxh.models import Declaration, Dossier, UnitInfo
from bhxh.validation import validate_dossier
from bhxh.xmlsafe import parse_xml

CSV = (
    "STT,HoTen,MasoBHXH,ChucVu,TienLuong,PhuCapCV,PA,CMND\n"
    "1,Nguyễn Văn An,0123456789,Kỹ sư,15000000,500000,TM,001090000001\n"
    "2,Lê Thị Hoa,0123456790,Kế toán,9000000,,TM,001190000002\n"
)


def test_csv_with_bom_is_read_into_worker_rows() -> None:
    rows = read_workers_csv("\ufeff" + CSV)
    assert [r.HoTen for r in rows] == ["Nguyễn Văn An", "Lê Thị Hoa"]
    assert rows[0].TienLuong == 15_000_000 and rows[0].PhuCapCV == 500_000
    assert rows[1].PhuCapCV == 0


def test_csv_file_is_read_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV.encode())
    assert len(read_workers_csv(path)) == 2
    assert len(read_workers_csv(str(path))) == 2


def test_csv_bad_number_names_line_and_column() -> None:
    text = CSV.replace("9000000", "9 triệu")
    with pytest.raises(DossierInvalid, match=r"line 3, column TienLuong: '9 triệu' is not a whole"):
        read_workers_csv(text)


def test_csv_unknown_column_is_refused() -> None:
    with pytest.raises(DossierInvalid, match=r"line 1: unknown column\(s\) Luong"):
        read_workers_csv("HoTen,ChucVu,TienLuong,PA,Luong\n")


def test_csv_missing_required_column_is_refused() -> None:
    with pytest.raises(DossierInvalid, match=r"missing required column\(s\) PA"):
        read_workers_csv("HoTen,ChucVu,TienLuong\nA,B,1\n")


def test_csv_row_of_the_wrong_width_names_the_line() -> None:
    with pytest.raises(DossierInvalid, match=r"line 2: 3 cells, the header has 4"):
        read_workers_csv("HoTen,ChucVu,TienLuong,PA\nA,B,1\n")


def test_csv_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_bytes("HoTen,ChucVu,TienLuong,PA\nCafé,B,1,TM\n".encode("latin-1"))
    with pytest.raises(DossierInvalid, match=r"w.csv, line 2: not UTF-8"):
        read_workers_csv(path)


def test_d02ts_has_the_documented_header_and_ends_with_cky(unit: UnitInfo) -> None:
    data = build_d02ts(unit, "01/2026", read_workers_csv(CSV))
    assert data.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?><D02-TS><KyKeKhai>01/2026</KyKeKhai>'
        + "<TenDonVi>Công ty TNHH Thử Nghiệm</TenDonVi>".encode()
        + b"<MaDonVi>TZ1234A</MaDonVi><MaSoThue>0101234567</MaSoThue>"
        b"<CoQuanQuanLy>07906</CoQuanQuanLy><NoiDung><LaoDong><STT>1</STT>"
    )
    assert data.endswith(b"</NoiDung><Cky/></D02-TS>")
    assert b"xmlns" not in data


def test_d02ts_rows_carry_every_field_in_wire_order(unit: UnitInfo) -> None:
    root = parse_xml(build_d02ts(unit, "01/2026", read_workers_csv(CSV)), expected_root="D02-TS")
    rows = root.findall("NoiDung/LaoDong")
    assert [child.tag for child in rows[0]] == list(D02_FIELDS)
    assert rows[1].findtext("HoTen") == "Lê Thị Hoa"
    assert rows[1].findtext("PhuCapCV") == "0"
    assert rows[1].findtext("Ghichu") == ""


def test_rows_without_stt_are_numbered_by_position(
    unit: UnitInfo, worker: Callable[..., WorkerRow]
) -> None:
    data = build_d02ts(unit, "01/2026", [worker(), worker(MasoBHXH="1", CMND="2")])
    root = parse_xml(data)
    assert [r.findtext("STT") for r in root.iter("LaoDong")] == ["1", "2"]


def test_builder_refuses_a_bad_period(unit: UnitInfo) -> None:
    with pytest.raises(DossierInvalid, match="'2026-01' is not MM/yyyy"):
        build_d02ts(unit, "2026-01", [])


def test_csv_to_d02ts_to_validation_passes(unit: UnitInfo, today: dt.date) -> None:
    data = build_d02ts(unit, "01/2026", read_workers_csv(CSV))
    dossier = Dossier(
        unit, "01/2026", "600", "csv", (Declaration("D02-TS", "D02-TS-595.xml", data),)
    )
    validate_dossier(dossier, today=today)


def test_tk1ts_from_csv_validates_with_d05ts_for_602(unit: UnitInfo, today: dt.date) -> None:
    rows = read_tk1_csv(
        "HoTen,NgaySinh,GioiTinh,QuocTich,DanToc,MaTinh,MaHuyen,MaXa\n"
        "Phạm Minh Khoa,12/03/1985,1,VN,01,01,001,00001\n"
    )
    assert rows == [
        TK1Row(
            HoTen="Phạm Minh Khoa",
            NgaySinh="12/03/1985",
            GioiTinh="1",
            DanToc="01",
            MaTinh="01",
            MaHuyen="001",
            MaXa="00001",
        )
    ]
    tk1 = build_tk1ts(unit, "01/2026", rows)
    assert parse_xml(tk1, expected_root="TK1-TS").findtext("NoiDung/LaoDong/MaXa") == "00001"
    d05 = build_d05ts(unit, "01/2026", [{"STT": 1, "HoTen": "Phạm Minh Khoa"}])
    dossier = Dossier(
        unit,
        "01/2026",
        "602",
        "tn",
        (
            Declaration("D05-TS", "D05-TS-595.xml", d05),
            Declaration("TK1-TS", "TK1-TS-595.xml", tk1),
        ),
    )
    validate_dossier(dossier, today=today)


def test_demo_csv_is_deterministic_plausible_and_valid(
    tmp_path: Path, unit: UnitInfo, today: dt.date
) -> None:
    a = write_demo_csv(tmp_path / "a.csv", 200, seed=7)
    b = write_demo_csv(tmp_path / "b.csv", 200, seed=7)
    assert a.read_bytes() == b.read_bytes()
    assert write_demo_csv(tmp_path / "c.csv", 200, seed=8).read_bytes() != a.read_bytes()
    rows = read_workers_csv(a)
    assert len(rows) == 200
    assert len({r.MasoBHXH for r in rows}) == 200
    assert all(len(r.MasoBHXH) == 10 and r.TienLuong > 0 and r.PA == "TM" for r in rows)
    data = build_d02ts(unit, "01/2026", rows)
    dossier = Dossier(
        unit, "01/2026", "600", "demo", (Declaration("D02-TS", "D02-TS-595.xml", data),)
    )
    validate_dossier(dossier, today=today)
