"""The dossier envelope ``BHXHDienTu.xml``: the signed declarations and attachments in one file.

Layout (the unit signs it at ``Hoso/CKy_Dvi``, see :mod:`bhxh.signing`)::

    <Hoso>
      <NoiDung>
        <ThongTinIVAN><MaIVAN/><TenIVAN/></ThongTinIVAN>
        <ThongTinDonVi><TenDoiTuong/><MaSoBHXH/><LoaiDoiTuong>1</LoaiDoiTuong><MaSoThue/>
          <NguoiKy/><DienThoai/><CoQuanQuanLy/></ThongTinDonVi>
        <ThongTinHoSo><TenThuTuc/><MaThuTuc/><KyKeKhai>MM/yyyy</KyKeKhai>
          <NgayLap>dd/MM/yyyy</NgayLap><SoLuongFile/><QuyTrinhISO/>
          <ToKhais><FileToKhai><MaToKhai/><MoTaToKhai/><TenFile/><LoaiFile>.xml</LoaiFile>
            <DoDaiFile>length of the base64 text</DoDaiFile><NoiDungFile>base64</NoiDungFile>
          </FileToKhai>...</ToKhais>
        </ThongTinHoSo>
      </NoiDung>
      <CKy_Dvi/>
    </Hoso>

Wire terms: ``TenDoiTuong`` unit name, ``LoaiDoiTuong`` 1 = organisation, ``TenThuTuc`` /
``MaThuTuc`` procedure name / code, ``SoLuongFile`` number of files, ``MoTaToKhai`` form
description, ``DoDaiFile`` length of ``NoiDungFile`` (the base64 text, not the bytes).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from lxml import etree

from bhxh.catalogue import form_description, get_procedure
from bhxh.errors import DossierInvalid
from bhxh.models import Attachment, Declaration, Dossier
from bhxh.periods import today_vn
from bhxh.signing import parse_document
from bhxh.xmlsafe import find_text

__all__ = [
    "ATTACHMENT_FORM",
    "ENVELOPE_FILENAME",
    "EnvelopeFile",
    "EnvelopeInfo",
    "build_envelope",
    "read_envelope",
]

ENVELOPE_FILENAME = "BHXHDienTu.xml"
#: MaToKhai of an attachment (chứng từ kèm theo).
ATTACHMENT_FORM = "CT-DK"
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True)
class EnvelopeFile:
    """One ``FileToKhai`` of an envelope, its content decoded."""

    form: str  # MaToKhai
    description: str  # MoTaToKhai
    filename: str  # TenFile
    file_type: str  # LoaiFile, with the dot
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class EnvelopeInfo:
    """What an envelope says, for tests, tools and the gateway side."""

    ivan_code: str
    ivan_name: str
    unit_name: str
    unit_code: str
    tax_code: str
    signer: str
    phone: str
    agency_code: str
    procedure: str
    procedure_name: str
    period: str
    created: dt.date
    files: tuple[EnvelopeFile, ...]


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = value
    return el


def _file(parent: etree._Element, form: str, filename: str, content: bytes) -> None:
    encoded = base64.b64encode(content).decode("ascii")
    suffix = PurePosixPath(filename).suffix
    entry = etree.SubElement(parent, "FileToKhai")
    _text(entry, "MaToKhai", form)
    _text(entry, "MoTaToKhai", form_description(form))
    _text(entry, "TenFile", filename)
    _text(entry, "LoaiFile", suffix.lower())
    _text(entry, "DoDaiFile", str(len(encoded)))
    _text(entry, "NoiDungFile", encoded)


def build_envelope(
    dossier: Dossier,
    signed_declarations: Sequence[Declaration],
    attachments: Sequence[Attachment] | None = None,
    *,
    procedure_name: str | None = None,
    created: dt.date | None = None,
    iso_process: str = "0",
) -> bytes:
    """Build the unsigned envelope of a dossier from its signed declarations.

    Args:
        dossier: the unit, period and procedure.
        signed_declarations: each declaration with its *signed* bytes (embedded as they are).
        attachments: opaque files added as ``CT-DK``; default the dossier's attachments.
        procedure_name: ``TenThuTuc``; default the catalogue's name of the procedure.
        created: ``NgayLap``; default today in Vietnam (Asia/Ho_Chi_Minh), whatever the
            server's own time zone.
        iso_process: ``QuyTrinhISO`` (its meaning at VSS is not public; "0" is inferred).

    Returns:
        ``BHXHDienTu.xml`` bytes with an empty ``<CKy_Dvi/>``, ready for
        :func:`bhxh.signing.prepare_signature`.

    Raises:
        DossierInvalid: no declarations, a duplicate file name, or an unknown procedure.
    """
    where = f"unit {dossier.unit.code}, dossier {dossier.name!r}"
    if not signed_declarations:
        raise DossierInvalid(f"{where}: an envelope needs at least one signed declaration")
    files = [d.filename for d in signed_declarations]
    files += [a.filename for a in (dossier.attachments if attachments is None else attachments)]
    duplicates = sorted({f for f in files if files.count(f) > 1})
    if duplicates:
        raise DossierInvalid(f"{where}: file names appear twice: {', '.join(duplicates)}")
    extra = dossier.attachments if attachments is None else attachments
    name = procedure_name or get_procedure(dossier.procedure).name
    day = created or today_vn()
    unit = dossier.unit

    root = etree.Element("Hoso")
    content = etree.SubElement(root, "NoiDung")
    ivan = etree.SubElement(content, "ThongTinIVAN")
    _text(ivan, "MaIVAN", unit.ivan_code)
    _text(ivan, "TenIVAN", unit.ivan_name)
    info = etree.SubElement(content, "ThongTinDonVi")
    _text(info, "TenDoiTuong", unit.name)
    _text(info, "MaSoBHXH", unit.code)
    _text(info, "LoaiDoiTuong", "1")
    _text(info, "MaSoThue", unit.tax_code)
    _text(info, "NguoiKy", unit.signer)
    _text(info, "DienThoai", unit.phone)
    _text(info, "CoQuanQuanLy", unit.agency_code)
    dossier_el = etree.SubElement(content, "ThongTinHoSo")
    _text(dossier_el, "TenThuTuc", name)
    _text(dossier_el, "MaThuTuc", dossier.procedure)
    _text(dossier_el, "KyKeKhai", dossier.period)
    _text(dossier_el, "NgayLap", day.strftime("%d/%m/%Y"))
    _text(dossier_el, "SoLuongFile", str(len(signed_declarations) + len(extra)))
    _text(dossier_el, "QuyTrinhISO", iso_process)
    forms = etree.SubElement(dossier_el, "ToKhais")
    for declaration in signed_declarations:
        _file(forms, declaration.form, declaration.filename, declaration.content)
    for attachment in extra:
        _file(forms, ATTACHMENT_FORM, attachment.filename, attachment.content)
    etree.SubElement(root, "CKy_Dvi")
    return _XML_DECLARATION + etree.tostring(root, encoding="UTF-8")


def _field(parent: etree._Element, path: str, what: str) -> str:
    """The field at ``path`` as it was signed (:func:`bhxh.xmlsafe.find_text`), stripped."""
    text = find_text(parent, path, what=what)
    if text is None:
        raise DossierInvalid(f"{what}: <{path}> is missing")
    return text.strip()


def read_envelope(xml: bytes) -> EnvelopeInfo:
    """Read an envelope (signed or not) and decode its files.

    Every field is read as it was signed (:func:`bhxh.xmlsafe.find_text`): a comment, a
    processing instruction or a CDATA section inside a value never changes it.

    Raises:
        DossierInvalid: a missing field, a wrong root, or SoLuongFile / DoDaiFile / base64
            that do not agree with the content.
        UnsafeXml: not well-formed XML, a DOCTYPE, or an element inside a field.
    """
    what = ENVELOPE_FILENAME
    root = parse_document(xml, what).getroot()
    if root.tag != "Hoso":
        raise DossierInvalid(f"{what}: the root is <{root.tag}>, expected <Hoso>")
    hs = "NoiDung/ThongTinHoSo"
    files: list[EnvelopeFile] = []
    for entry in root.iterfind(f"{hs}/ToKhais/FileToKhai"):
        filename = _field(entry, "TenFile", what)
        text = "".join(_field(entry, "NoiDungFile", f"{what} {filename}").split())
        length = _field(entry, "DoDaiFile", f"{what} {filename}")
        if length != str(len(text)):
            raise DossierInvalid(
                f"{what} {filename}: DoDaiFile {length} but the base64 text has {len(text)}"
            )
        try:
            content = base64.b64decode(text, validate=True)
        except ValueError as exc:
            raise DossierInvalid(f"{what} {filename}: NoiDungFile is not base64") from exc
        files.append(
            EnvelopeFile(
                form=_field(entry, "MaToKhai", what),
                description=_field(entry, "MoTaToKhai", what),
                filename=filename,
                file_type=_field(entry, "LoaiFile", what),
                content=content,
            )
        )
    count = _field(root, f"{hs}/SoLuongFile", what)
    if count != str(len(files)):
        raise DossierInvalid(f"{what}: SoLuongFile {count} but {len(files)} files")
    created_text = _field(root, f"{hs}/NgayLap", what)
    try:
        created = dt.datetime.strptime(created_text, "%d/%m/%Y").date()
    except ValueError as exc:
        raise DossierInvalid(f"{what}: NgayLap {created_text!r} is not dd/MM/yyyy") from exc
    unit = "NoiDung/ThongTinDonVi"
    return EnvelopeInfo(
        ivan_code=_field(root, "NoiDung/ThongTinIVAN/MaIVAN", what),
        ivan_name=_field(root, "NoiDung/ThongTinIVAN/TenIVAN", what),
        unit_name=_field(root, f"{unit}/TenDoiTuong", what),
        unit_code=_field(root, f"{unit}/MaSoBHXH", what),
        tax_code=_field(root, f"{unit}/MaSoThue", what),
        signer=_field(root, f"{unit}/NguoiKy", what),
        phone=_field(root, f"{unit}/DienThoai", what),
        agency_code=_field(root, f"{unit}/CoQuanQuanLy", what),
        procedure=_field(root, f"{hs}/MaThuTuc", what),
        procedure_name=_field(root, f"{hs}/TenThuTuc", what),
        period=_field(root, f"{hs}/KyKeKhai", what),
        created=created,
        files=tuple(files),
    )
