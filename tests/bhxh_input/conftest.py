"""Fixtures for the dossier input side: a unit, a fixed 'today', builders of dossiers, and
declarations written by hand (invalid on purpose) without the checks of the builders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from bhxh.declarations import WorkerRow, build_d02ts
from bhxh.models import Attachment, Declaration, Dossier, UnitInfo

PERIOD = "01/2026"
TODAY = dt.date(2026, 2, 10)
FIXTURES = Path(__file__).parent / "fixtures"

#: The D02-TS row fields in the order of the real files (as written in fixtures/structure).
D02_ORDER = [
    "STT",
    "HoTen",
    "MasoBHXH",
    "ChucVu",
    "NoiLamViec",
    "TienLuong",
    "PhuCapCV",
    "PhuCapTNVK",
    "PhuCapTNNghe",
    "PhuCapLuong",
    "PhuCapBosung",
    "TuThang",
    "DenThang",
    "Ghichu",
    "PA",
    "TyleDong",
    "TinhLai",
    "DaCoSo",
    "MucHuong",
    "MaPhongBan",
    "MavungSS",
    "MavungLTT",
    "ID",
    "Loai",
    "CoGiamChet",
    "NgayChet",
    "NgaySinh",
    "GioiTinh",
    "CMND",
    "Vtvl_nql_tungay",
    "Vtvl_nql_denngay",
    "Vtvl_cmktbc_tungay",
    "Vtvl_cmktbc_denngay",
    "Vtvl_cmktbt_tungay",
    "Vtvl_cmktbt_denngay",
    "Vtvl_khac_tungay",
    "Vtvl_khac_denngay",
    "Nndh_tungay",
    "Nndh_denngay",
    "Hdld_tungay",
    "Hdld_xdth_tungay",
    "Hdld_xdth_denngay",
    "Hdld_khac_tungay",
    "Hdld_khac_denngay",
]
#: A valid D02-TS row as text, the other fields empty.
VALID_ROW: dict[str, str] = {
    "STT": "1",
    "HoTen": "Trần Thị Bình",
    "MasoBHXH": "0123456789",
    "ChucVu": "Nhân viên kế toán",
    "TienLuong": "9000000",
    "TuThang": PERIOD,
    "PA": "TM",
    "TyleDong": "32.0",
    "TinhLai": "0",
    "DaCoSo": "1",
    "MavungLTT": "01",
    "NgaySinh": "01/02/1990",
    "GioiTinh": "0",
    "CMND": "001190000001",
}


def raw_d02(
    *rows: Mapping[str, str | None],
    order: Sequence[str] = D02_ORDER,
    top: str = "<ThongTinKhac><SoToBiaSoBHXH>0</SoToBiaSoBHXH><SoToRoiSoBHXH>0"
    "</SoToRoiSoBHXH><SoTheBHYT>0</SoTheBHYT></ThongTinKhac>",
) -> bytes:
    """A D02-TS written by hand, unchecked: each row gives text per field (None leaves the
    element out, a missing key writes it empty), the fields in ``order``."""
    body = []
    for row in rows:
        cells = []
        for name in order:
            value = row.get(name, "")
            if value is None:
                continue
            cells.append(f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>")
        body.append("<LaoDong>" + "".join(cells) + "</LaoDong>")
    xml = f"<D02-TS>{top}<NoiDung>{''.join(body)}</NoiDung><Cky/></D02-TS>"
    return ('<?xml version="1.0" encoding="UTF-8"?>' + xml).encode()


def row(**changes: str | None) -> dict[str, str | None]:
    """:data:`VALID_ROW` with some fields changed (None: the element left out)."""
    return {**VALID_ROW, **changes}


MakeDossier = Callable[..., Dossier]


@pytest.fixture
def unit() -> UnitInfo:
    return UnitInfo(
        code="TZ1234A",
        tax_code="0101234567",
        name="Công ty TNHH Thử Nghiệm",
        agency_code="07906",
        signer="Nguyễn Văn An",
        phone="0901234567",
    )


@pytest.fixture
def other_unit() -> UnitInfo:
    return UnitInfo(code="YB9999Z", tax_code="0309999999", name="Công ty Khác", agency_code="07901")


def _worker(**changes: object) -> WorkerRow:
    base: dict[str, object] = {
        "HoTen": "Trần Thị Bình",
        "ChucVu": "Nhân viên kế toán",
        "TienLuong": 9_000_000,
        "PA": "TM",
        "MasoBHXH": "0123456789",
        "CMND": "001190000001",
        "TuThang": PERIOD,
        "NgaySinh": "01/02/1990",
        "GioiTinh": "0",
        "MavungLTT": "1",
    }
    base.update(changes)
    return WorkerRow(**base)  # type: ignore[arg-type]


@pytest.fixture
def worker() -> Callable[..., WorkerRow]:
    """A valid D02-TS row; keyword arguments change fields."""
    return _worker


@pytest.fixture
def today() -> dt.date:
    """The fixed 'today' of these tests: 01/2026 is last month, 03/2026 is the future."""
    return TODAY


@pytest.fixture
def period() -> str:
    return PERIOD


@pytest.fixture
def make_dossier(unit: UnitInfo) -> MakeDossier:
    """Build a Dossier from (form, content) pairs; by default one valid D02-TS for 600."""

    def make(
        files: Sequence[tuple[str, bytes]] | None = None,
        *,
        procedure: str = "600",
        period: str = PERIOD,
        attachments: Sequence[tuple[str, bytes]] = (),
        for_unit: UnitInfo | None = None,
        filenames: dict[str, str] | None = None,
    ) -> Dossier:
        if files is None:
            files = [("D02-TS", build_d02ts(unit, PERIOD, [_worker()]))]
        names = filenames or {}
        decls = tuple(
            Declaration(form, names.get(form, f"{form}-595.xml"), content)
            for form, content in files
        )
        return Dossier(
            unit=for_unit or unit,
            period=period,
            procedure=procedure,
            name="01-bao-tang",
            declarations=decls,
            attachments=tuple(Attachment(n, c) for n, c in attachments),
        )

    return make
