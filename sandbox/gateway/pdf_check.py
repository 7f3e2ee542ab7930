"""The sandbox gateway's own check of a signed PDF attachment (CT-DK).

Written from ISO 32000-1 §12.8 (``/ByteRange``, ``/Contents``) and RFC 5652 (CMS),
independently of ``bhxh.signing`` and of pyHanko: the byte range and the signature value
are found in the raw bytes, the CMS is read with asn1crypto, the digests and the RSA
signature are checked with ``cryptography``, and the certificate is judged by the
gateway's :class:`~sandbox.gateway.trust.Trust` (chain to the test root, validity at
signing time, revocation) after the ``UID=MST:`` check below.

What it accepts: a signature whose ``/ByteRange [0 b c d]`` covers the whole file but
its own ``/Contents <hex>`` (``c + d`` is the file's length: nothing was appended after
signing), a CMS ``SignedData`` with one signer over SHA-256 (RSA PKCS#1 v1.5), signed
attributes holding content-type ``data`` and the message digest of the byte range, and
a signer certificate whose ``UID=MST:`` is the envelope's ``MaSoThue``. Earlier
signatures (a PDF signed by a hospital before the unit signed it) are left alone: the
unit's signature, the last one, covers them.

Example:
    >>> check_signed_pdf(pdf, "hop-dong.pdf", "0101234567", trust, now)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from asn1crypto import cms  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sandbox import pki as test_pki
from sandbox.gateway.messages import Message
from sandbox.gateway.trust import Signer, Trust

__all__ = [
    "PDF_ALTERED",
    "PDF_SIGNATURE_INVALID",
    "PDF_SIGNER_MST",
    "PDF_UNSIGNED",
    "check_attachment",
    "check_signed_pdf",
]

PDF_UNSIGNED = Message(
    "pdf_unsigned",
    "Tệp đính kèm {name} chưa được đơn vị ký số (the PDF attachment {name} is not signed "
    "by the unit)",
)
PDF_ALTERED = Message(
    "pdf_altered",
    "Tệp đính kèm {name} đã bị thay đổi sau khi ký: {reason} (the PDF attachment {name} "
    "was altered after signing: {reason_en})",
)
PDF_SIGNATURE_INVALID = Message(
    "pdf_signature_invalid",
    "Chữ ký số của tệp đính kèm {name} không hợp lệ: {reason} (the signature of the PDF "
    "attachment {name} is invalid: {reason_en})",
)
PDF_SIGNER_MST = Message(
    "pdf_signer_mst",
    "Tệp đính kèm {name} được ký bằng chứng thư số của đơn vị khác ({certificate}), "
    "không phải MaSoThue {declared} (the PDF attachment {name} is signed with another "
    "unit's certificate)",
)

_BYTE_RANGE = re.compile(
    rb"/ByteRange\s*\[\s*(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s*\]"
)
_CONTENTS_KEY = re.compile(rb"/Contents\s*$")
_HEX = re.compile(rb"[0-9A-Fa-f\s]*")
_SHA256_RSA = {"sha256_rsa", "rsassa_pkcs1v15"}


@dataclass(frozen=True)
class _Found:
    offsets: tuple[int, int, int, int]
    cms_der: bytes


def _altered(name: str, vi: str, en: str) -> Exception:
    return PDF_ALTERED(name=name, reason=vi, reason_en=en)


def _invalid(name: str, vi: str, en: str) -> Exception:
    return PDF_SIGNATURE_INVALID(name=name, reason=vi, reason_en=en)


def check_attachment(
    content: bytes,
    filename: str,
    tax_code: str,
    trust: Trust,
    now: dt.datetime,
) -> list[Signer]:
    """The envelope check's hook for one CT-DK file: a ``.pdf`` must be signed by the unit
    when the gateway's ``trust.require_signed_pdf`` is on; other files pass untouched.

    Returns:
        The verified signer (one) or nothing, for the envelope's list of signers (the
        gateway then checks it is the unit's registered certificate).
    """
    if not trust.config.require_signed_pdf or not filename.lower().endswith(".pdf"):
        return []
    return [check_signed_pdf(content, filename, tax_code, trust, now)]


def check_signed_pdf(
    content: bytes,
    filename: str,
    tax_code: str,
    trust: Trust,
    now: dt.datetime,
) -> Signer:
    """Verify the unit's signature over the whole PDF.

    Raises:
        Refusal: ``pdf_unsigned``, ``pdf_altered``, ``pdf_signature_invalid``,
            ``pdf_signer_mst``, or the trust refusals (expired, revoked, untrusted).
    """
    found = _last_signature(content, filename)
    a, b, c, d = found.offsets
    signed_data = _signed_data(found.cms_der, filename)
    infos = signed_data["signer_infos"]
    if len(infos) != 1:
        raise _invalid(
            filename,
            f"phải có đúng một người ký, tìm thấy {len(infos)}",
            f"exactly one signer expected, found {len(infos)}",
        )
    info = infos[0]
    if info["digest_algorithm"]["algorithm"].native != "sha256":
        raise _invalid(filename, "thuật toán băm phải là SHA-256", "the digest must be SHA-256")
    if info["signature_algorithm"]["algorithm"].native not in _SHA256_RSA:
        raise _invalid(
            filename,
            "thuật toán ký phải là RSA PKCS#1 v1.5 với SHA-256",
            "the signature algorithm must be RSA PKCS#1 v1.5 with SHA-256",
        )
    attrs = info["signed_attrs"]
    if not isinstance(attrs, cms.CMSAttributes) or len(attrs) == 0:
        raise _invalid(filename, "thiếu thuộc tính được ký", "no signed attributes")
    values = _attributes(attrs, filename)
    if values.get("content_type") != ["data"]:
        raise _invalid(filename, "content-type phải là data", "content-type must be data")
    digests = values.get("message_digest", [])
    if len(digests) != 1:
        raise _invalid(filename, "thiếu message-digest", "no message-digest attribute")
    covered = hashlib.sha256()
    covered.update(content[a : a + b])
    covered.update(content[c : c + d])
    if not isinstance(digests[0], bytes) or not hmac.compare_digest(covered.digest(), digests[0]):
        raise _altered(
            filename,
            "nội dung không khớp giá trị băm đã ký",
            "the content does not match the signed digest",
        )
    cert = _signer_certificate(signed_data, info, filename)
    _check_signing_certificate_v2(values, cert, filename)
    public_key = cert.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise _invalid(filename, "khóa công khai không phải RSA", "the public key is not RSA")
    # The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4), not
    # their [0] IMPLICIT form in SignerInfo: the bytes as received, with the SET tag.
    signed_bytes = b"\x31" + _der_length(len(attrs.contents)) + attrs.contents
    try:
        public_key.verify(
            info["signature"].native, signed_bytes, padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        raise _invalid(
            filename,
            "giá trị chữ ký không khớp thuộc tính được ký và khóa công khai của chứng thư số",
            "the signature value does not match the signed attributes and the certificate",
        ) from None
    mst = test_pki.mst_of(cert)
    if mst != tax_code:
        raise PDF_SIGNER_MST(
            name=filename, certificate=f"MST:{mst}" if mst else "không có MST", declared=tax_code
        )
    times = values.get("signing_time", [])
    signing_time = times[0] if times and isinstance(times[0], dt.datetime) else None
    return trust.check(filename, cert, signing_time, now, tax_code)


# ------------------------------------------------------------------------ raw parsing
def _last_signature(content: bytes, name: str) -> _Found:
    """The signature whose byte range ends at the end of the file."""
    ranges = [tuple(int(g) for g in m.groups()) for m in _BYTE_RANGE.finditer(content)]
    if not content.startswith(b"%PDF-") or not ranges:
        raise PDF_UNSIGNED(name=name)
    at_end = [r for r in ranges if r[2] + r[3] == len(content)]
    if not at_end:
        raise _altered(
            name,
            "có dữ liệu được thêm vào sau chữ ký cuối cùng",
            "bytes were added after the last signature",
        )
    if len(at_end) > 1:
        raise _invalid(
            name,
            "nhiều chữ ký cùng tự nhận bao trùm cả tệp",
            "several signatures claim to cover the whole file",
        )
    a, b, c, d = at_end[0]
    if a != 0 or not (0 < b < c <= len(content)):
        raise _altered(
            name,
            f"ByteRange [{a} {b} {c} {d}] không bao trùm toàn bộ tệp",
            f"ByteRange [{a} {b} {c} {d}] does not cover the whole file",
        )
    gap = content[b:c]
    if len(gap) < 2 or gap[:1] != b"<" or gap[-1:] != b">" or not _HEX.fullmatch(gap[1:-1]):
        raise _altered(
            name,
            "phần không được ký không phải đúng giá trị /Contents của chữ ký",
            "the unsigned gap is not exactly the signature's /Contents value",
        )
    if not _CONTENTS_KEY.search(content[max(0, b - 64) : b]):
        raise _altered(
            name,
            "phần không được ký không đứng sau khóa /Contents",
            "the unsigned gap does not follow the /Contents key",
        )
    hex_digits = re.sub(rb"\s", b"", gap[1:-1])
    if len(hex_digits) % 2:
        raise _invalid(name, "/Contents có số chữ số hex lẻ", "odd number of hex digits")
    raw = bytes.fromhex(hex_digits.decode("ascii"))
    return _Found((a, b, c, d), _strip_padding(raw, name))


def _strip_padding(raw: bytes, name: str) -> bytes:
    """The DER object at the start of ``raw``; what follows must be zero padding."""
    try:
        if raw[0] != 0x30:
            raise ValueError
        first = raw[1]
        if first < 0x80:
            header, length = 2, first
        else:
            count = first & 0x7F
            if not 1 <= count <= 4:
                raise ValueError
            header, length = 2 + count, int.from_bytes(raw[2 : 2 + count], "big")
    except (IndexError, ValueError):
        raise _invalid(name, "/Contents không phải CMS", "/Contents is not a CMS object") from None
    end = header + length
    if end > len(raw) or raw[end:].strip(b"\x00"):
        raise _invalid(
            name, "/Contents có dữ liệu lạ sau CMS", "/Contents has data after the CMS object"
        )
    return raw[:end]


def _signed_data(der: bytes, name: str) -> cms.SignedData:
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed = info["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].native != "data" or encap["content"].native is not None:
            raise ValueError("not a detached signature over data")
        signed.native  # noqa: B018 -- parse every field now, so damage shows here
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        detail = str(exc)[:120]
        raise _invalid(
            name, f"CMS không đọc được ({detail})", f"unreadable CMS ({detail})"
        ) from None
    assert isinstance(signed, cms.SignedData)
    return signed


def _attributes(attrs: cms.CMSAttributes, name: str) -> dict[str, list[object]]:
    values: dict[str, list[object]] = {}
    for attr in attrs:
        kind = attr["type"].native
        if kind in values:
            raise _invalid(name, f"thuộc tính {kind} lặp lại", f"attribute {kind} given twice")
        values[kind] = [v.native for v in attr["values"]]
    return values


def _signer_certificate(
    signed: cms.SignedData, info: cms.SignerInfo, name: str
) -> x509.Certificate:
    sid = info["sid"]
    if sid.name != "issuer_and_serial_number":
        raise _invalid(name, "SignerIdentifier không hỗ trợ", "unsupported SignerIdentifier")
    issuer = sid.chosen["issuer"]
    serial = sid.chosen["serial_number"].native
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if cert.serial_number == serial and cert.issuer == issuer:
            return x509.load_der_x509_certificate(cert.dump())
    raise _invalid(
        name, "CMS không chứa chứng thư số của người ký", "the CMS lacks the signer's certificate"
    )


def _check_signing_certificate_v2(
    values: dict[str, list[object]], cert: x509.Certificate, name: str
) -> None:
    """ESS signing-certificate-v2, when present, must name this certificate (SHA-256)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    found = values.get("signing_certificate_v2")
    if not found:
        return
    first = found[0]
    certs = first.get("certs") if isinstance(first, dict) else None
    if not certs:
        raise _invalid(name, "signing-certificate-v2 rỗng", "empty signing-certificate-v2")
    entry = certs[0]
    algorithm = (entry.get("hash_algorithm") or {}).get("algorithm", "sha256")
    if algorithm != "sha256":
        raise _invalid(
            name,
            "signing-certificate-v2 phải dùng SHA-256",
            "signing-certificate-v2 must use SHA-256",
        )
    expected = hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()
    if not hmac.compare_digest(entry.get("cert_hash", b""), expected):
        raise _invalid(
            name,
            "signing-certificate-v2 không khớp chứng thư số của người ký",
            "signing-certificate-v2 does not match the signer's certificate",
        )


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body
