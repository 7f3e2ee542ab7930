"""The build command: an HR workbook into a dossier in the inbox, with stand-in builders
(the real D02-TS / TK1-TS builders are plugged in by the caller)."""

from __future__ import annotations

import datetime as dt
import io
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from bhxh.errors import DossierInvalid
from bhxh.hrdata import FormSpec, Table, main
from bhxh.models import Dossier, UnitInfo
from bhxh.vntext import encode_legacy
from tests.bhxh.hrdata.conftest import WriteBook

UNIT = UnitInfo(code="TZ1234A", tax_code="0101234567", name="Công ty TNHH Thử", agency_code="07906")
HEADER = ("STT", "Họ và tên", "Chức vụ", "Tiền lương", "Từ tháng", "Phương án", "Ngày sinh")
NFD_AN = unicodedata.normalize("NFD", "Nguyễn Văn An")


def standin_d02(table: Table, unit: UnitInfo, period: str) -> bytes:
    """A stand-in for the D02-TS builder: one LaoDong per row, values parsed as typed."""
    root = etree.Element("D02-TS")
    etree.SubElement(root, "KyKeKhai").text = period
    etree.SubElement(root, "MaDonVi").text = unit.code
    content = etree.SubElement(root, "NoiDung")
    for i, row in enumerate(table.rows, start=1):
        el = etree.SubElement(content, "LaoDong")
        for tag, value in (
            ("STT", str(i)),
            ("HoTen", row.text("HoTen")),
            ("ChucVu", row.text("ChucVu")),
            ("TienLuong", row.amount("TienLuong")),
            ("TuThang", row.month("TuThang")),
            ("PA", row.text("PA")),
        ):
            etree.SubElement(el, tag).text = value or None
    etree.SubElement(root, "Cky")
    return b'<?xml version="1.0" encoding="UTF-8"?>' + etree.tostring(root, encoding="UTF-8")


def standin_tk1(table: Table, unit: UnitInfo, period: str) -> bytes:
    root = etree.Element("TK1-TS")
    content = etree.SubElement(root, "NoiDung")
    for row in table.rows:
        etree.SubElement(etree.SubElement(content, "LaoDong"), "HoTen").text = row.text("HoTen")
    etree.SubElement(root, "Cky")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


D02 = FormSpec(
    form="D02-TS",
    filename="D02-TS-595.xml",
    columns=("STT", "HoTen", "ChucVu", "TienLuong", "TuThang", "PA", "NgaySinh"),
    required=("HoTen", "ChucVu", "TienLuong", "PA"),
    build=standin_d02,
    duplicate_columns=(("HoTen", "NgaySinh"),),
)
TK1 = FormSpec(
    form="TK1-TS",
    filename="TK1-TS-595.xml",
    columns=("HoTen", "NgaySinh", "GioiTinh", "QuocTich"),
    required=("HoTen", "NgaySinh", "GioiTinh", "QuocTich"),
    build=standin_tk1,
    optional=True,
)


class Run:
    def __init__(self, status: int, out: str, err: str, validated: list[Dossier]) -> None:
        self.status, self.out, self.err, self.validated = status, out, err, validated


Runner = Callable[..., Run]


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    def call(
        file: Path,
        *extra: str,
        period: str = "01/2026",
        forms: object = None,
        validate: object = (),
    ) -> Run:
        out, err = io.StringIO(), io.StringIO()
        validated: list[Dossier] = []
        status = main(
            [
                "build",
                "--unit",
                "an-phat",
                "--period",
                period,
                "--procedure",
                "600",
                "--inbox",
                str(tmp_path / "inbox"),
                str(file),
                *extra,
            ],
            forms=forms or {"600": [D02, TK1]},  # type: ignore[arg-type]
            resolve_unit={"an-phat": UNIT}.__getitem__,
            validate=validated.append if validate == () else validate,  # type: ignore[arg-type]
            out=out,
            err=err,
        )
        return Run(status, out.getvalue(), err.getvalue(), validated)

    return call


def _rows() -> list[tuple[object, ...]]:
    return [
        HEADER,
        (1, NFD_AN, "Kế toán trưởng", "15.000.000 đ", dt.datetime(2026, 1, 1), "TM", "05/03/1990"),
        (2, "Trần Thị Bình", "Công nhân may", 9_000_000, "1/2026", "TM", "01/02/1995"),
    ]


def test_build_writes_the_dossier_into_the_inbox_and_prints_what_it_read(
    run, book: WriteBook, tmp_path: Path
) -> None:
    result = run(book(_rows(), name="Lương tháng 01.xlsx"))
    assert result.status == 0, result.err
    assert "D02-TS: Lương tháng 01.xlsx, trang tính 'Dữ Liệu', tiêu đề ở dòng 1" in result.out
    assert "2 dòng dữ liệu (data rows)" in result.out
    assert "cột B 'Họ và tên' -> HoTen" in result.out
    assert "TK1-TS: không có trong tệp, bỏ qua" in result.out
    folder = tmp_path / "inbox" / "TZ1234A" / "01-2026" / "luong-thang-01"
    assert f"Đã đưa hồ sơ vào inbox (dossier written): {folder}" in result.out
    xml = (folder / "D02-TS-595.xml").read_bytes()
    assert "<HoTen>Nguyễn Văn An</HoTen>".encode() in xml  # NFC bytes, 13 code points
    assert b"<TienLuong>15000000</TienLuong>" in xml and b"<TuThang>01/2026</TuThang>" in xml
    assert json.loads((folder / "manifest.json").read_text())["procedure"] == "600"
    assert [d.filename for d in result.validated[0].declarations] == ["D02-TS-595.xml"]


def test_optional_form_is_built_from_its_own_sheet(
    run: Runner, book: WriteBook, tmp_path: Path
) -> None:
    tk1 = [("Họ và tên", "Ngày sinh", "Giới tính", "Quốc tịch"), ("Lê Hoa", "01/02/1995", 0, "VN")]
    path = book(_rows(), extra_sheets=[("TK1-TS", tk1, False)])
    result = run(path)
    assert result.status == 0, result.err
    assert "TK1-TS: luong.xlsx, trang tính 'TK1-TS'" in result.out
    folder = tmp_path / "inbox" / "TZ1234A" / "01-2026" / "luong"
    assert sorted(p.name for p in folder.iterdir()) == [
        "D02-TS-595.xml", "TK1-TS-595.xml", "manifest.json",
    ]  # fmt: skip


def test_legacy_file_is_refused_and_nothing_is_written(
    run, book: WriteBook, tmp_path: Path
) -> None:
    rows = _rows()
    rows[2] = (2, encode_legacy("Trần Thị Bình", "tcvn3"), "Công nhân may", 1, "1/2026", "TM")
    result = run(book(rows))
    assert result.status == 2
    assert result.err.startswith("Từ chối (refused): Đơn vị TZ1234A, tệp luong.xlsx")
    assert "dòng 3, cột B (Họ và tên): 'TrÇn ThÞ B×nh'" in result.err
    assert "TCVN3 (ABC)" in result.err
    assert not (tmp_path / "inbox").exists() and result.validated == []


def test_convert_legacy_converts_and_reports_every_cell(
    run, book: WriteBook, tmp_path: Path
) -> None:
    rows = _rows()
    rows[2] = (
        2,
        encode_legacy("Trần Thị Bình", "vni"),
        encode_legacy("Thủ kho", "vni"),
        1,
        "1/2026",
        "TM",
    )
    result = run(book(rows), "--convert-legacy")
    assert result.status == 0, result.err
    converted = [line for line in result.out.splitlines() if "đã chuyển mã" in line]
    assert len(converted) == 2
    assert (
        "dòng 3, cột B (Họ và tên): 'Traàn Thò Bình' -> 'Trần Thị Bình' (VNI-Windows)"
        in converted[0]
    )
    xml = (tmp_path / "inbox" / "TZ1234A" / "01-2026" / "luong" / "D02-TS-595.xml").read_bytes()
    assert "<ChucVu>Thủ kho</ChucVu>".encode() in xml


def test_a_value_the_builder_refuses_names_unit_and_cell(
    run, book: WriteBook, tmp_path: Path
) -> None:
    rows = _rows()
    rows[2] = (2, "Trần Thị Bình", "Công nhân may", "9.000,5", "1/2026", "TM")
    result = run(book(rows))
    assert result.status == 2
    assert (
        "Đơn vị TZ1234A, tệp luong.xlsx, trang tính 'Dữ Liệu', dòng 3, cột D (Tiền lương): "
        "số tiền có phần lẻ" in result.err
    )
    assert not (tmp_path / "inbox").exists()


def test_a_dossier_that_fails_validation_is_not_written(
    run, book: WriteBook, tmp_path: Path
) -> None:
    def refuse(dossier: Dossier) -> None:
        raise DossierInvalid(f"unit {dossier.unit.code}, dossier {dossier.name}: TienLuong ...")

    result = run(book(_rows()), validate=refuse)
    assert result.status == 2 and "dossier luong: TienLuong" in result.err
    assert not (tmp_path / "inbox").exists()


def test_dry_run_reads_and_checks_only(run: Runner, book: WriteBook, tmp_path: Path) -> None:
    result = run(book(_rows()), "--dry-run")
    assert result.status == 0 and "dry run, nothing written" in result.out
    assert len(result.validated) == 1 and not (tmp_path / "inbox").exists()


def test_same_worker_twice_is_reported(run: Runner, book: WriteBook) -> None:
    rows = [*_rows(), (3, "NGUYỄN VĂN AN", "Kỹ sư", 1, "1/2026", "TM", "5/3/1990")]
    result = run(book(rows), "--dry-run")
    assert "dòng 4 trùng dòng 2 theo HoTen, NgaySinh" in result.out


@pytest.mark.parametrize(
    ("args", "period", "message"),
    [
        ((), "13/2026", "--period '13/2026'"),
        (("--sheet", "Không có"), "01/2026", "không có trang tính 'Không có'"),
    ],
)
def test_wrong_arguments_are_refused(
    run: Runner, book: WriteBook, args: tuple[str, ...], period: str, message: str
) -> None:
    result = run(book(_rows()), *args, period=period)
    assert result.status == 2 and message in result.err


def test_a_procedure_without_builders_is_refused(run: Runner, book: WriteBook) -> None:
    result = run(book(_rows()), forms={"602": [D02]})
    assert result.status == 2 and "thủ tục 600 chưa lập được từ tệp" in result.err


def test_period_typed_m_yyyy_is_accepted(run: Runner, book: WriteBook, tmp_path: Path) -> None:
    assert run(book(_rows()), period="1/2026").status == 0
    assert (tmp_path / "inbox" / "TZ1234A" / "01-2026" / "luong" / "D02-TS-595.xml").exists()
