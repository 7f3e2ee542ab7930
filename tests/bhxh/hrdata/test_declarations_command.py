"""``python -m bhxh.hrdata build``: the real builders, the real inbox, nothing written
when a file is refused."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from bhxh.hrdata import command, write_demo_workbook
from bhxh.intake import load_dossiers, validate_dossier
from bhxh.models import UnitInfo
from bhxh.periods import default_period
from bhxh.vntext import encode_legacy
from tests.bhxh.hrdata.conftest import WriteBook

ROOT = Path(__file__).resolve().parents[3]
UNIT = UnitInfo(
    code="TA0001A", tax_code="0101234567", name="Công ty TNHH An Phát", agency_code="07906"
)
HEADER = ("Họ và tên", "Chức vụ", "Tiền lương", "Mã Phương án", "Ngày sinh", "Giới tính")
ROWS = [
    HEADER,
    (
        unicodedata.normalize("NFD", "Nguyễn Văn An"),
        "Kế toán",
        "9.000.000 đ",
        "TM",
        "5/3/1990",
        "Nam",
    ),
    ("Trần Thị Bình", "Công nhân may", 7_500_000, "TM", "01/02/1995", "Nữ"),
]


class Ran:
    def __init__(self, status: int, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err


def _run(inbox: Path, file: Path, *extra: str, procedure: str = "600") -> Ran:
    out, err = io.StringIO(), io.StringIO()
    argv = ["build", "--unit", "TA0001A", "--procedure", procedure, "--inbox", str(inbox)]
    status = command([*argv, "--period", "01/2026", *extra, str(file)], out=out, err=err)
    return Ran(status, out.getvalue(), err.getvalue())


def test_the_module_command_writes_a_dossier_that_loads_and_validates(tmp_path: Path) -> None:
    workbook = write_demo_workbook(tmp_path / "Lương tháng 01.xlsx", 6, seed=5, period="01/2026")
    inbox = tmp_path / "inbox"
    done = subprocess.run(
        [
            sys.executable, "-m", "bhxh.hrdata", "build", "--unit", "TA0001A",
            "--tax-code", "0101234567", "--period", "01/2026", "--procedure", "600",
            "--inbox", str(inbox), str(workbook),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "D02-TS: Lương tháng 01.xlsx, trang tính 'Dữ Liệu', tiêu đề ở dòng 3" in done.stdout
    assert "6 dòng dữ liệu (data rows)" in done.stdout
    assert "cột B 'Họ và tên' -> HoTen" in done.stdout
    assert "TK1-TS: không có trong tệp, bỏ qua" in done.stdout
    folder = inbox / "TA0001A" / "01-2026" / "luong-thang-01"
    assert f"Đã đưa hồ sơ vào inbox (dossier written): {folder}" in done.stdout
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tax_code"] == "0101234567" and manifest["period"] == "01/2026"
    (dossier,) = load_dossiers(inbox, UNIT, "01/2026")
    validate_dossier(dossier, today=dt.date(2026, 2, 10))


def test_a_legacy_workbook_is_refused_and_nothing_is_written(
    tmp_path: Path, book: WriteBook
) -> None:
    rows = [*ROWS, (encode_legacy("Lê Thị Hồng", "tcvn3"), "Thủ quỹ", 8_000_000, "TM", "", "Nữ")]
    result = _run(tmp_path / "inbox", book(rows))
    assert result.status == 2
    assert result.err.startswith("Từ chối (refused): Đơn vị TA0001A, tệp luong.xlsx")
    assert "dòng 4, cột A (Họ và tên): 'Lª ThÞ Hång'" in result.err
    assert not (tmp_path / "inbox").exists()


def test_convert_legacy_prints_every_converted_cell(tmp_path: Path, book: WriteBook) -> None:
    rows = [
        *ROWS,
        (encode_legacy("Lê Thị Hồng", "vni"), encode_legacy("Thủ quỹ", "vni"), 1, "TM", "", "Nữ"),
    ]
    result = _run(tmp_path / "inbox", book(rows), "--convert-legacy")
    assert result.status == 0, result.err
    converted = [line for line in result.out.splitlines() if "đã chuyển mã" in line]
    assert len(converted) == 2 and "-> 'Lê Thị Hồng' (VNI-Windows)" in converted[0]
    xml = next((tmp_path / "inbox").rglob("D02-TS-595.xml")).read_bytes()
    assert "<HoTen>Lê Thị Hồng</HoTen>".encode() in xml
    assert "<HoTen>Nguyễn Văn An</HoTen>".encode() in xml  # NFC


def test_conversion_can_be_switched_on_by_the_setting(
    tmp_path: Path, book: WriteBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BHXH_CONVERT_LEGACY", "true")
    rows = [*ROWS, (encode_legacy("Lê Thị Hồng", "tcvn3"), "Thủ quỹ", 1, "TM", "", "Nữ")]
    assert _run(tmp_path / "inbox", book(rows)).status == 0


def test_a_formula_without_a_value_is_refused_naming_the_cell(
    tmp_path: Path, book: WriteBook
) -> None:
    rows = [*ROWS, ("Lê Hoa", "Thủ quỹ", "=C2*2", "TM", "", "Nữ")]
    result = _run(tmp_path / "inbox", book(rows))
    assert result.status == 2
    assert "dòng 4, cột C (Tiền lương): ô C4 có công thức =C2*2" in result.err
    assert not (tmp_path / "inbox").exists()


def test_the_tk1ts_comes_from_its_own_sheet(tmp_path: Path, book: WriteBook) -> None:
    tk1 = [
        ("Họ và tên", "Ngày sinh", "Giới tính", "Mã dân tộc", "Mã tỉnh khai sinh"),
        ("Trần Thị Bình", "01/02/1995", "Nữ", 1, 1),
    ]
    path = book(ROWS, extra_sheets=[("TK1-TS", tk1, False)])
    result = _run(tmp_path / "inbox", path, "--tax-code", "0101234567")
    assert result.status == 0, result.err
    assert "TK1-TS: luong.xlsx, trang tính 'TK1-TS'" in result.out
    (dossier,) = load_dossiers(tmp_path / "inbox", UNIT, "01/2026")
    assert sorted(d.form for d in dossier.declarations) == ["D02-TS", "TK1-TS"]
    tk1_xml = next(d for d in dossier.declarations if d.form == "TK1-TS").content
    assert b"<GioiTinh>0</GioiTinh><QuocTich>VN</QuocTich><DanToc>01</DanToc>" in tk1_xml


def test_a_procedure_needing_two_tables_refuses_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "d05.csv"
    path.write_text("HoTen,PA,MasoBHXH\nLê Hoa,TM,0123456789\n", encoding="utf-8")
    result = _run(tmp_path / "inbox", path, procedure="602")
    assert result.status == 2
    assert "thủ tục 602 cần tờ khai TK1-TS ở trang tính 'TK1-TS'" in result.err
    assert not (tmp_path / "inbox").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--tax-code", "01012345"), "--tax-code '01012345'"),
        (("--sheet", "Không có"), "không có trang tính 'Không có'"),
    ],
)
def test_wrong_arguments_are_refused(
    tmp_path: Path, book: WriteBook, args: tuple[str, ...], words: str
) -> None:
    result = _run(tmp_path / "inbox", book(ROWS), *args)
    assert result.status == 2 and words in result.err
    assert not (tmp_path / "inbox").exists()


def test_the_unit_code_is_written_in_capitals_and_checked(tmp_path: Path, book: WriteBook) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["build", "--unit", "ta0001a", "--procedure", "600", "--inbox", str(tmp_path / "i")]
    assert command([*argv, str(book(ROWS))], out=out, err=err) == 0, err.getvalue()
    period = default_period().replace("/", "-")  # no --period: this month in Vietnam
    assert (tmp_path / "i" / "TA0001A" / period / "luong" / "D02-TS-595.xml").exists()
    bad = command(
        ["build", "--unit", "../x", "--procedure", "600", str(book(ROWS))], out=out, err=err
    )
    assert bad == 2 and "mã đơn vị '../x' chỉ gồm chữ và số" in err.getvalue()
