"""PDF attachments checked before any digest exists: a real PDF (header, tail, cross
references), not encrypted, not locked by an earlier certification, of an accepted type,
not a denial of service; and the policy that says which attachments are signed in place
and which travel embedded. Every refusal names unit, dossier and file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal

from bhxh.errors import AttachmentInvalid
from bhxh.settings import get_settings
from bhxh.signing._asn1 import pyhanko_ready

AttachmentAction = Literal["sign_pdf", "embed"]

__all__ = [
    "AttachmentAction",
    "attachment_policy",
    "check_pdf",
]

# Where the I-VAN's header must be: PDF allows 1024 bytes of junk before it, we do not
# (a file that starts with something else is not what its name says).
_HEADER = b"%PDF-"
_TAIL_WINDOW = 2048
# Cross-checks against a PDF whose object graph is large enough to be a denial of service.
_MAX_OBJECTS = 200_000
#: What reading a hostile PDF can raise besides pyHanko's PdfError (added where used):
#: a malformed number, a missing key, an object of the wrong type, nesting deep enough to
#: exhaust Python's recursion limit.
_READ_ERRORS_BASE: tuple[type[BaseException], ...] = (
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    RecursionError,
)


# ============================================================================= errors
def _refuse(code: str, vi: str, en: str, ctx: dict[str, str]) -> AttachmentInvalid:
    return AttachmentInvalid(code, vi, en, **ctx)


def _ctx(unit: str, dossier: str, filename: str) -> dict[str, str]:
    return {"unit": unit, "dossier": dossier, "filename": filename}


# ========================================================================= the checks
def check_pdf(
    pdf: bytes, *, limit: int, unit: str = "", dossier: str = "", filename: str = ""
) -> None:
    """Refuse a PDF that cannot be signed safely; cheap (no signing, no font).

    Call it for every PDF attachment before the first approval. ``unit``, ``dossier``
    and ``filename`` only go into the message.

    Raises:
        AttachmentInvalid: ``too_large``, ``not_pdf``, ``truncated``, ``encrypted``,
            ``damaged`` (broken cross-reference table or objects) or ``locked`` (an
            earlier certification signature forbids any change).
    """
    ctx = _ctx(unit, dossier, filename)
    if len(pdf) > limit:
        raise _refuse(
            "too_large",
            f"tệp {len(pdf)} byte, lớn hơn giới hạn {limit} byte (BHXH_MAX_PDF_BYTES)",
            f"{len(pdf)} bytes, above the {limit}-byte limit (BHXH_MAX_PDF_BYTES)",
            ctx,
        )
    if not pdf.startswith(_HEADER):
        raise _refuse(
            "not_pdf",
            "không phải tệp PDF, thiếu đầu tệp %PDF-",
            "not a PDF file, no %PDF- header",
            ctx,
        )
    tail = pdf[-_TAIL_WINDOW:]
    if b"%%EOF" not in tail or b"startxref" not in tail:
        raise _refuse(
            "truncated",
            "tệp PDF bị cắt cụt, thiếu startxref / %%EOF ở cuối tệp; hãy lấy lại tệp gốc",
            "the PDF is truncated, no startxref / %%EOF at its end; fetch the original again",
            ctx,
        )
    _open_strict(pdf, ctx)


def _damaged(ctx: dict[str, str], detail: str) -> AttachmentInvalid:
    return _refuse(
        "damaged",
        "tệp PDF bị hỏng, bảng tham chiếu chéo hoặc đối tượng không đọc được; "
        "hãy lưu lại tệp từ phần mềm đã tạo ra nó",
        f"the PDF is damaged, its cross-reference table or objects cannot be read: {detail}; "
        "save it again from the software that made it",
        ctx,
    )


def _open_strict(pdf: bytes, ctx: dict[str, str]) -> Any:
    """A strict pyHanko reader over ``pdf`` whose every object was read once."""
    pyhanko_ready()
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    read_errors: tuple[type[BaseException], ...] = (PdfError, *_READ_ERRORS_BASE)

    try:
        reader: Any = PdfFileReader(io.BytesIO(pdf), strict=True)
    except read_errors as exc:
        raise _damaged(ctx, _short(exc)) from None
    if reader.encrypted:
        raise _refuse(
            "encrypted",
            "tệp PDF được bảo vệ bằng mật khẩu hoặc mã hoá, không ký được; "
            "hãy lưu một bản không mật khẩu",
            "the PDF is encrypted with a password or certificate, it cannot be signed; "
            "save an unprotected copy",
            ctx,
        )
    try:
        if reader.xrefs.hybrid_xrefs_present:
            raise _damaged(ctx, "hybrid cross-reference sections")
        refs: set[Any] = set()
        for revision in range(reader.total_revisions):
            refs |= reader.xrefs.explicit_refs_in_revision(revision)
            if len(refs) > _MAX_OBJECTS:
                raise _damaged(ctx, f"more than {_MAX_OBJECTS} objects")
        for ref in refs:
            reader.get_object(ref)
        pages = reader.root["/Pages"]
        if int(pages.get("/Count", 0)) < 1:
            raise _damaged(ctx, "no page")
        page_ref, _ = reader.find_page_for_modification(0)
        page_ref.get_object()
    except AttachmentInvalid:
        raise
    except read_errors as exc:
        raise _damaged(ctx, _short(exc)) from None
    _check_not_locked(reader, ctx)
    return reader


def _check_not_locked(reader: Any, ctx: dict[str, str]) -> None:
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation import read_certification_data

    try:
        certification = read_certification_data(reader)
    except Exception as exc:  # any oddity in a certification dictionary is damage
        raise _damaged(ctx, _short(exc)) from None
    if certification is not None and certification.permission == MDPPerm.NO_CHANGES:
        raise _refuse(
            "locked",
            "tệp PDF đã được chứng thực với quyền 'không cho phép thay đổi', "
            "ký thêm sẽ làm mất hiệu lực chữ ký trước",
            "the PDF carries a certification signature that allows no change; "
            "another signature would invalidate it",
            ctx,
        )


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


# ------------------------------------------------------------------ attachment types
#: Types embedded as they are (the envelope's signature covers them), with the first
#: bytes their content must start with. The I-VAN documents are silent on which types
#: VSS takes beside PDF; our choice: scans (JPEG, PNG, TIFF) and Office files (the legacy
#: binary formats and OOXML), the ones accountants attach.
_EMBEDDED_TYPES: dict[str, tuple[bytes, ...]] = {
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".tif": (b"II*\x00", b"MM\x00*"),
    ".tiff": (b"II*\x00", b"MM\x00*"),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
}


def attachment_policy(
    filename: str,
    content: bytes,
    *,
    limit: int | None = None,
    unit: str = "",
    dossier: str = "",
) -> AttachmentAction:
    """What happens to one attachment: ``"sign_pdf"`` (signed in round 1) or ``"embed"``
    (embedded unsigned, covered by the envelope's signature); refused otherwise.

    The type comes from the extension (any case) and the content must match it. A PDF
    also passes :func:`check_pdf`. ``limit`` defaults to ``BHXH_MAX_PDF_BYTES`` and
    applies to every type.

    Example:
        >>> attachment_policy("scan.JPG", b"\\xff\\xd8\\xff\\xe0...", limit=1000)
        'embed'

    Raises:
        AttachmentInvalid: ``type_refused``, ``content_mismatch``, ``too_large`` or any
            refusal of :func:`check_pdf`.
    """
    ctx = _ctx(unit, dossier, filename)
    limit = get_settings().max_pdf_bytes if limit is None else limit
    extension = Path(filename).suffix.lower()
    if extension == ".pdf":
        check_pdf(content, limit=limit, **ctx)
        return "sign_pdf"
    magics = _EMBEDDED_TYPES.get(extension)
    if magics is None:
        accepted = ", ".join([".pdf", *_EMBEDDED_TYPES])
        raise _refuse(
            "type_refused",
            f"loại tệp {extension or '(không có phần mở rộng)'} không được nhận; "
            f"chỉ nhận {accepted}",
            f"file type {extension or '(no extension)'} is not accepted; accepted: {accepted}",
            ctx,
        )
    if len(content) > limit:
        raise _refuse(
            "too_large",
            f"tệp {len(content)} byte, lớn hơn giới hạn {limit} byte (BHXH_MAX_PDF_BYTES)",
            f"{len(content)} bytes, above the {limit}-byte limit (BHXH_MAX_PDF_BYTES)",
            ctx,
        )
    if content.startswith(_HEADER) or not content.startswith(magics):
        raise _refuse(
            "content_mismatch",
            f"nội dung tệp không phải {extension} như tên tệp cho biết",
            f"the content is not the {extension} file its name says",
            ctx,
        )
    return "embed"
