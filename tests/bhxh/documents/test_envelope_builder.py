"""BHXHDienTu.xml: unit, procedure and files as the domain describes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from lxml import etree

from bhxh.catalogue import DEFAULT_IVAN, get_procedure
from bhxh.documents import ENVELOPE_FILENAME, build_envelope, read_envelope
from bhxh.errors import DossierInvalid
from bhxh.models import Attachment, Declaration, Dossier


@pytest.fixture
def signed_declarations(
    make_d02: Callable[..., bytes], remote_sign: Callable[[bytes], bytes]
) -> list[Declaration]:
    tk1 = (
        '<?xml version="1.0" encoding="UTF-8"?><TK1-TS><NoiDung><LaoDong>'
        "<HoTen>Phạm Thị D</HoTen></LaoDong></NoiDung><Cky/></TK1-TS>"
    ).encode()
    return [
        Declaration("D02-TS", "D02-TS-595.xml", remote_sign(make_d02(workers=4))),
        Declaration("TK1-TS", "TK1-TS-595.xml", remote_sign(tk1)),
    ]


def test_envelope_layout_follows_the_domain(
    dossier: Dossier, signed_declarations: list[Declaration]
) -> None:
    xml = build_envelope(dossier, signed_declarations, created=dt.date(2026, 2, 5))
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(xml)
    assert root.tag == "Hoso"
    assert [c.tag for c in root] == ["NoiDung", "CKy_Dvi"]
    assert len(root[1]) == 0 and not root[1].text
    assert root.findtext("NoiDung/ThongTinIVAN/MaIVAN") == DEFAULT_IVAN.code
    assert root.findtext("NoiDung/ThongTinIVAN/TenIVAN") == DEFAULT_IVAN.name
    unit = root.find("NoiDung/ThongTinDonVi")
    assert unit is not None
    assert [c.tag for c in unit] == [
        "TenDoiTuong",
        "MaSoBHXH",
        "LoaiDoiTuong",
        "MaSoThue",
        "NguoiKy",
        "DienThoai",
        "CoQuanQuanLy",
    ]
    assert [c.text for c in unit] == [
        dossier.unit.name,
        "TZ9876B",
        "1",
        "0109876543",
        "Trần Thị Bích",
        "0901234567",
        "07906",
    ]
    info = root.find("NoiDung/ThongTinHoSo")
    assert info is not None
    assert [c.tag for c in info] == [
        "TenThuTuc",
        "MaThuTuc",
        "KyKeKhai",
        "NgayLap",
        "SoLuongFile",
        "QuyTrinhISO",
        "ToKhais",
    ]
    assert info.findtext("TenThuTuc") == get_procedure("600").name
    assert info.findtext("MaThuTuc") == "600"
    assert info.findtext("KyKeKhai") == "01/2026"
    assert info.findtext("NgayLap") == "05/02/2026"


def test_so_luong_file_counts_declarations_and_attachments(
    dossier: Dossier, signed_declarations: list[Declaration]
) -> None:
    root = etree.fromstring(build_envelope(dossier, signed_declarations))
    assert root.findtext("NoiDung/ThongTinHoSo/SoLuongFile") == "3"
    assert len(root.findall("NoiDung/ThongTinHoSo/ToKhais/FileToKhai")) == 3


def test_each_file_carries_its_base64_length_and_dotted_type(
    dossier: Dossier, signed_declarations: list[Declaration]
) -> None:
    root = etree.fromstring(build_envelope(dossier, signed_declarations))
    files = root.findall("NoiDung/ThongTinHoSo/ToKhais/FileToKhai")
    assert [[c.tag for c in f] for f in files] == [
        ["MaToKhai", "MoTaToKhai", "TenFile", "LoaiFile", "DoDaiFile", "NoiDungFile"]
    ] * 3
    assert [f.findtext("MaToKhai") for f in files] == ["D02-TS", "TK1-TS", "CT-DK"]
    assert [f.findtext("LoaiFile") for f in files] == [".xml", ".xml", ".pdf"]
    for f, source in zip(files, signed_declarations, strict=False):
        text = f.findtext("NoiDungFile") or ""
        assert f.findtext("DoDaiFile") == str(len(text))
        assert len(text) != len(source.content)  # the base64 length, not the bytes'
        assert f.findtext("TenFile") == source.filename


def test_embedded_declarations_decode_to_exactly_the_signed_bytes(
    dossier: Dossier, signed_declarations: list[Declaration]
) -> None:
    info = read_envelope(build_envelope(dossier, signed_declarations))
    assert [f.content for f in info.files[:2]] == [d.content for d in signed_declarations]
    assert info.files[2].content == dossier.attachments[0].content
    assert info.files[2].filename == "Hợp đồng lao động.pdf"


def test_read_envelope_reads_back_what_was_built(
    dossier: Dossier,
    signed_declarations: list[Declaration],
    remote_sign: Callable[[bytes], bytes],
) -> None:
    signed = remote_sign(build_envelope(dossier, signed_declarations, created=dt.date(2026, 2, 5)))
    info = read_envelope(signed)
    assert (info.unit_code, info.tax_code, info.agency_code) == ("TZ9876B", "0109876543", "07906")
    assert (info.procedure, info.period, info.created) == ("600", "01/2026", dt.date(2026, 2, 5))
    assert info.ivan_code == DEFAULT_IVAN.code
    assert [f.form for f in info.files] == ["D02-TS", "TK1-TS", "CT-DK"]


def test_explicit_attachments_and_procedure_name_replace_the_defaults(
    dossier: Dossier, signed_declarations: list[Declaration]
) -> None:
    xml = build_envelope(
        dossier,
        signed_declarations[:1],
        [Attachment("bang-ke.xlsx", b"PK\x03\x04")],
        procedure_name="Tên thủ tục riêng",
    )
    info = read_envelope(xml)
    assert info.procedure_name == "Tên thủ tục riêng"
    assert [(f.form, f.file_type) for f in info.files] == [("D02-TS", ".xml"), ("CT-DK", ".xlsx")]


def test_an_envelope_without_declarations_is_refused(dossier: Dossier) -> None:
    with pytest.raises(DossierInvalid, match="at least one signed declaration"):
        build_envelope(dossier, [])


def test_a_file_name_twice_is_refused(
    dossier: Dossier, signed_declarations: list[Declaration]
) -> None:
    with pytest.raises(DossierInvalid, match=r"appear twice: D02-TS-595\.xml"):
        build_envelope(dossier, [signed_declarations[0], signed_declarations[0]])


def test_a_wrong_do_dai_file_is_reported(
    dossier: Dossier, signed_declarations: list[Declaration]
) -> None:
    xml = build_envelope(dossier, signed_declarations[:1], [])
    root = etree.fromstring(xml)
    el = root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/DoDaiFile")
    assert el is not None
    el.text = "12"
    with pytest.raises(DossierInvalid, match="DoDaiFile 12"):
        read_envelope(etree.tostring(root))


def test_the_envelope_file_name() -> None:
    assert ENVELOPE_FILENAME == "BHXHDienTu.xml"
