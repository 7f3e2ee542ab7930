"""The I-VAN registration forms 04 (register), 05 (change) and 06 (stop).

Each form is its own envelope (root ``Hoso``, signed at ``Hoso/CKy_Dvi``, one approval)::

    <Hoso>
      <NoiDung>
        <MaToKhai>04_DK-IVAN | 05_SD-IVAN | 06_NG-IVAN</MaToKhai>
        <MaThuTuc>04 | 05 | 06</MaThuTuc>
        <TenThuTuc/>
        <ThongTinDonVi><TenDonVi/><MaSoBHXH/><MaSoThue/><CoQuanQuanLy/><DiaChiLienHe/>
          <Email/><DienThoai/><NguoiKy/></ThongTinDonVi>
        <ThongTinIVAN><MaIVAN/><TenIVAN/></ThongTinIVAN>
        <ChungThuSo><SERIAL/><SUBJECT/><BEGIN/><END/></ChungThuSo>
        <NoiLap/><NgayLap>dd/MM/yyyy</NgayLap>
        <NgayNgung>dd/MM/yyyy</NgayNgung><LyDo/>          (06 only)
      </NoiDung>
      <CKy_Dvi/>
    </Hoso>

``ChungThuSo`` is the unit's certificate (chứng thư số): ``SERIAL`` in upper-case hex,
``SUBJECT`` as RFC 4514, ``BEGIN`` / ``END`` as ``dd/MM/yyyy HH:mm:ss`` in Vietnam time
(Asia/Ho_Chi_Minh); ``NgayLap`` is today in Vietnam unless given.
A unit moving from a USB token to remote signing submits a 05 with the new certificate.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from cryptography import x509
from lxml import etree

from bhxh.errors import DossierInvalid
from bhxh.models import CertificateInfo, UnitInfo
from bhxh.periods import VN_TZ, today_vn

__all__ = [
    "FORM_CODES",
    "FORM_NAMES",
    "FormKind",
    "build_registration_form",
    "certificate_info",
]

FormKind = Literal["04", "05", "06"]
#: MaToKhai of each registration procedure.
FORM_CODES: dict[str, str] = {"04": "04_DK-IVAN", "05": "05_SD-IVAN", "06": "06_NG-IVAN"}
#: TenThuTuc of each registration procedure.
FORM_NAMES: dict[str, str] = {
    "04": "Đăng ký tham gia giao dịch điện tử trong lĩnh vực BHXH, BHYT, BHTN qua tổ chức I-VAN",
    "05": "Đăng ký thay đổi, bổ sung thông tin giao dịch điện tử trong lĩnh vực BHXH, BHYT, "
    "BHTN qua tổ chức I-VAN",
    "06": "Đăng ký ngừng giao dịch điện tử trong lĩnh vực BHXH, BHYT, BHTN qua tổ chức I-VAN",
}
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def certificate_info(der: bytes) -> CertificateInfo:
    """SERIAL, SUBJECT, BEGIN and END of a DER certificate, as the forms record them.

    Raises:
        DossierInvalid: the bytes are not a DER certificate.
    """
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise DossierInvalid(f"the unit's certificate is not valid DER: {exc}") from exc
    return CertificateInfo(
        serial=f"{cert.serial_number:X}",
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        der=der,
    )


def _vn_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:  # a naive time is taken as UTC, as x509 validity is
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S")


def _text(parent: etree._Element, tag: str, value: str) -> None:
    etree.SubElement(parent, tag).text = value


def build_registration_form(
    kind: FormKind,
    unit: UnitInfo,
    certificate: CertificateInfo,
    *,
    created: dt.date | None = None,
    place: str = "",
    stop_date: dt.date | None = None,
    reason: str = "",
) -> bytes:
    """Build an unsigned 04 / 05 / 06 form, ready for :func:`bhxh.signing.prepare_signature`.

    Args:
        kind: "04" register, "05" change (e.g. a new certificate), "06" stop.
        unit: the unit; its name, codes, address, e-mail, phone and signer are written.
        certificate: the certificate to register (see :func:`certificate_info`).
        created: ``NgayLap``; default today in Vietnam (never the server's own date).
        place: ``NoiLap``, where the form is made (e.g. "Hà Nội").
        stop_date: ``NgayNgung``, required for 06.
        reason: ``LyDo``, required for 06.

    Raises:
        DossierInvalid: an unknown kind, or a 06 without stop date or reason.

    Example:
        >>> build_registration_form("05", unit, certificate_info(cert_der), place="Hà Nội")
        b'<?xml version="1.0" encoding="UTF-8"?>\\n<Hoso><NoiDung><MaToKhai>05_SD-IVAN...'
    """
    if kind not in FORM_CODES:
        raise DossierInvalid(f"unit {unit.code}: unknown registration form {kind!r} (04/05/06)")
    if kind == "06":
        missing = [n for n, v in (("stop_date", stop_date), ("reason", reason.strip())) if not v]
        if missing:
            raise DossierInvalid(f"unit {unit.code}: form 06 needs {' and '.join(missing)}")
    root = etree.Element("Hoso")
    content = etree.SubElement(root, "NoiDung")
    _text(content, "MaToKhai", FORM_CODES[kind])
    _text(content, "MaThuTuc", kind)
    _text(content, "TenThuTuc", FORM_NAMES[kind])
    info = etree.SubElement(content, "ThongTinDonVi")
    _text(info, "TenDonVi", unit.name)
    _text(info, "MaSoBHXH", unit.code)
    _text(info, "MaSoThue", unit.tax_code)
    _text(info, "CoQuanQuanLy", unit.agency_code)
    _text(info, "DiaChiLienHe", unit.address)
    _text(info, "Email", unit.email)
    _text(info, "DienThoai", unit.phone)
    _text(info, "NguoiKy", unit.signer)
    ivan = etree.SubElement(content, "ThongTinIVAN")
    _text(ivan, "MaIVAN", unit.ivan_code)
    _text(ivan, "TenIVAN", unit.ivan_name)
    cert = etree.SubElement(content, "ChungThuSo")
    _text(cert, "SERIAL", certificate.serial.upper())
    _text(cert, "SUBJECT", certificate.subject)
    _text(cert, "BEGIN", _vn_time(certificate.not_before))
    _text(cert, "END", _vn_time(certificate.not_after))
    _text(content, "NoiLap", place)
    _text(content, "NgayLap", (created or today_vn()).strftime("%d/%m/%Y"))
    if kind == "06":
        assert stop_date is not None
        _text(content, "NgayNgung", stop_date.strftime("%d/%m/%Y"))
        _text(content, "LyDo", reason)
    etree.SubElement(root, "CKy_Dvi")
    return _XML_DECLARATION + etree.tostring(root, encoding="UTF-8")
