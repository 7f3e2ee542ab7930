"""Declarations built from rows and CSV: the real files' shape, the samples' value formats,
the defaults of fields HR data does not have, and errors naming unit, file, row and field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from bhxh.catalogue import FORM_LAYOUTS
from bhxh.errors import DossierInvalid
from bhxh.hrdata import (
    D02_FIELDS,
    D01Row,
    TK1Row,
    WorkerRow,
    build_d01ts,
    build_d02ts,
    build_d05ts,
    build_tk1ts,
    read_tk1_csv,
    read_workers_csv,
    write_demo_csv,
)
from bhxh.intake import validate_dossier
from bhxh.models import Declaration, Dossier, UnitInfo
from bhxh.xmlsafe import parse_xml

CSV = (
    "STT,HoTen,MasoBHXH,ChucVu,TienLuong,PhuCapCV,PA,CMND\n"
    "1,Nguyễn Văn An,0123456789,Kỹ sư,15000000,500000,TM,001090000001\n"
    "2,Lê Thị Hoa,,Kế toán,9000000,,TM,001190000002\n"
)


def _row(data: bytes, index: int = 0, form: str = "D02-TS") -> etree._Element:
    return parse_xml(data, expected_root=form).findall(FORM_LAYOUTS[form].row_path)[index]


# --- CSV -----------------------------------------------------------------------------------


def test_csv_with_bom_is_read_into_worker_rows() -> None:
    rows = read_workers_csv("\ufeff" + CSV)
    assert [r.HoTen for r in rows] == ["Nguyễn Văn An", "Lê Thị Hoa"]
    assert (rows[0].TienLuong, rows[0].PhuCapCV, rows[1].PhuCapCV) == ("15000000", "500000", "")
    assert rows[0] == WorkerRow(
        STT=1,
        HoTen="Nguyễn Văn An",
        MasoBHXH="0123456789",
        ChucVu="Kỹ sư",
        TienLuong=15_000_000,
        PhuCapCV=500_000,
        PA="TM",
        CMND="001090000001",
    )


def test_csv_file_is_read_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV.encode())
    assert len(read_workers_csv(path)) == 2
    assert len(read_workers_csv(str(path))) == 2


# The CSV reader is bhxh.hrdata.read_table's: refusals name the row (the line) and the
# column by its letter and header, in Vietnamese then English.


def test_csv_bad_number_names_line_and_column() -> None:
    text = CSV.replace("9000000", "9 triệu")
    with pytest.raises(
        DossierInvalid,
        match=r"row 3, column E \(TienLuong\): not an amount; read '9 triệu'; expected a whole "
        "number of VND",
    ):
        read_workers_csv(text)


def test_csv_bad_month_names_line_and_column() -> None:
    with pytest.raises(
        DossierInvalid, match=r"row 2, column E \(TuThang\): there is no month 13; read '13/2026'"
    ):
        read_workers_csv("HoTen,ChucVu,TienLuong,PA,TuThang\nA,B,1,TM,13/2026\n")


def test_csv_months_as_people_type_them_are_read() -> None:
    rows = read_workers_csv(
        "HoTen,ChucVu,TienLuong,PA,TuThang\nA,B,1,TM,2026-01\nC,D,1,TM,1/2026\nE,F,1,TM,T3/2026\n"
    )
    assert [r.TuThang for r in rows] == ["01/2026", "01/2026", "03/2026"]


def test_csv_unknown_column_is_refused() -> None:
    with pytest.raises(DossierInvalid, match=r"row 1: unknown column\(s\) E \(Luong\)"):
        read_workers_csv("HoTen,ChucVu,TienLuong,PA,Luong\n")


def test_csv_missing_required_column_is_refused() -> None:
    with pytest.raises(
        DossierInvalid, match=r"it lacks PA; expected a header row with the columns"
    ):
        read_workers_csv("HoTen,ChucVu,TienLuong\nA,B,1\n")


def test_csv_required_cell_left_empty_uses_the_portals_words() -> None:
    with pytest.raises(
        DossierInvalid, match=r"row 2, column B \(ChucVu\): required \(Không được để trống"
    ):
        read_workers_csv("HoTen,ChucVu,TienLuong,PA\nA,,1,TM\n")


def test_csv_row_of_the_wrong_width_names_the_line() -> None:
    with pytest.raises(DossierInvalid, match=r"row 2: the line has 3 cells but the header has 4"):
        read_workers_csv("HoTen,ChucVu,TienLuong,PA\nA,B,1\n")


def test_csv_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_bytes("HoTen,ChucVu,TienLuong,PA\nCafé,B,1,TM\n".encode("latin-1"))
    with pytest.raises(DossierInvalid, match=r"w.csv, row 2: the file is not UTF-8"):
        read_workers_csv(path)


# --- the shape -----------------------------------------------------------------------------


def test_d02ts_has_no_unit_header_and_starts_with_thong_tin_khac(unit: UnitInfo) -> None:
    data = build_d02ts(unit, "01/2026", read_workers_csv(CSV))
    assert data.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?><D02-TS><ThongTinKhac>'
        b"<SoToBiaSoBHXH>0</SoToBiaSoBHXH><SoToRoiSoBHXH>0</SoToRoiSoBHXH>"
        b"<SoTheBHYT>0</SoTheBHYT></ThongTinKhac><NoiDung><LaoDong><STT>1</STT>"
    )
    assert data.endswith(b"</LaoDong></NoiDung><Cky/></D02-TS>")
    for invented in (b"KyKeKhai", b"TenDonVi", b"MaDonVi", b"MaSoThue", b"CoQuanQuanLy"):
        assert invented not in data
    assert unit.code.encode() not in data and unit.tax_code.encode() not in data
    assert b"xmlns" not in data


def test_d02ts_rows_carry_all_44_fields_in_the_real_order(unit: UnitInfo) -> None:
    row = _row(build_d02ts(unit, "01/2026", read_workers_csv(CSV)), 1)
    assert [child.tag for child in row] == list(D02_FIELDS)
    assert len(D02_FIELDS) == 44
    assert row.findtext("HoTen") == "Lê Thị Hoa"
    assert row.findtext("Ghichu") == "" and row.find("Ghichu") is not None


def test_fields_hr_data_lacks_get_the_documented_defaults(unit: UnitInfo) -> None:
    with_book, without_book = (
        _row(build_d02ts(unit, "03/2026", read_workers_csv(CSV)), i) for i in (0, 1)
    )
    assert {f: with_book.findtext(f) for f in ("TinhLai", "DaCoSo", "TuThang", "ID")} == {
        "TinhLai": "0",
        "DaCoSo": "1",
        "TuThang": "03/2026",
        "ID": "0123456789",
    }
    assert (without_book.findtext("DaCoSo"), without_book.findtext("ID")) == ("0", "")
    assert [with_book.findtext(f) for f in ("TyleDong", "Loai", "CoGiamChet")] == [
        "32.0",
        "1",
        "0",
    ]
    assert [without_book.findtext(f"PhuCap{x}") for x in ("CV", "TNVK", "Bosung")] == ["0"] * 3


def test_values_are_written_in_the_samples_formats(unit: UnitInfo) -> None:
    worker = WorkerRow(
        HoTen="Phan Văn Lộc",
        ChucVu="Lái xe",
        TienLuong=" 8 500 000 ",
        PA="TM",
        TyleDong="32",
        MavungLTT="1",
        NgaySinh="3/7/1991",
        TuThang="2/2026",
        Hdld_tungay=dt.date(2026, 2, 2),
        TinhLai=True,
    )
    row = _row(build_d02ts(unit, "02/2026", [worker]))
    assert {f: row.findtext(f) for f in worker.as_dict()} == {
        "HoTen": "Phan Văn Lộc",
        "ChucVu": "Lái xe",
        "TienLuong": "8500000",
        "PA": "TM",
        "TyleDong": "32.0",
        "MavungLTT": "01",
        "NgaySinh": "03/07/1991",
        "TuThang": "02/2026",
        "Hdld_tungay": "02/02/2026",
        "TinhLai": "1",
    }


def test_thong_tin_khac_takes_the_books_and_cards_asked_for(
    unit: UnitInfo, worker: Callable[..., WorkerRow]
) -> None:
    data = build_d02ts(unit, "01/2026", [worker()], other={"SoTheBHYT": 1, "SoToRoiSoBHXH": 2})
    root = parse_xml(data)
    assert [root.findtext(f"ThongTinKhac/{f}") for f in ("SoToBiaSoBHXH", "SoToRoiSoBHXH")] == [
        "0",
        "2",
    ]
    assert root.findtext("ThongTinKhac/SoTheBHYT") == "1"


def test_rows_without_stt_are_numbered_by_position(
    unit: UnitInfo, worker: Callable[..., WorkerRow]
) -> None:
    data = build_d02ts(unit, "01/2026", [worker(), worker(MasoBHXH="1", CMND="2")])
    assert [r.findtext("STT") for r in parse_xml(data).iter("LaoDong")] == ["1", "2"]


def test_builder_refuses_a_bad_period(unit: UnitInfo) -> None:
    with pytest.raises(DossierInvalid, match="'2026-01' is not MM/yyyy"):
        build_d02ts(unit, "2026-01", [])


def test_builder_names_unit_file_row_stt_and_field(unit: UnitInfo) -> None:
    bad = [
        WorkerRow(STT=7, HoTen="A", ChucVu="B", TienLuong="mười triệu", PA="TM"),
        WorkerRow(HoTen="C", TienLuong=1, PA="TM", MavungLTT="123"),
    ]
    with pytest.raises(DossierInvalid) as info:
        build_d02ts(unit, "01/2026", bad)
    assert str(info.value) == (
        "unit TZ1234A, file D02-TS-595.xml: 3 problems: "
        "row 1 (STT 7), field TienLuong: 'mười triệu' is not a whole number of VND above 0; "
        "row 2 (STT 2), field ChucVu: required (Không được để trống); "
        "row 2 (STT 2), field MavungLTT: '123' must be a code of 2 digits, e.g. 01"
    )


def test_a_row_with_a_field_the_form_does_not_have_is_refused() -> None:
    with pytest.raises(DossierInvalid, match=r"D02-TS row: unknown field\(s\) MaTinh"):
        WorkerRow(HoTen="A", MaTinh="01")


def test_a_plain_mapping_is_a_row_too(unit: UnitInfo) -> None:
    data = build_d02ts(
        unit, "01/2026", [{"HoTen": "Lê Văn Tâm", "ChucVu": "Bảo vệ", "TienLuong": 6e6, "PA": "TM"}]
    )
    assert _row(data).findtext("TienLuong") == "6000000"
    with pytest.raises(DossierInvalid, match=r"row 1 \(STT 1\), field Luong: not a D02-TS field"):
        build_d02ts(unit, "01/2026", [{"HoTen": "A", "Luong": 1}])


def test_rows_are_values_that_read_and_replace_fields(worker: Callable[..., WorkerRow]) -> None:
    row = worker()
    changed = row.replace(HoTen="Ngô Thị Hồng")
    assert (row.HoTen, changed.HoTen, changed.PA) == ("Trần Thị Bình", "Ngô Thị Hồng", "TM")
    assert row.NoiLamViec == "" and row != changed and row == worker()
    with pytest.raises(AttributeError, match="no field 'Salary'"):
        _ = row.Salary
    with pytest.raises(AttributeError, match="immutable"):
        row.HoTen = "x"  # type: ignore[misc]


def test_tk1ts_has_the_codes_a_health_card_needs(unit: UnitInfo, today: dt.date) -> None:
    rows = read_tk1_csv(
        "HoTen,NgaySinh,GioiTinh,DanToc,Matinh_KS,Mahuyen_KS,Maxa_KS,Diachi_NN,"
        "MaTinhBenhVien,MaBenhVien\n"
        'Phạm Minh Khoa,12/03/1985,1,1,1,1,4,"Số 3, Phố Thử, Hà Nội",01,010\n'
    )
    tk1 = build_tk1ts(unit, "01/2026", rows)
    row = _row(tk1, form="TK1-TS")
    assert [child.tag for child in row] == list(FORM_LAYOUTS["TK1-TS"].row_names)
    assert {f: row.findtext(f) for f in ("DanToc", "Matinh_KS", "Mahuyen_KS", "Maxa_KS")} == {
        "DanToc": "01",
        "Matinh_KS": "01",
        "Mahuyen_KS": "001",
        "Maxa_KS": "00004",
    }
    assert (row.findtext("QuocTich"), row.findtext("Mucdong"), row.findtext("CCNS")) == (
        "VN",
        "0",
        "0",
    )
    assert row.find("PhuLuc") is not None and len(row.find("PhuLuc")) == 0  # type: ignore[arg-type]
    d05 = build_d05ts(unit, "01/2026", [{"HoTen": "Phạm Minh Khoa", "PA": "TM"}], books=1)
    assert parse_xml(d05).findtext("ThongTinKhac/SoSoBHXH") == "1"
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


def test_d01ts_lists_documents_under_bang_ke_with_xml_dates(unit: UnitInfo) -> None:
    doc = D01Row(
        HoTen="Phạm Minh Khoa",
        TenLoaiVanBan="Hợp đồng lao động",
        SoVanBan="12/2026/HĐLĐ",
        NgayBanHanh="05/01/2026",
        NgayHieuLuc=dt.date(2026, 1, 6),
    )
    root = parse_xml(build_d01ts(unit, "01/2026", [doc], attached="Bản sao hợp đồng"))
    assert [c.tag for c in root] == ["NoiDung", "Cky"]
    assert [c.tag for c in root.find("NoiDung")] == ["TenBangKe", "KemTheo", "BangKe"]  # type: ignore[union-attr]
    assert root.findtext("NoiDung/TenBangKe") == "Bảng kê thông tin"
    info = root.find("NoiDung/BangKe/ThongTin")
    assert info is not None
    assert (info.findtext("NgayBanHanh"), info.findtext("NgayHieuLuc")) == (
        "2026-01-05T00:00:00",
        "2026-01-06T00:00:00",
    )


def test_tk1_rows_keep_keyword_construction(unit: UnitInfo) -> None:
    person = TK1Row(HoTen="Vũ Thị Lan", NgaySinh="1990", GioiTinh="0", MasoBHXH="7900000001")
    row = _row(build_tk1ts(unit, "01/2026", [person]), form="TK1-TS")
    assert (row.findtext("NgaySinh"), row.findtext("ID")) == ("1990", "7900000001")


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
    assert all(len(r.MasoBHXH) == 10 and int(r.TienLuong) > 0 and r.PA == "TM" for r in rows)
    data = build_d02ts(unit, "01/2026", rows)
    dossier = Dossier(
        unit, "01/2026", "600", "demo", (Declaration("D02-TS", "D02-TS-595.xml", data),)
    )
    validate_dossier(dossier, today=today)
