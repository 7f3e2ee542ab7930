"""Reading and checking what a unit submits: envelopes (``BHXHDienTu.xml``) and 04/05/06
registration forms, including every signature inside them.

Every field is read as it was signed (:func:`sandbox.xmldsig_check.text_as_signed`): a
comment, a processing instruction or a CDATA section inside a value never changes what is
read; an element inside a value is refused.

The checks that need no gateway state live here (structure, files, catalogue, the content
model of each declaration, signatures); certificate trust and identity are judged by
:mod:`sandbox.gateway.trust`, signed PDF attachments by :mod:`sandbox.gateway.pdf_check`;
the checks that need the registry (unit state, registered certificate) live in
:mod:`sandbox.gateway.core`.

A declaration carries no unit header (the real files have none): the unit is the
envelope's, and each declaration's signature must be by a certificate of the envelope's
``MaSoThue``. Its content is checked against the form's layout, read as plain data from
the catalogue (``bhxh.catalogue.FORM_LAYOUTS``): the elements in order, none unknown,
every required one present and, for a value, not empty.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import posixpath
from dataclasses import dataclass
from typing import Literal

from lxml import etree

from bhxh.catalogue import ATTACHMENT_FORM, FORM_LAYOUTS, PROCEDURES, FieldSpec
from sandbox.gateway import messages as m
from sandbox.gateway.pdf_check import check_attachment
from sandbox.gateway.trust import Signer, Trust
from sandbox.xmldsig_check import (
    NotPlainText,
    SignatureCheckFailed,
    UnsafeDocument,
    parse_hardened,
    text_as_signed,
    verify_enveloped,
)

# Signer and Trust live in sandbox.gateway.trust; they are named here too because the
# inspections take a Trust and return Signers.
__all__ = [
    "ENVELOPE_NAME",
    "Inspected",
    "Signer",
    "Trust",
    "inspect_envelope",
    "inspect_registration",
]

ENVELOPE_NAME = "BHXHDienTu.xml"
REGISTRATION_NAME = "tờ khai 04/05/06"

_ENVELOPE_FIELDS = (
    "NoiDung/ThongTinIVAN/MaIVAN",
    "NoiDung/ThongTinIVAN/TenIVAN",
    "NoiDung/ThongTinDonVi/TenDoiTuong",
    "NoiDung/ThongTinDonVi/MaSoBHXH",
    "NoiDung/ThongTinDonVi/LoaiDoiTuong",
    "NoiDung/ThongTinDonVi/MaSoThue",
    "NoiDung/ThongTinDonVi/NguoiKy",
    "NoiDung/ThongTinDonVi/DienThoai",
    "NoiDung/ThongTinDonVi/CoQuanQuanLy",
    "NoiDung/ThongTinHoSo/TenThuTuc",
    "NoiDung/ThongTinHoSo/MaThuTuc",
    "NoiDung/ThongTinHoSo/KyKeKhai",
    "NoiDung/ThongTinHoSo/NgayLap",
    "NoiDung/ThongTinHoSo/SoLuongFile",
    "NoiDung/ThongTinHoSo/QuyTrinhISO",
    "NoiDung/ThongTinHoSo/ToKhais",
    "CKy_Dvi",
)
_FILE_FIELDS = ("MaToKhai", "MoTaToKhai", "TenFile", "LoaiFile", "DoDaiFile", "NoiDungFile")
_PERIOD_DIGITS = 7  # MM/yyyy
_VN = dt.timezone(dt.timedelta(hours=7))  # Vietnam: UTC+7, no daylight saving
_REGISTRATION_FIELDS = (
    "NoiDung/MaToKhai",
    "NoiDung/MaThuTuc",
    "NoiDung/TenThuTuc",
    "NoiDung/ThongTinDonVi/TenDonVi",
    "NoiDung/ThongTinDonVi/MaSoBHXH",
    "NoiDung/ThongTinDonVi/MaSoThue",
    "NoiDung/ThongTinDonVi/CoQuanQuanLy",
    "NoiDung/ThongTinDonVi/DiaChiLienHe",
    "NoiDung/ThongTinDonVi/Email",
    "NoiDung/ThongTinDonVi/DienThoai",
    "NoiDung/ThongTinDonVi/NguoiKy",
    "NoiDung/ThongTinIVAN/MaIVAN",
    "NoiDung/ThongTinIVAN/TenIVAN",
    "NoiDung/ChungThuSo/SERIAL",
    "NoiDung/ChungThuSo/SUBJECT",
    "NoiDung/ChungThuSo/BEGIN",
    "NoiDung/ChungThuSo/END",
    "NoiDung/NoiLap",
    "NoiDung/NgayLap",
    "CKy_Dvi",
)
_STOP_FIELDS = ("NoiDung/NgayNgung", "NoiDung/LyDo")
# Required elements that hold elements, not a value.
_GROUPS = {"ToKhais", "CKy_Dvi"}
# Fields whose text must not be empty (the others must be present).
_NON_EMPTY = {
    "MaSoBHXH",
    "MaSoThue",
    "MaThuTuc",
    "MaToKhai",
    "KyKeKhai",
    "SoLuongFile",
    "CoQuanQuanLy",
    "SERIAL",
    "TenFile",
    "LoaiFile",
    "DoDaiFile",
    "NoiDungFile",
}


@dataclass(frozen=True)
class Inspected:
    """What the gateway learnt from a document that passed the stateless checks."""

    kind: Literal["envelope", "registration"]
    procedure: str  # MaThuTuc
    form: str  # MaToKhai of a registration form; "" for an envelope
    unit_code: str  # MaSoBHXH
    tax_code: str  # MaSoThue
    agency_code: str  # CoQuanQuanLy
    unit_name: str
    period: str  # KyKeKhai (envelopes); "" for registration forms
    signers: tuple[Signer, ...]
    declared_serial: int | None = None  # ChungThuSo/SERIAL of a registration form
    ivan_code: str = ""  # ThongTinIVAN/MaIVAN: the carrier the document names
    #: The envelope's declarations as signed: (form, bytes); the C12-TS notices are
    #: computed from the accepted D02-TS (sandbox/gateway/notices.py).
    declarations: tuple[tuple[str, bytes], ...] = ()


# ------------------------------------------------------------------------------ helpers
def _parse(data: bytes, document: str, max_bytes: int, max_depth: int) -> etree._ElementTree:
    try:
        return parse_hardened(data, max_bytes=max_bytes, max_depth=max_depth)
    except UnsafeDocument as exc:
        raise m.XML_UNSAFE(document=document, reason=str(exc)) from None


def _value(el: etree._Element, document: str, path: str) -> str:
    """A field's text as it was signed, stripped; an element inside it is refused."""
    try:
        return text_as_signed(el).strip()
    except NotPlainText as exc:
        raise m.FIELD_NOT_TEXT(document=document, path=path, child=exc.child) from None


def _require(root: etree._Element, document: str, paths: tuple[str, ...]) -> None:
    """Each path present; each value field plain text, and not empty when it must not be."""
    for path in paths:
        el = root.find(path)
        where = f"{root.tag}/{path}"
        if el is None:
            raise m.FIELD_MISSING(document=document, path=where)
        name = path.rsplit("/", 1)[-1]
        if name in _GROUPS:
            continue
        if not _value(el, document, where) and name in _NON_EMPTY:
            raise m.FIELD_MISSING(document=document, path=where)


def _text(root: etree._Element, path: str, document: str) -> str:
    el = root.find(path)
    return _value(el, document, f"{root.tag}/{path}") if el is not None else ""


def _verify(
    tree: etree._ElementTree,
    document: str,
    parent: tuple[str, str],
    trust: Trust,
    now: dt.datetime,
    tax_code: str,
) -> Signer:
    try:
        verified = verify_enveloped(tree, signature_parent=parent)
    except SignatureCheckFailed as exc:
        raise m.SIGNATURE_INVALID(document=document, reason=exc.reason) from None
    return trust.check(document, verified.certificate, verified.signing_time, now, tax_code)


# ----------------------------------------------------------------------------- envelope
def inspect_envelope(
    data: bytes,
    unit_code: str,
    trust: Trust,
    now: dt.datetime,
    *,
    max_bytes: int,
    max_depth: int,
) -> Inspected:
    """Check an envelope and every declaration in it, in the order a person would fix them.

    Raises:
        Refusal: the first problem found (code and exact message).
    """
    tree = _parse(data, ENVELOPE_NAME, max_bytes, max_depth)
    root = tree.getroot()
    if root.tag != "Hoso":
        raise m.ROOT(document=ENVELOPE_NAME, expected="Hoso", actual=root.tag)
    _require(root, ENVELOPE_NAME, _ENVELOPE_FIELDS)
    declared_unit = _text(root, "NoiDung/ThongTinDonVi/MaSoBHXH", ENVELOPE_NAME)
    if declared_unit != unit_code:
        raise m.UNIT_MISMATCH(document=ENVELOPE_NAME, declared=declared_unit, unit=unit_code)
    code = _text(root, "NoiDung/ThongTinHoSo/MaThuTuc", ENVELOPE_NAME)
    procedure = PROCEDURES.get(code)
    if procedure is None:
        raise m.UNKNOWN_PROCEDURE()
    if procedure.kind != "business":
        raise m.WRONG_KIND(procedure=code, expected="registration", actual="envelope")
    tax_code = _text(root, "NoiDung/ThongTinDonVi/MaSoThue", ENVELOPE_NAME)
    _check_period(_text(root, "NoiDung/ThongTinHoSo/KyKeKhai", ENVELOPE_NAME), now)

    files = root.findall("NoiDung/ThongTinHoSo/ToKhais/FileToKhai")
    declared_count = _text(root, "NoiDung/ThongTinHoSo/SoLuongFile", ENVELOPE_NAME)
    if not declared_count.isdigit() or int(declared_count) != len(files):
        raise m.FILE_COUNT(declared=declared_count, actual=len(files))
    contents: list[tuple[str, str, bytes]] = []  # (form, file name, bytes)
    for index, item in enumerate(files, start=1):
        base = f"NoiDung/ThongTinHoSo/ToKhais/FileToKhai[{index}]"
        for name in _FILE_FIELDS:
            el = item.find(name)
            path = f"Hoso/{base}/{name}"
            if el is None or (not _value(el, ENVELOPE_NAME, path) and name in _NON_EMPTY):
                raise m.FIELD_MISSING(document=ENVELOPE_NAME, path=path)
        form, filename = (
            _text(item, "MaToKhai", ENVELOPE_NAME),
            _text(item, "TenFile", ENVELOPE_NAME),
        )
        encoded = _text(item, "NoiDungFile", ENVELOPE_NAME)
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise m.FILE_BASE64(name=filename) from None
        declared_length = _text(item, "DoDaiFile", ENVELOPE_NAME)
        if declared_length != str(len(encoded)):
            raise m.FILE_LENGTH(name=filename, declared=declared_length, actual=len(encoded))
        extension = posixpath.splitext(filename)[1]
        declared_type = _text(item, "LoaiFile", ENVELOPE_NAME)
        if declared_type != extension:
            raise m.FILE_TYPE(name=filename, declared=declared_type, actual=extension or "không có")
        contents.append((form, filename, content))

    forms = [form for form, _, _ in contents]
    for form in forms:
        if form not in procedure.allowed_forms:
            raise m.FORM_NOT_ALLOWED(procedure=code, form=form)
    for form in sorted(procedure.required_forms):
        if form not in forms:
            raise m.FORM_MISSING(procedure=code, form=form)

    signers = [_verify(tree, ENVELOPE_NAME, ("Hoso", "CKy_Dvi"), trust, now, tax_code)]
    for form, filename, content in contents:
        if form == ATTACHMENT_FORM:
            # PDFs signed by the unit when trust.require_signed_pdf; others opaque bytes
            signers.extend(check_attachment(content, filename, tax_code, trust, now))
            continue
        signers.append(
            _inspect_declaration(
                content, form, filename, tax_code, trust, now, max_bytes, max_depth
            )
        )
    return Inspected(
        kind="envelope",
        procedure=code,
        form="",
        unit_code=unit_code,
        tax_code=tax_code,
        agency_code=_text(root, "NoiDung/ThongTinDonVi/CoQuanQuanLy", ENVELOPE_NAME),
        unit_name=_text(root, "NoiDung/ThongTinDonVi/TenDoiTuong", ENVELOPE_NAME),
        period=_text(root, "NoiDung/ThongTinHoSo/KyKeKhai", ENVELOPE_NAME),
        signers=tuple(signers),
        ivan_code=_text(root, "NoiDung/ThongTinIVAN/MaIVAN", ENVELOPE_NAME),
        declarations=tuple((form, data) for form, _, data in contents if form != ATTACHMENT_FORM),
    )


def _check_period(period: str, now: dt.datetime) -> None:
    """KyKeKhai is MM/yyyy and not later than the current month in Vietnam."""
    month, _, year = period.partition("/")
    if not (
        len(period) == _PERIOD_DIGITS
        and month.isdigit()
        and year.isdigit()
        and 1 <= int(month) <= 12
    ):
        raise m.PERIOD_FORMAT(period=period, document=ENVELOPE_NAME)
    here = now.astimezone(_VN)
    if (int(year), int(month)) > (here.year, here.month):
        raise m.PERIOD_FUTURE(
            period=period, document=ENVELOPE_NAME, current=f"{here.month:02d}/{here.year}"
        )


class _Shape:
    """Walks one declaration against its layout; the first problem is the refusal."""

    def __init__(self, filename: str, form: str, row_path: str) -> None:
        self.filename = filename
        self.form = form
        self.row_path = row_path
        self.rows = 0

    def walk(self, el: etree._Element, spec: FieldSpec, where: str, path: str) -> None:
        order = {c.name: i for i, c in enumerate(spec.children)}
        last = -1
        present: set[str] = set()
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = child.tag
            if name not in order:
                raise m.DECLARATION_UNKNOWN(
                    name=self.filename, where=where, field=name, form=self.form
                )
            index = order[name]
            child_spec = spec.children[index]
            if index < last:
                raise m.DECLARATION_ORDER(
                    name=self.filename,
                    where=where,
                    field=name,
                    before=spec.children[last].name,
                )
            if index == last and not child_spec.repeated:
                raise m.DECLARATION_DUPLICATE(name=self.filename, where=where, field=name)
            last = index
            present.add(name)
            child_path = f"{path}/{name}" if path else name
            if child_spec.kind == "group" and child_spec.children:
                if child_path == self.row_path:
                    self.rows += 1
                    child_where = f"dòng {self.rows}"
                else:
                    child_where = f"{where}/{name}" if path else f"<{name}>"
                self.walk(child, child_spec, child_where, child_path)
            elif child_spec.kind != "group":
                try:
                    value = text_as_signed(child).strip()
                except NotPlainText as exc:
                    raise m.DECLARATION_NOT_TEXT(
                        name=self.filename, where=where, field=name, child=exc.child
                    ) from None
                if child_spec.required and not value:
                    raise m.DECLARATION_REQUIRED(name=self.filename, where=where, field=name)
        for child_spec in spec.children:
            if child_spec.required and child_spec.name not in present:
                raise m.DECLARATION_REQUIRED(name=self.filename, where=where, field=child_spec.name)


def _check_shape(root: etree._Element, form: str, filename: str) -> None:
    layout = FORM_LAYOUTS.get(form)
    if layout is None:  # forms without a layout in the catalogue: only the signature slot
        if root.find("Cky") is None:
            raise m.FIELD_MISSING(document=filename, path=f"{form}/Cky")
        return
    shape = _Shape(filename, form, layout.row_path)
    shape.walk(root, FieldSpec(form, "group", children=layout.top), f"thẻ gốc <{form}>", "")
    if shape.rows == 0:
        raise m.DECLARATION_NO_ROWS(name=filename, path=layout.row_path)


def _inspect_declaration(
    content: bytes,
    form: str,
    filename: str,
    tax_code: str,
    trust: Trust,
    now: dt.datetime,
    max_bytes: int,
    max_depth: int,
) -> Signer:
    tree = _parse(content, filename, max_bytes, max_depth)
    root = tree.getroot()
    if root.tag != form:
        raise m.DECLARATION_ROOT(name=filename, actual=root.tag, form=form)
    signer = _verify(tree, filename, (form, "Cky"), trust, now, tax_code)
    # The content model is checked on the signed document without its Signature.
    slot = root.find("Cky")
    if slot is not None:
        for signature in list(slot):
            slot.remove(signature)
    _check_shape(root, form, filename)
    return signer


# ------------------------------------------------------------------- registration forms
def inspect_registration(
    data: bytes,
    unit_code: str,
    trust: Trust,
    now: dt.datetime,
    *,
    max_bytes: int,
    max_depth: int,
) -> Inspected:
    """Check a 04/05/06 form: structure, catalogue, signature, and that the certificate
    named in ``ChungThuSo`` is the one that signed it.

    Raises:
        Refusal: the first problem found (code and exact message).
    """
    tree = _parse(data, REGISTRATION_NAME, max_bytes, max_depth)
    root = tree.getroot()
    if root.tag != "Hoso":
        raise m.ROOT(document=REGISTRATION_NAME, expected="Hoso", actual=root.tag)
    code = _text(root, "NoiDung/MaThuTuc", REGISTRATION_NAME)
    procedure = PROCEDURES.get(code)
    if procedure is None:
        raise m.UNKNOWN_PROCEDURE()
    if procedure.kind != "registration":
        raise m.WRONG_KIND(procedure=code, expected="envelope", actual="registration")
    form = _text(root, "NoiDung/MaToKhai", REGISTRATION_NAME)
    document = f"{form}.xml" if form else REGISTRATION_NAME
    if form not in procedure.allowed_forms:
        raise m.FORM_CODE(form=form, procedure=code)
    _require(root, document, _REGISTRATION_FIELDS + (_STOP_FIELDS if code == "06" else ()))
    declared_unit = _text(root, "NoiDung/ThongTinDonVi/MaSoBHXH", document)
    if declared_unit != unit_code:
        raise m.UNIT_MISMATCH(document=document, declared=declared_unit, unit=unit_code)
    tax_code = _text(root, "NoiDung/ThongTinDonVi/MaSoThue", document)
    signer = _verify(tree, document, ("Hoso", "CKy_Dvi"), trust, now, tax_code)
    declared_serial_text = _text(root, "NoiDung/ChungThuSo/SERIAL", document)
    try:
        declared_serial: int | None = int(declared_serial_text, 16)
    except ValueError:
        declared_serial = None
    if declared_serial != signer.certificate.serial_number:
        raise m.FORM_CERTIFICATE(
            declared=declared_serial_text, actual=format(signer.certificate.serial_number, "X")
        )
    return Inspected(
        kind="registration",
        procedure=code,
        form=form,
        unit_code=unit_code,
        tax_code=tax_code,
        agency_code=_text(root, "NoiDung/ThongTinDonVi/CoQuanQuanLy", document),
        unit_name=_text(root, "NoiDung/ThongTinDonVi/TenDonVi", document),
        period="",
        signers=(signer,),
        declared_serial=declared_serial,
        ivan_code=_text(root, "NoiDung/ThongTinIVAN/MaIVAN", document),
    )
