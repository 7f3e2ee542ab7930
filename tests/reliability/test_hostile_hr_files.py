"""Hostile and broken HR files, end to end: ``python -m bhxh.hrdata build`` (its
``command``) then ``sign_and_submit`` on the sandbox.

Every refused file must name the unit, the file (and the sheet, row and column when the
problem is a cell), exit 2, and leave the inbox, the dossier store and the outbox as they
were; the run that follows asks the phone for nothing. A declaration in the inbox typed in
a legacy encoding is refused by the run before any approval; with the manifest's
``convert_legacy`` it is converted and goes through, and so does a genuine workbook with
decomposed names. Unit-level cases live in tests/bhxh/hrdata.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import unicodedata
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import bhxh.hrdata.table
from bhxh.hrdata import (
    build_d02ts,
    command,
    read_workers_csv,
    write_demo_csv,
    write_demo_workbook,
)
from bhxh.intake import period_folder, write_dossier
from bhxh.pipeline import Step
from bhxh.vntext import encode_legacy
from demo.scenario import DemoUnit, Scenario, many_units
from flows import sign_and_submit
from sandbox.config import Sandbox, start_sandbox
from tests.bhxh.hrdata.conftest import rewrite_part, write_book
from tests.reliability.conftest import World, prime_units

HR_PERIOD = "07/2025"
HEADER = ("STT", "Họ và tên", "Mã số BHXH", "Chức vụ", "Tiền lương", "Mã Phương án")


@dataclass
class HrWorld:
    world: World
    unit: DemoUnit
    files: Path  # where the HR files are written, outside the inbox

    @property
    def data_dir(self) -> Path:
        return self.world.scenario.data_dir


@pytest.fixture(scope="module")
def hr_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("hostile-hr") / "var"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BHXH_DATA_DIR", str(data_dir))
        mp.setenv("BHXH_POLL_INITIAL_SECONDS", "0.2")
        mp.setenv("BHXH_POLL_MAX_SECONDS", "0.5")
        yield data_dir


@pytest.fixture(scope="module")
async def hr(hr_env: Path, pki_dir: Path) -> AsyncIterator[HrWorld]:
    units = many_units(1, prefix="hrfile", approve_after=0.2)
    scenario = Scenario(units, data_dir=hr_env, pki_dir=pki_dir)
    scenario.issue_registered_certificates()
    sandbox: Sandbox = start_sandbox(scenario.sandbox_config())
    try:
        assert sandbox.gateway_url
        await scenario.save_blocks(sandbox.misa_url, sandbox.gateway_url)
        world = World(scenario, sandbox)
        await prime_units(world, units)
        files = hr_env.parent / "hr-files"
        files.mkdir()
        yield HrWorld(world, units[0], files)
    finally:
        sandbox.stop()


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "d"
        for p in sorted(root.rglob("*"))
    }


def _snapshot(h: HrWorld) -> tuple[dict[str, str], ...]:
    return tuple(_tree(h.data_dir / sub) for sub in ("inbox", "store", "outbox"))


def _build(h: HrWorld, path: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "build", "--unit", h.unit.unit.code, "--tax-code", h.unit.unit.tax_code,
        "--period", HR_PERIOD, "--procedure", "600", "--inbox", str(h.data_dir / "inbox"),
        *extra, str(path),
    ]  # fmt: skip
    status = command(argv, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------- the files
def _row(stt: int, name: str, salary: object = 9_000_000, maso: object = "") -> tuple[object, ...]:
    return (stt, name, maso, "Công nhân may", salary, "TM")


def _xlsx(rows: list[tuple[object, ...]]) -> Callable[[Path], Path]:
    return lambda folder: write_book(folder / "luong.xlsx", [HEADER, *rows])


def _csv(text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "luong.csv"
        path.write_bytes(text.encode(encoding))
        return path

    return make


def _xls(folder: Path) -> Path:
    path = folder / "luong.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    return path


def _dtd(folder: Path) -> Path:
    path = write_book(folder / "luong.xlsx", [HEADER, _row(1, "Lê Văn Hùng")])
    entity = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    return rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("<worksheet", entity + "<worksheet", 1),
    )


def _oversized(folder: Path) -> Path:
    # Highly compressible padding: a small file that unpacks far past the limit set below.
    path = write_book(folder / "luong.xlsx", [HEADER, _row(1, "Lê Văn Hùng")])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * 5_000_000)
    return path


CSV_HEADER = "STT,HoTen,MasoBHXH,ChucVu,TienLuong,PA\n"
NFD_AN = unicodedata.normalize("NFD", "Nguyễn Văn An")


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]
    words: tuple[str, ...]
    limits: dict[str, int] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "legacy-tcvn3-cell": Case(
        _xlsx([_row(1, "Lê Văn Hùng"), _row(2, encode_legacy("Trần Thị Bình", "tcvn3"))]),
        ("luong.xlsx", "trang tính 'Dữ Liệu'", "dòng 3, cột B (Họ và tên)", "TCVN3 (ABC)"),
    ),
    "legacy-vni-cell": Case(
        _csv(CSV_HEADER + f"1,{encode_legacy('Đặng Thu Hà', 'vni')},,Kế toán,9000000,TM\n"),
        ("luong.csv", "dòng 2, cột B (HoTen)", "VNI-Windows"),
    ),
    "formula-without-cached-value": Case(
        _xlsx([_row(1, "Lê Văn Hùng", salary="=9000000*1")]),
        ("luong.xlsx", "dòng 2, cột E (Tiền lương)", "=9000000*1", "không có giá trị đã tính"),
    ),
    "error-value-ref": Case(
        _xlsx([_row(1, "Lê Văn Hùng", salary="#REF!")]),
        ("luong.xlsx", "dòng 2, cột E (Tiền lương)", "#REF!"),
    ),
    "excel-97-xls": Case(_xls, ("luong.xls", "(.xls)", "Excel Workbook (.xlsx)")),
    "csv-not-utf8": Case(
        _csv(CSV_HEADER + "1,Lê Văn Hùng,,Lái xe,9000000,TM\n", "windows-1258"),
        ("luong.csv", "dòng 2", "không phải UTF-8", "CSV UTF-8"),
    ),
    "dtd-in-a-workbook-part": Case(_dtd, ("luong.xlsx", "DOCTYPE/ENTITY")),
    "oversized-unpacked-workbook": Case(
        _oversized, ("luong.xlsx", "giải nén ra"), {"MAX_UNPACKED_BYTES": 1_000_000}
    ),
    "control-character-in-a-cell": Case(
        _csv(CSV_HEADER + "1,Lê Văn\x01 Hùng,,Kế toán,9000000,TM\n"),
        ("luong.csv", "dòng 2, cột B (HoTen)", "U+0001"),
    ),
    "too-many-rows": Case(
        _xlsx([_row(i, "Lê Văn Hùng") for i in range(1, 7)]),
        ("luong.xlsx", "quá 5 dòng dữ liệu"),
        {"MAX_ROWS": 5},
    ),
    "ambiguous-amount": Case(
        _xlsx([_row(1, "Lê Văn Hùng", salary="9.000,5")]),
        ("luong.xlsx", "dòng 2, cột E (Tiền lương)", "số tiền có phần lẻ"),
    ),
    "unquoted-comma-in-a-csv": Case(
        _csv(CSV_HEADER + "1,Lê Văn Hùng,,Kế toán, trưởng,9000000,TM\n"),
        ("luong.csv", "dòng 2", "dòng có 7 ô nhưng dòng tiêu đề có 6"),
    ),
    "same-worker-nfc-and-nfd": Case(
        _xlsx([_row(1, "Nguyễn Văn An", maso="0123456789"), _row(2, NFD_AN, maso="0123456789")]),
        ("luong.xlsx", "dòng 3, cột C (Mã số BHXH)", "đã có ở dòng 2"),
    ),
}


def _run_case(h: HrWorld, name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    case = CASES[name]
    folder = h.files / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for limit, value in case.limits.items():
        monkeypatch.setattr(bhxh.hrdata.table, limit, value)
    status, _, err = _build(h, case.make(folder))
    return status, err


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_hr_files_are_refused_by_name_writing_nothing(
    hr: HrWorld, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(hr)
    status, err = _run_case(hr, case, monkeypatch)
    print(f"\nHOSTILE HR {case}: {err.strip()}")  # the README figures (pytest -s)
    assert status == 2, err
    assert err.startswith(f"Từ chối (refused): Đơn vị {hr.unit.unit.code}, tệp "), err
    for word in CASES[case].words:
        assert word in err, f"{case}: {word!r} not in: {err}"
    assert _snapshot(hr) == before


async def test_no_refused_file_reaches_the_phone(
    hr: HrWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit_before = len(hr.world.audit)
    before = _snapshot(hr)
    for case in CASES:
        with monkeypatch.context() as mp:
            assert _run_case(hr, case, mp)[0] == 2
    await sign_and_submit(hr.unit.block, period=HR_PERIOD, interactive=False)
    events = [e["event"] for e in hr.world.audit[audit_before:]]
    assert "sign_request" not in events and "submitted" not in events
    assert _snapshot(hr) == before
    assert hr.world.records(hr.unit, HR_PERIOD) == []


def _legacy_dossier(h: HrWorld, period: str, **manifest: object) -> tuple[Path, bytes]:
    """A D02-TS in the inbox whose first name and title are typed in TCVN3; the Unicode
    declaration it stands for."""
    csv = write_demo_csv(h.files / "legacy.csv", 2, seed=77, period=period)
    rows = read_workers_csv(csv)
    genuine = build_d02ts(h.unit.unit, period, rows)
    legacy = genuine
    for text in (rows[0].HoTen, rows[0].ChucVu):
        legacy = legacy.replace(text.encode(), encode_legacy(text, "tcvn3").encode(), 1)
    assert legacy != genuine
    folder = write_dossier(
        h.data_dir / "inbox",
        h.unit.unit.code,
        period,
        "01-bao-tang-cu",
        "600",
        {"D02-TS-595.xml": legacy},
        tax_code=h.unit.unit.tax_code,
    )
    if manifest:
        path = folder / "manifest.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **manifest}), "utf-8")
    return folder, genuine


async def test_a_legacy_declaration_in_the_inbox_is_refused_before_any_approval(
    hr: HrWorld,
) -> None:
    period = "08/2025"
    folder, _ = _legacy_dossier(hr, period)
    before = (_tree(hr.data_dir / "store"), _tree(hr.data_dir / "outbox"), len(hr.world.audit))
    try:
        state = await sign_and_submit(
            hr.unit.block, period=period, interactive=False, return_state=True
        )
        assert state.is_failed()
        message = str(await state.aresult(raise_on_failure=False))
    finally:
        shutil.rmtree(folder.parent)
    print(f"\nHOSTILE HR legacy-declaration-in-the-inbox: {message}")
    assert (
        f"Đơn vị {hr.unit.unit.code}, hồ sơ 01-bao-tang-cu, tệp D02-TS-595.xml, LaoDong 1 "
        "(STT 1), phần tử HoTen: 2 giá trị được gõ bằng bảng mã cũ TCVN3 (ABC)" in message
    )
    events = [e["event"] for e in hr.world.audit[before[2] :]]
    assert "sign_request" not in events and "submitted" not in events
    assert (_tree(hr.data_dir / "store"), _tree(hr.data_dir / "outbox")) == before[:2]


async def test_converted_and_workbook_dossiers_are_signed_and_submitted(hr: HrWorld) -> None:
    period = "09/2025"
    _, genuine = _legacy_dossier(hr, period, convert_legacy=True)
    workbook = write_demo_workbook(hr.files / "Lương tháng 09.xlsx", 4, seed=9, period=period)
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "build", "--unit", hr.unit.unit.code, "--tax-code", hr.unit.unit.tax_code,
        "--period", period, "--procedure", "600", "--inbox", str(hr.data_dir / "inbox"),
        str(workbook),
    ]  # fmt: skip
    assert command(argv, out=out, err=err) == 0, err.getvalue()
    audit_before = len(hr.world.audit)
    await sign_and_submit(hr.unit.block, period=period, interactive=False)
    records = hr.world.records(hr.unit, period)
    assert len(records) == 2 and all(r.has(Step.SUBMITTED) for r in records)
    assert hr.world.per_user("sign_request")[hr.unit.username] >= 2
    assert sum(1 for e in hr.world.audit[audit_before:] if e["event"] == "sign_request") == 2
    store = hr.data_dir / "store" / hr.unit.unit.code / period_folder(period)
    sources = {p.parent.parent.name: p.read_bytes() for p in store.rglob("source/D02-TS-595.xml")}
    assert genuine in sources.values()  # converted to the Unicode declaration it stands for
    from_workbook = next(v for v in sources.values() if v != genuine)
    assert unicodedata.is_normalized("NFC", from_workbook.decode("utf-8"))
