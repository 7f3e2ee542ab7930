"""The sandbox gateway's own XMLDSig verifier for the BHXH signature profile.

Written from the XMLDSig 1.0 and C14N 1.0 specifications, independently of ``bhxh``'s
signer (and of signxml), so a mistake in the signer cannot be mirrored by the checker.

What it accepts, and nothing else (the BHXH profile):

* exactly one ``ds:Signature`` in the whole document, the last element child of the
  expected parent (``<ROOT>/Cky`` for declarations, ``Hoso/CKy_Dvi`` for envelopes and
  04/05/06 forms) -- this refuses signature-wrapping;
* ``SignedInfo`` with inclusive C14N 1.0 (no comments), ``rsa-sha256`` and exactly one
  ``Reference URI=""`` whose only transform is ``enveloped-signature``, digest SHA-256;
* ``KeyInfo`` = ``X509Data`` with exactly one ``X509Certificate`` and at most one
  ``KeyValue``, which (unsigned, so anyone could change it) must be the certificate's own
  RSA key;
* no ``Id`` value twice in the document (``Id``, ``ID``, ``id``, ``xml:id``): a second
  element answering to an Id is how a reference is pointed elsewhere;
* an optional ``SigningTime`` inside an ``Object``, in the XMLDSig namespace or, as the
  I-VANs' .NET signers write it, in ``http://example.org/#signatureProperties``.

Every value (here and in the gateway's reading of the documents) is read as it was
signed, with :func:`text_as_signed`: C14N without comments signs a field's characters
whatever splits them, so a comment, a processing instruction or a CDATA section inside a
value never changes what is read (lxml's ``el.text`` would stop at the first comment or
processing instruction: the class of CVE-2017-11427); an element inside a value is
refused (:class:`NotPlainText`).

The digest is computed over the inclusive C14N (without comments) of a re-parsed copy of
the document with the ``Signature`` element removed (the enveloped transform); the
signature value over the C14N of a standalone copy of ``SignedInfo`` carrying every
namespace in scope, as a document-subset canonicalisation requires.

Certificate trust (chain, validity, revocation, identity) is the caller's business: this
module reports the certificate and the signing time it found.

Example:
    >>> parsed = parse_hardened(data)  # doctest: +SKIP
    >>> verified = verify_enveloped(parsed, signature_parent=("Hoso", "CKy_Dvi"))  # doctest: +SKIP
    >>> verified.certificate.serial_number  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

__all__ = [
    "C14N10",
    "DSIG_NS",
    "ENVELOPED",
    "RSA_SHA256",
    "SHA256",
    "NotPlainText",
    "SignatureCheckFailed",
    "UnsafeDocument",
    "VerifiedSignature",
    "own_text",
    "parse_hardened",
    "text_as_signed",
    "verify_enveloped",
]

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
C14N10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
#: Where the I-VANs' signers put ``SigningTime`` (an example namespace, used as is).
SIGNING_TIME_NS = "http://example.org/#signatureProperties"

#: Vietnam's time zone, assumed for a SigningTime without an offset.
_VN = dt.timezone(dt.timedelta(hours=7))

# Reasons, in one place (the gateway wraps them in its own message).
R_COUNT = "phải có đúng một phần tử Signature, tìm thấy {count}"
R_PLACE = "Signature phải là phần tử con cuối của {where}"
R_STRUCTURE = "cấu trúc Signature không đúng: {detail}"
R_C14N = "CanonicalizationMethod phải là C14N 1.0 (inclusive), nhận được {alg}"
R_SIGNATURE_METHOD = "SignatureMethod phải là rsa-sha256, nhận được {alg}"
R_REFERENCE = 'phải có đúng một Reference với URI=""'
R_TRANSFORMS = "Reference chỉ được có một transform enveloped-signature"
R_DIGEST_METHOD = "DigestMethod phải là SHA-256, nhận được {alg}"
R_DIGEST = "DigestValue không khớp nội dung đã ký"
R_VALUE = "SignatureValue không khớp SignedInfo và khóa công khai của chứng thư số"
R_CERTIFICATE = "KeyInfo/X509Data phải có đúng một X509Certificate đọc được"
R_KEY = "khóa công khai của chứng thư số không phải RSA"
R_SIGNING_TIME = "SigningTime không đọc được: {value}"
R_KEY_VALUE = "KeyValue không khớp khóa công khai RSA của chứng thư số"
R_KEY_INFO = "KeyInfo chỉ gồm X509Data và tối đa một KeyValue"
R_DUPLICATE_ID = 'thuộc tính Id "{value}" xuất hiện {count} lần trong tài liệu'
#: Attributes that name an element for a reference (``#value``).
_ID_ATTRIBUTES = ("Id", "ID", "id", "{http://www.w3.org/XML/1998/namespace}id")


class SignatureCheckFailed(ValueError):
    """The signature does not follow the profile or does not verify; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsafeDocument(ValueError):
    """The bytes are refused before use: too large, DOCTYPE, too deep, malformed."""


class NotPlainText(ValueError):
    """A field that must hold plain text holds an element (``child`` names it)."""

    def __init__(self, field: str, child: str) -> None:
        super().__init__(f"<{field}> holds <{child}>")
        self.field = field
        self.child = child


def own_text(el: etree._Element) -> str:
    """All character data directly inside ``el``: its text and the text after each child
    (lxml keeps them apart, in ``el.text`` and each child's ``tail``)."""
    return "".join([el.text or "", *(child.tail or "" for child in el)])


def text_as_signed(el: etree._Element) -> str:
    """A plain-text field's value as C14N (without comments) signs it: every text piece
    of ``el`` joined, comments and processing instructions skipped (CDATA is already
    text after parsing). Whitespace is kept; callers strip.

    Raises:
        NotPlainText: ``el`` holds an element (mixed content is refused, never read
            around).
    """
    for child in el:
        if not isinstance(child, etree._Comment | etree._ProcessingInstruction):
            name = etree.QName(child).localname if isinstance(child.tag, str) else "&entity;"
            raise NotPlainText(_local(el), name)
    return own_text(el)


@dataclass(frozen=True)
class VerifiedSignature:
    """What a verified signature tells: who signed, and when they said they did."""

    certificate: x509.Certificate
    signing_time: dt.datetime | None


def _q(local: str) -> str:
    return f"{{{DSIG_NS}}}{local}"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
    )


def parse_hardened(
    data: bytes, *, max_bytes: int = 20 * 1024 * 1024, max_depth: int = 64
) -> etree._ElementTree:
    """Parse untrusted XML: size limit, no DTD, no entities, no network, depth limit.

    Raises:
        UnsafeDocument: the reason names the limit or the parse error.
    """
    if len(data) > max_bytes:
        raise UnsafeDocument(f"quá lớn ({len(data)} byte, tối đa {max_bytes})")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnsafeDocument("không được có DOCTYPE hay khai báo ENTITY")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeDocument(f"không phải XML hợp lệ: {exc}") from None
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", ""):
        raise UnsafeDocument("không được có DOCTYPE hay khai báo ENTITY")
    for el in root.iter():
        if isinstance(el, etree._Entity):
            raise UnsafeDocument("không được có tham chiếu ENTITY")
    if _depth(root) > max_depth:
        raise UnsafeDocument(f"lồng quá sâu (tối đa {max_depth} cấp)")
    return tree


def _depth(root: etree._Element) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in el)
    return deepest


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _elements(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def _only(parent: etree._Element, local: str, *, required: bool = True) -> etree._Element | None:
    found = [c for c in _elements(parent) if c.tag == _q(local)]
    if len(found) > 1 or (required and not found):
        raise SignatureCheckFailed(
            R_STRUCTURE.format(detail=f"{_local(parent)} phải có đúng một {local}")
        )
    return found[0] if found else None


def _value(el: etree._Element, what: str) -> str:
    try:
        return text_as_signed(el)
    except NotPlainText:
        raise SignatureCheckFailed(
            R_STRUCTURE.format(detail=f"{what} chỉ được chứa văn bản")
        ) from None


def _b64(el: etree._Element, what: str) -> bytes:
    compact = "".join(_value(el, what).split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureCheckFailed(R_STRUCTURE.format(detail=f"{what} không phải base64")) from None


def _c14n_document_without(tree: etree._ElementTree, signature: etree._Element) -> bytes:
    """Enveloped transform then inclusive C14N 1.0 without comments, on a re-parsed copy."""
    copy_root = etree.fromstring(etree.tostring(tree), _parser())
    path = tree.getpath(signature)
    sig_copy = copy_root.getroottree().xpath(path)
    assert isinstance(sig_copy, list) and len(sig_copy) == 1
    target = sig_copy[0]
    assert isinstance(target, etree._Element)
    parent = target.getparent()
    assert parent is not None
    # Only the element goes; the text after it (its lxml "tail") stays in the document.
    if target.tail:
        previous = target.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + target.tail
        else:
            parent.text = (parent.text or "") + target.tail
    parent.remove(target)
    return etree.tostring(
        copy_root.getroottree(), method="c14n", exclusive=False, with_comments=False
    )


def _c14n_subset(el: etree._Element) -> bytes:
    """Inclusive C14N 1.0 of one element as a document subset, via a standalone copy.

    The apex carries every namespace in scope (inclusive C14N renders them there); the
    copy is serialised and re-parsed so no stray ``xmlns=""`` can creep in.
    """
    in_scope = {prefix: uri for prefix, uri in el.nsmap.items()}
    apex = etree.Element(el.tag, nsmap=cast(Any, in_scope))
    for name, value in el.attrib.items():
        apex.set(name, value)
    apex.text = el.text
    for child in el:
        apex.append(copy.deepcopy(child))
    standalone = etree.fromstring(etree.tostring(apex), _parser())
    return etree.tostring(standalone, method="c14n", exclusive=False, with_comments=False)


def _signing_time(signature: etree._Element) -> dt.datetime | None:
    for el in signature.iter(_q("SigningTime"), f"{{{SIGNING_TIME_NS}}}SigningTime", "SigningTime"):
        text = _value(el, "SigningTime").strip()
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise SignatureCheckFailed(R_SIGNING_TIME.format(value=text[:64])) from None
        return value if value.tzinfo else value.replace(tzinfo=_VN)
    return None


def verify_enveloped(
    tree: etree._ElementTree, *, signature_parent: tuple[str, str]
) -> VerifiedSignature:
    """Verify the one enveloped signature of ``tree`` under ``signature_parent``.

    Args:
        tree: a document from :func:`parse_hardened`.
        signature_parent: (root tag, parent tag), e.g. ``("Hoso", "CKy_Dvi")`` or
            ``("D02-TS", "Cky")``.

    Raises:
        SignatureCheckFailed: the reason is one of this module's ``R_*`` texts.
    """
    root = tree.getroot()
    signatures = list(root.iter(_q("Signature")))
    if len(signatures) != 1:
        raise SignatureCheckFailed(R_COUNT.format(count=len(signatures)))
    signature = signatures[0]
    root_tag, parent_tag = signature_parent
    where = f"{root_tag}/{parent_tag}"
    parent = signature.getparent()
    if (
        parent is None
        or parent.tag != parent_tag
        or parent.getparent() is not root
        or root.tag != root_tag
        or _elements(parent)[-1] is not signature
    ):
        raise SignatureCheckFailed(R_PLACE.format(where=where))
    _refuse_duplicate_ids(root)

    children = [_local(c) for c in _elements(signature)]
    if children[:2] != ["SignedInfo", "SignatureValue"] or any(
        c not in {"KeyInfo", "Object"} for c in children[2:]
    ):
        raise SignatureCheckFailed(
            R_STRUCTURE.format(detail="Signature = SignedInfo, SignatureValue, KeyInfo, Object*")
        )
    signed_info = _only(signature, "SignedInfo")
    assert signed_info is not None
    c14n_method = _only(signed_info, "CanonicalizationMethod")
    assert c14n_method is not None
    if c14n_method.get("Algorithm") != C14N10 or _elements(c14n_method):
        raise SignatureCheckFailed(R_C14N.format(alg=c14n_method.get("Algorithm")))
    signature_method = _only(signed_info, "SignatureMethod")
    assert signature_method is not None
    if signature_method.get("Algorithm") != RSA_SHA256 or _elements(signature_method):
        raise SignatureCheckFailed(R_SIGNATURE_METHOD.format(alg=signature_method.get("Algorithm")))
    references = [c for c in _elements(signed_info) if c.tag == _q("Reference")]
    if len(references) != 1 or references[0].get("URI") != "":
        raise SignatureCheckFailed(R_REFERENCE)
    if [_local(c) for c in _elements(signed_info)] != [
        "CanonicalizationMethod",
        "SignatureMethod",
        "Reference",
    ]:
        raise SignatureCheckFailed(
            R_STRUCTURE.format(
                detail="SignedInfo = CanonicalizationMethod, SignatureMethod, Reference"
            )
        )
    reference = references[0]
    transforms = _only(reference, "Transforms")
    assert transforms is not None
    transform_list = _elements(transforms)
    if (
        len(transform_list) != 1
        or transform_list[0].tag != _q("Transform")
        or transform_list[0].get("Algorithm") != ENVELOPED
        or _elements(transform_list[0])
    ):
        raise SignatureCheckFailed(R_TRANSFORMS)
    digest_method = _only(reference, "DigestMethod")
    assert digest_method is not None
    if digest_method.get("Algorithm") != SHA256:
        raise SignatureCheckFailed(R_DIGEST_METHOD.format(alg=digest_method.get("Algorithm")))
    digest_value = _only(reference, "DigestValue")
    assert digest_value is not None
    if [_local(c) for c in _elements(reference)] != ["Transforms", "DigestMethod", "DigestValue"]:
        raise SignatureCheckFailed(
            R_STRUCTURE.format(detail="Reference = Transforms, DigestMethod, DigestValue")
        )

    certificate = _certificate(signature)
    signing_time = _signing_time(signature)

    expected = _b64(digest_value, "DigestValue")
    actual = hashlib.sha256(_c14n_document_without(tree, signature)).digest()
    if not hmac.compare_digest(expected, actual):
        raise SignatureCheckFailed(R_DIGEST)

    signature_value = _only(signature, "SignatureValue")
    assert signature_value is not None
    value = _b64(signature_value, "SignatureValue")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureCheckFailed(R_KEY)
    try:
        public_key.verify(value, _c14n_subset(signed_info), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureCheckFailed(R_VALUE) from None
    return VerifiedSignature(certificate=certificate, signing_time=signing_time)


def _refuse_duplicate_ids(root: etree._Element) -> None:
    seen: dict[str, int] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for name in _ID_ATTRIBUTES:
            value = el.get(name)
            if value is not None:
                seen[value] = seen.get(value, 0) + 1
    for value, count in seen.items():
        if count > 1:
            raise SignatureCheckFailed(R_DUPLICATE_ID.format(value=value[:64], count=count))


def _certificate(signature: etree._Element) -> x509.Certificate:
    key_info = _only(signature, "KeyInfo", required=False)
    if key_info is None:
        raise SignatureCheckFailed(R_CERTIFICATE)
    parts = [c.tag for c in _elements(key_info)]
    if parts.count(_q("X509Data")) != 1 or parts.count(_q("KeyValue")) > 1 or len(parts) > 2:
        raise SignatureCheckFailed(R_KEY_INFO)
    found = [
        c
        for x509_data in key_info.iter(_q("X509Data"))
        for c in x509_data.iter(_q("X509Certificate"))
    ]
    if len(found) != 1:
        raise SignatureCheckFailed(R_CERTIFICATE)
    der = _b64(found[0], "X509Certificate")
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        raise SignatureCheckFailed(R_CERTIFICATE) from None
    key_value = _only(key_info, "KeyValue", required=False)
    if key_value is not None:
        _check_key_value(key_value, certificate)
    return certificate


def _check_key_value(key_value: etree._Element, certificate: x509.Certificate) -> None:
    """The unsigned KeyValue names the certificate's own RSA key, or it is refused."""
    public_key = certificate.public_key()
    inner = _elements(key_value)
    if (
        not isinstance(public_key, rsa.RSAPublicKey)
        or len(inner) != 1
        or inner[0].tag != _q("RSAKeyValue")
        or [c.tag for c in _elements(inner[0])] != [_q("Modulus"), _q("Exponent")]
    ):
        raise SignatureCheckFailed(R_KEY_VALUE)
    modulus, exponent = _elements(inner[0])
    numbers = public_key.public_numbers()
    written = (
        int.from_bytes(_b64(modulus, "Modulus"), "big"),
        int.from_bytes(_b64(exponent, "Exponent"), "big"),
    )
    if written != (numbers.n, numbers.e):
        raise SignatureCheckFailed(R_KEY_VALUE)
