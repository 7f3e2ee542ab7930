"""Helpers for the dossier input tests: the fixtures folder and declarations written by
hand (invalid on purpose) without the checks of the builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

PERIOD = "01/2026"
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
