"""Hostile and odd attachments: each refused before any approval (no digest exists yet),
with a typed error naming unit, dossier and file; the attachment type policy."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bhxh.errors import AttachmentInvalid, DossierInvalid
from bhxh.settings import Settings
from bhxh.signing import attachment_policy, check_pdf, prepare_pdf_signature
from demo.attachments import labour_contract_pdf
from sandbox.pki import IssuedCertificate, TestPKI
from tests.bhxh.signing.pdf.pdf_support import SIGNING_TIME, certified_pdf, encrypted_pdf

LIMIT = 10 * 1024 * 1024
WHERE = {"unit": "TZ9876B", "dossier": "01-bao-tang"}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
OOXML = b"PK\x03\x04" + bytes(64)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64)


def _classic() -> bytes:
    return labour_contract_pdf()


def _xref_offsets_shifted() -> bytes:
    pdf = _classic()
    return re.sub(rb"(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % (int(m.group(1)) + 7), pdf)


def _xref_table_garbage() -> bytes:
    pdf = _classic()
    start = pdf.rindex(b"\nxref\n") + 1
    return pdf[:start] + b"xref\nnot a table\n" + pdf[pdf.index(b"trailer", start) :]


def _startxref_wrong() -> bytes:
    pdf = _classic()
    return pdf[: pdf.rindex(b"startxref")] + b"startxref\n12\n%%EOF\n"


def _xref_stream_damaged() -> bytes:
    pdf = labour_contract_pdf(xref_stream=True)
    return pdf[: len(pdf) - 300] + bytes(250) + pdf[-50:]


def _deeply_nested() -> bytes:
    """An incremental update whose catalogue holds 50 000 nested arrays."""
    pdf = _classic()
    previous = int(pdf[pdf.rindex(b"startxref") + len(b"startxref") :].split()[0])
    body = b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X " + b"[" * 50_000 + b"]" * 50_000
    update = pdf + body + b" >>\nendobj\n"
    return update + (
        b"xref\n1 1\n%010d 00000 n \ntrailer\n<< /Size 15 /Root 1 0 R /Prev %d >>\n"
        b"startxref\n%d\n%%%%EOF\n" % (len(pdf), previous, len(update))
    )


#: case -> (bytes, expected code). The README's hostile-input table lists the same cases.
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "a ZIP named .pdf": (lambda: OOXML, "not_pdf"),
    "an HTML page named .pdf": (lambda: b"<!DOCTYPE html><html>...</html>", "not_pdf"),
    "an empty file": (lambda: b"", "not_pdf"),
    "junk before the header": (lambda: b"\xef\xbb\xbf" + _classic(), "not_pdf"),
    "cut in half": (lambda: _classic()[: len(_classic()) // 2], "truncated"),
    "the last bytes missing": (lambda: _classic()[:-6], "truncated"),
    "password protected": (encrypted_pdf, "encrypted"),
    "cross-reference offsets shifted": (_xref_offsets_shifted, "damaged"),
    "cross-reference table garbage": (_xref_table_garbage, "damaged"),
    "startxref pointing nowhere": (_startxref_wrong, "damaged"),
    "cross-reference stream damaged": (_xref_stream_damaged, "damaged"),
    "no page": (lambda: _classic().replace(b"/Count 1", b"/Count 0"), "damaged"),
    "50 000 nested arrays": (_deeply_nested, "damaged"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_pdf_is_refused_with_a_message_naming_unit_dossier_and_file(
    case: str,
) -> None:
    make, code = HOSTILE[case]
    with pytest.raises(AttachmentInvalid) as info:
        check_pdf(make(), limit=LIMIT, filename="Hợp đồng.pdf", **WHERE)
    err = info.value
    assert err.code == code
    assert str(err).startswith("Đơn vị TZ9876B, hồ sơ 01-bao-tang, tệp Hợp đồng.pdf: ")
    assert "Traceback" not in str(err) and "\n" not in str(err)


@pytest.mark.parametrize(
    "case", ["cut in half", "password protected", "startxref pointing nowhere"]
)
def test_prepare_refuses_the_same_pdfs_before_any_digest_exists(
    case: str, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    make, code = HOSTILE[case]
    with pytest.raises(AttachmentInvalid) as info:
        prepare_pdf_signature(
            make(), issued.der, chain, signing_time=SIGNING_TIME, stamp=None, filename="a.pdf"
        )
    assert info.value.code == code


def test_a_pdf_above_the_limit_is_refused_and_the_limit_is_a_setting(
    monkeypatch: pytest.MonkeyPatch, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    pdf = _classic()
    with pytest.raises(AttachmentInvalid) as info:
        check_pdf(pdf, limit=len(pdf) - 1, filename="a.pdf")
    assert info.value.code == "too_large" and "BHXH_MAX_PDF_BYTES" in str(info.value)
    monkeypatch.setenv("BHXH_MAX_PDF_BYTES", str(len(pdf) - 1))
    assert Settings().max_pdf_bytes == len(pdf) - 1
    with pytest.raises(AttachmentInvalid, match="BHXH_MAX_PDF_BYTES"):
        prepare_pdf_signature(pdf, issued.der, chain, signing_time=SIGNING_TIME, stamp=None)
    with pytest.raises(AttachmentInvalid, match="BHXH_MAX_PDF_BYTES"):
        attachment_policy("a.pdf", pdf)


def test_the_default_limit_leaves_room_in_a_20_mib_envelope() -> None:
    assert Settings().max_pdf_bytes * 4 / 3 < 20 * 1024 * 1024


def test_a_certification_that_forbids_any_change_is_refused(
    other_issued: IssuedCertificate, pki: TestPKI
) -> None:
    locked = certified_pdf(_classic(), other_issued, pki, no_changes=True)
    with pytest.raises(AttachmentInvalid) as info:
        check_pdf(locked, limit=LIMIT, filename="giay-ra-vien.pdf", **WHERE)
    assert info.value.code == "locked"


def test_an_attachment_error_is_a_dossier_error_and_a_value_error() -> None:
    with pytest.raises(DossierInvalid):
        check_pdf(b"nope", limit=LIMIT)
    with pytest.raises(ValueError):
        check_pdf(b"nope", limit=LIMIT)


def test_a_caller_can_name_the_file_later() -> None:
    with pytest.raises(AttachmentInvalid) as info:
        check_pdf(b"nope", limit=LIMIT)
    assert str(info.value).startswith("không phải tệp PDF")
    named = info.value.for_file(unit="TA0001A", dossier="d1", filename="x.pdf")
    assert str(named).startswith("Đơn vị TA0001A, hồ sơ d1, tệp x.pdf: không phải tệp PDF")
    assert named.code == "not_pdf"


# ------------------------------------------------------------------ attachment types
@pytest.mark.parametrize(
    ("filename", "content", "action"),
    [
        ("Hợp đồng lao động.pdf", None, "sign_pdf"),
        ("HOP-DONG.PDF", None, "sign_pdf"),
        ("scan.jpg", JPEG, "embed"),
        ("scan.JPEG", JPEG, "embed"),
        ("giay-kham.png", PNG, "embed"),
        ("quyet-dinh.docx", OOXML, "embed"),
        ("bang-luong.xlsx", OOXML, "embed"),
        ("cu.doc", OLE, "embed"),
        ("cu.xls", OLE, "embed"),
        ("fax.tif", b"II*\x00" + bytes(16), "embed"),
    ],
)
def test_pdfs_are_signed_and_scans_and_office_files_are_embedded(
    filename: str, content: bytes | None, action: str
) -> None:
    data = _classic() if content is None else content
    assert attachment_policy(filename, data, limit=LIMIT, **WHERE) == action


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("setup.exe", b"MZ" + bytes(64), "type_refused"),
        ("ho-so.zip", OOXML, "type_refused"),
        ("ghi-chu.txt", b"hello", "type_refused"),
        ("khong-duoi", JPEG, "type_refused"),
        ("anh.jpg", PNG, "content_mismatch"),
        ("anh.png", b"%PDF-1.7\n" + bytes(16), "content_mismatch"),
        ("bang.xlsx", OLE, "content_mismatch"),
        ("hop-dong.pdf", JPEG, "not_pdf"),
    ],
)
def test_other_types_and_contents_that_lie_about_their_name_are_refused(
    filename: str, content: bytes, code: str
) -> None:
    with pytest.raises(AttachmentInvalid) as info:
        attachment_policy(filename, content, limit=LIMIT, **WHERE)
    assert info.value.code == code
    assert f"tệp {filename}:" in str(info.value)


def test_an_embedded_file_above_the_limit_is_refused() -> None:
    with pytest.raises(AttachmentInvalid) as info:
        attachment_policy("scan.jpg", JPEG, limit=10, **WHERE)
    assert info.value.code == "too_large"
