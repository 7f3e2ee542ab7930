"""04 / 05 / 06 forms: the structure the gateway parses, and the certificate block."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from bhxh.catalogue import DEFAULT_IVAN
from bhxh.documents import build_registration_form, certificate_info
from bhxh.errors import DossierInvalid
from bhxh.models import UnitInfo
from sandbox.pki import IssuedCertificate

NOI_DUNG = [
    "MaToKhai",
    "MaThuTuc",
    "TenThuTuc",
    "ThongTinDonVi",
    "ThongTinIVAN",
    "ChungThuSo",
    "NoiLap",
    "NgayLap",
]


@pytest.mark.parametrize(("kind", "code"), [("04", "04_DK-IVAN"), ("05", "05_SD-IVAN")])
def test_register_and_change_forms_have_the_documented_structure(
    kind: str, code: str, unit: UnitInfo, issued: IssuedCertificate
) -> None:
    xml = build_registration_form(
        kind,  # type: ignore[arg-type]
        unit,
        certificate_info(issued.der),
        created=dt.date(2026, 1, 20),
        place="Hà Nội",
    )
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(xml)
    assert root.tag == "Hoso"
    assert [c.tag for c in root] == ["NoiDung", "CKy_Dvi"]
    content = root[0]
    assert [c.tag for c in content] == NOI_DUNG
    assert content.findtext("MaToKhai") == code
    assert content.findtext("MaThuTuc") == kind
    assert content.findtext("TenThuTuc")
    assert [c.tag for c in content.find("ThongTinDonVi")] == [  # type: ignore[union-attr]
        "TenDonVi",
        "MaSoBHXH",
        "MaSoThue",
        "CoQuanQuanLy",
        "DiaChiLienHe",
        "Email",
        "DienThoai",
        "NguoiKy",
    ]
    assert content.findtext("ThongTinDonVi/MaSoBHXH") == "TZ9876B"
    assert content.findtext("ThongTinDonVi/Email") == "hr@hoasen.example"
    assert content.findtext("ThongTinIVAN/MaIVAN") == DEFAULT_IVAN.code
    assert content.findtext("ThongTinIVAN/TenIVAN") == DEFAULT_IVAN.name
    assert content.findtext("NoiLap") == "Hà Nội"
    assert content.findtext("NgayLap") == "20/01/2026"


def test_certificate_block_holds_serial_subject_and_validity_in_vietnam_time(
    unit: UnitInfo, issued: IssuedCertificate
) -> None:
    cert = issued.certificate
    root = etree.fromstring(build_registration_form("05", unit, certificate_info(issued.der)))
    block = root.find("NoiDung/ChungThuSo")
    assert block is not None
    assert [c.tag for c in block] == ["SERIAL", "SUBJECT", "BEGIN", "END"]
    assert block.findtext("SERIAL") == format(cert.serial_number, "X")
    assert block.findtext("SERIAL") == issued.serial_hex.upper()
    assert block.findtext("SUBJECT") == cert.subject.rfc4514_string()
    vn = dt.timezone(dt.timedelta(hours=7))
    fmt = "%d/%m/%Y %H:%M:%S"
    assert block.findtext("BEGIN") == cert.not_valid_before_utc.astimezone(vn).strftime(fmt)
    assert block.findtext("END") == cert.not_valid_after_utc.astimezone(vn).strftime(fmt)


def test_certificate_info_reads_a_der_certificate(issued: IssuedCertificate) -> None:
    info = certificate_info(issued.der)
    assert info.serial == issued.serial_hex.upper()
    assert "UID=MST:0109876543" in info.subject
    assert info.not_before == issued.certificate.not_valid_before_utc
    assert info.der == issued.der


def test_stop_form_adds_stop_date_and_reason(unit: UnitInfo, issued: IssuedCertificate) -> None:
    xml = build_registration_form(
        "06",
        unit,
        certificate_info(issued.der),
        stop_date=dt.date(2026, 3, 1),
        reason="Chuyển sang I-VAN khác",
    )
    content = etree.fromstring(xml).find("NoiDung")
    assert content is not None
    assert [c.tag for c in content] == [*NOI_DUNG, "NgayNgung", "LyDo"]
    assert content.findtext("MaToKhai") == "06_NG-IVAN"
    assert content.findtext("NgayNgung") == "01/03/2026"
    assert content.findtext("LyDo") == "Chuyển sang I-VAN khác"


@pytest.mark.parametrize(
    ("stop_date", "reason", "missing"),
    [(None, "Lý do", "stop_date"), (dt.date(2026, 3, 1), "  ", "reason"), (None, "", "stop_date")],
)
def test_stop_form_without_date_or_reason_is_refused(
    unit: UnitInfo, issued: IssuedCertificate, stop_date: dt.date | None, reason: str, missing: str
) -> None:
    with pytest.raises(DossierInvalid, match=f"TZ9876B: form 06 needs {missing}"):
        build_registration_form(
            "06", unit, certificate_info(issued.der), stop_date=stop_date, reason=reason
        )


def test_an_unknown_form_kind_is_refused(unit: UnitInfo, issued: IssuedCertificate) -> None:
    with pytest.raises(DossierInvalid, match="unknown registration form"):
        build_registration_form("07", unit, certificate_info(issued.der))  # type: ignore[arg-type]


def test_certificate_info_refuses_garbage() -> None:
    with pytest.raises(DossierInvalid, match="not valid DER"):
        certificate_info(b"not a certificate")
