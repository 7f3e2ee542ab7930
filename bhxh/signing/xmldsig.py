"""The BHXH XMLDSig profile, in two phases so that the private key can live elsewhere.

Every signed BHXH file (declaration, envelope ``BHXHDienTu.xml``, 04/05/06 form) carries one
enveloped signature. With the default profile (``"ivan"``, the shape of the signed files an
I-VAN publishes, see :data:`SIGNATURE_PROFILE`)::

    <Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="sigid">
      <SignedInfo>
        <CanonicalizationMethod Algorithm="...REC-xml-c14n-20010315"/>   inclusive C14N 1.0
        <SignatureMethod Algorithm="...xmldsig-more#rsa-sha256"/>
        <Reference URI="">
          <Transforms><Transform Algorithm="...#enveloped-signature"/></Transforms>
          <DigestMethod Algorithm="...xmlenc#sha256"/><DigestValue>...</DigestValue>
        </Reference>
      </SignedInfo>
      <SignatureValue>...</SignatureValue>
      <KeyInfo>
        <KeyValue><RSAKeyValue><Modulus>...</Modulus><Exponent>...</Exponent></RSAKeyValue>
        </KeyValue>
        <X509Data><X509SubjectName>...</X509SubjectName><X509Certificate>...</X509Certificate>
        </X509Data>
      </KeyInfo>
      <Object><SignatureProperties xmlns="" Id="proid"><SignatureProperty Target="#sigid">
        <SigningTime xmlns="http://example.org/#signatureProperties">2026-01-15T02:30:00Z
        </SigningTime></SignatureProperty></SignatureProperties></Object>        (optional)
    </Signature>

The ``"xmldsig"`` profile differs in two places only: ``X509Data`` before ``KeyValue``, and
the signing time as ``Object/SignatureProperties/SignatureProperty/SigningTime`` all in the
XMLDSig namespace with a Vietnam offset (``2026-01-15T09:30:00+07:00``). Both places lie
outside ``SignedInfo`` and are removed by the enveloped transform: they change neither the
digest nor the value, and every spec-conformant verifier accepts either.

The signature is placed as the last child of ``<ROOT>/Cky`` (declarations) or, when the
root has no ``Cky``, ``<ROOT>/CKy_Dvi`` (the envelope ``Hoso`` and the 04/05/06 forms).

Phase one, :func:`prepare_signature`, writes the complete Signature with an empty
``SignatureValue`` and returns the SHA-256 digest of the canonical ``SignedInfo``: the value
a remote signing provider signs (RSA PKCS#1 v1.5 over a pre-hashed SHA-256 digest). Phase two,
:func:`apply_signature`, checks the provider's value against the certificate and splices it
into the prepared bytes; nothing else is re-serialised, so the result is final.
:func:`verify_signature` checks the profile strictly, the reference digest and the value; it
accepts both profiles and the signing-time shapes seen in genuine files, and trusts the
certificate, never the ``X509SubjectName`` text (.NET writes it in its own format, e.g.
``OID.0.9.2342.19200300.100.1.1=MST:...``: the element is informational).

The template is built here with lxml rather than signxml: signxml drops the placeholder's
``Id`` and adds a C14N transform by default, and its verifier rejects an unprefixed
inclusive-C14N signature that spec-conformant verifiers (xmlsec1, .NET, the JDK) accept;
building the few elements directly keeps the output equal to the profile element by element.

``SignedInfo`` is canonicalised from a standalone serialisation of the element (which carries
every in-scope namespace declaration) re-parsed on its own, never in place: libxml2's in-place
subset canonicalisation can emit a stray ``xmlns=""`` under an unprefixed Signature whose
ancestors have no namespace. Inherited ``xml:*`` attributes (which inclusive C14N would copy
onto ``SignedInfo``) are refused rather than half-supported.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from bhxh.errors import SignatureInvalid, UnsafeXml
from bhxh.periods import VN_TZ
from bhxh.xmlsafe import field_text, own_text, parse_xml, remove_keeping_tail

__all__ = [
    "C14N10",
    "DIGEST_SHA256",
    "DSIG_NS",
    "ENVELOPED",
    "PROFILES",
    "RSA_SHA256",
    "SIGNATURE_ID",
    "SIGNATURE_PROFILE",
    "SIGNATURE_SLOTS",
    "SIGNING_TIME_NS",
    "PreparedSignature",
    "SignatureProfile",
    "VerifiedSignature",
    "apply_signature",
    "get_profile",
    "parse_document",
    "prepare_signature",
    "signed_info_digest",
    "verify_signature",
]

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
C14N10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SIGNATURE_ID = "sigid"
#: Where the signature goes: ``Cky`` (declarations) first, else ``CKy_Dvi`` (Hoso documents).
SIGNATURE_SLOTS = ("Cky", "CKy_Dvi")
#: The namespace of ``SigningTime`` in the I-VAN's files (an example namespace, kept as is).
SIGNING_TIME_NS = "http://example.org/#signatureProperties"
#: ``Id`` of the signature properties in the I-VAN's files.
_PROPERTIES_ID = "proid"


@dataclass(frozen=True)
class SignatureProfile:
    """The two details on which genuine files and the XMLDSig examples differ.

    Attributes:
        name: ``"ivan"`` or ``"xmldsig"``.
        key_value_first: ``KeyInfo`` holds ``KeyValue`` before ``X509Data``.
        signing_time: ``"ivan"``: ``Object/SignatureProperties[@xmlns=""][@Id="proid"]/
            SignatureProperty/SigningTime[@xmlns=SIGNING_TIME_NS]`` in UTC with ``Z``;
            ``"xmldsig"``: the same path in the XMLDSig namespace, Vietnam offset.
    """

    name: str
    key_value_first: bool
    signing_time: Literal["ivan", "xmldsig"]


#: Profile name -> profile.
PROFILES: Mapping[str, SignatureProfile] = MappingProxyType(
    {
        "ivan": SignatureProfile("ivan", key_value_first=True, signing_time="ivan"),
        "xmldsig": SignatureProfile("xmldsig", key_value_first=False, signing_time="xmldsig"),
    }
)

#: The one switch: which profile :func:`prepare_signature` writes by default.
#:
#: ``"ivan"`` because every genuine signed file in public view has that shape: the
#: D02-TS-595.xml and TK1-TS-595.xml an I-VAN publishes in its remote-signing service
#: (signed in 2023 through a NACENCOMM CA2 remote key) and its BHXHDienTu.xml (signed in
#: 2024 through VNPT SmartCA) all write ``KeyValue`` before ``X509Data`` and the
#: ``SigningTime`` in ``http://example.org/#signatureProperties`` with a ``Z`` time (the
#: I-VAN's code builds that ``Object`` as a literal string): that is what VSS receives from
#: this I-VAN every day. Whether VSS would refuse the ``"xmldsig"`` shape is not public;
#: both verify with xmlsec1 and with the sandbox gateway. We write the time in real UTC.
SIGNATURE_PROFILE = "ivan"

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_EMPTY_VALUES = (b"<SignatureValue/>", b"<SignatureValue></SignatureValue>")


def _q(local: str) -> str:
    return f"{{{DSIG_NS}}}{local}"


@dataclass(frozen=True)
class PreparedSignature:
    """Phase one's result: the document with an empty SignatureValue, and what to sign.

    Attributes:
        xml: the complete document (UTF-8), Signature included, ``<SignatureValue/>`` empty.
        digest: SHA-256 of the canonical SignedInfo; a remote provider signs it with RSA
            PKCS#1 v1.5 as a pre-hashed SHA-256 digest.
    """

    xml: bytes = field(repr=False)
    digest: bytes


@dataclass(frozen=True)
class VerifiedSignature:
    """What a valid signature says. Whether the certificate is trusted is the caller's check.

    Attributes:
        certificate: the signer's certificate from ``KeyInfo``.
        signing_time: the claimed (unsigned) ``SigningTime``, if present.
        root_tag: the tag of the signed document's root, e.g. ``D02-TS`` or ``Hoso``.
    """

    certificate: x509.Certificate
    signing_time: dt.datetime | None
    root_tag: str


# ------------------------------------------------------------------ parsing
def _parser() -> etree.XMLParser:
    # For SignedInfo copies the profile built or checked itself; documents go through xmlsafe.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def parse_document(data: bytes, what: str = "document") -> etree._ElementTree:
    """Parse untrusted XML with :func:`bhxh.xmlsafe.parse_xml` and return the whole tree.

    Raises:
        UnsafeXml: DOCTYPE, not UTF-8, too large, too deep or not well-formed.
    """
    return parse_xml(data, what=what).getroottree()


def _load_certificate(der: bytes) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise SignatureInvalid(f"the certificate is not valid DER: {exc}") from exc
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise SignatureInvalid(
            f"certificate {cert.serial_number:X}: the profile needs an RSA key (rsa-sha256)"
        )
    return cert


def _slot(root: etree._Element) -> etree._Element:
    for name in SIGNATURE_SLOTS:
        slot = root.find(name)
        if slot is not None:
            return slot
    raise SignatureInvalid(f"<{root.tag}> has no <Cky> or <CKy_Dvi> child to receive the signature")


def _refuse_inherited_xml_attributes(slot: etree._Element) -> None:
    node: etree._Element | None = slot
    while node is not None:
        for key in node.attrib:
            name = key if isinstance(key, str) else key.decode()
            if name.startswith(f"{{{_XML_NS}}}"):
                raise SignatureInvalid(
                    f"<{node.tag}> carries {name}: xml:* attributes above the signature "
                    "are not supported by the profile"
                )
        node = node.getparent()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def _value(el: etree._Element, what: str) -> str:
    """``el``'s text as it is signed (:func:`bhxh.xmlsafe.field_text`); an element inside
    it breaks the profile."""
    try:
        return field_text(el)
    except UnsafeXml:
        raise SignatureInvalid(f"{what} must hold text only") from None


def _b64decode(el: etree._Element, what: str) -> bytes:
    compact = "".join(_value(el, what).split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureInvalid(f"{what} is not valid base64") from exc


def _document_digest(tree: etree._ElementTree) -> bytes:
    """SHA-256 of the inclusive C14N 1.0 of the whole document, comments removed (URI="")."""
    return hashlib.sha256(etree.tostring(tree, method="c14n", with_comments=False)).digest()


def _signed_info_c14n(signed_info: etree._Element) -> bytes:
    standalone = etree.tostring(signed_info)
    copy = etree.fromstring(standalone, _parser())
    return etree.tostring(copy, method="c14n", exclusive=False, with_comments=False)


def _format_time(moment: dt.datetime, style: Literal["ivan", "xmldsig"]) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    if style == "ivan":
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(VN_TZ).replace(microsecond=0).isoformat()


def get_profile(name: str | None = None) -> SignatureProfile:
    """The profile called ``name`` (default :data:`SIGNATURE_PROFILE`).

    Raises:
        SignatureInvalid: an unknown profile name (the message lists the known ones).
    """
    chosen = name or SIGNATURE_PROFILE
    try:
        return PROFILES[chosen]
    except KeyError:
        known = ", ".join(PROFILES)
        raise SignatureInvalid(f"unknown signature profile {chosen!r}; known: {known}") from None


def _add_signing_time(signature: etree._Element, text: str, profile: SignatureProfile) -> None:
    obj = etree.SubElement(signature, _q("Object"))
    if profile.signing_time == "ivan":
        # Built from text: lxml writes no xmlns="" for an unqualified child of a
        # default-namespaced parent, a parsed fragment keeps it.
        fragment = (
            f'<SignatureProperties xmlns="" Id="{_PROPERTIES_ID}">'
            f'<SignatureProperty Target="#{SIGNATURE_ID}">'
            f'<SigningTime xmlns="{SIGNING_TIME_NS}">{text}</SigningTime>'
            "</SignatureProperty></SignatureProperties>"
        )
        obj.append(etree.fromstring(fragment, _parser()))
        return
    props = etree.SubElement(obj, _q("SignatureProperties"))
    prop = etree.SubElement(props, _q("SignatureProperty"))
    prop.set("Target", f"#{SIGNATURE_ID}")
    etree.SubElement(prop, _q("SigningTime")).text = text


# ------------------------------------------------------------------ phase one
def prepare_signature(
    xml: bytes,
    certificate_der: bytes,
    *,
    signing_time: dt.datetime | None = None,
    profile: str | None = None,
) -> PreparedSignature:
    """Add the complete profile Signature with an empty SignatureValue.

    Args:
        xml: the unsigned document; its root has a ``Cky`` or ``CKy_Dvi`` child.
        certificate_der: the signer's certificate (DER), written into ``KeyInfo``.
        signing_time: written as ``SigningTime`` (naive means Vietnam time, UTC+7).
        profile: ``"ivan"`` or ``"xmldsig"``; default :data:`SIGNATURE_PROFILE`.

    Returns:
        The prepared document (re-serialised once, UTF-8) and the SignedInfo digest to sign.

    Raises:
        SignatureInvalid: no signature slot, already signed, or a non-RSA certificate.
        UnsafeXml: the document is not well-formed or has a DOCTYPE.
    """
    chosen = get_profile(profile)
    cert = _load_certificate(certificate_der)
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    tree = parse_document(xml)
    root = tree.getroot()
    if next(root.iter(_q("*")), None) is not None:
        raise SignatureInvalid(f"<{root.tag}> already holds XMLDSig elements; it is signed")
    slot = _slot(root)
    _refuse_inherited_xml_attributes(slot)
    # The signature is appended with no text around it, so the enveloped transform of the
    # final document gives back exactly this canonical form.
    reference_digest = _document_digest(tree)

    signature = etree.SubElement(slot, _q("Signature"), nsmap={None: DSIG_NS})  # type: ignore[dict-item]
    signature.set("Id", SIGNATURE_ID)
    signed_info = etree.SubElement(signature, _q("SignedInfo"))
    etree.SubElement(signed_info, _q("CanonicalizationMethod")).set("Algorithm", C14N10)
    etree.SubElement(signed_info, _q("SignatureMethod")).set("Algorithm", RSA_SHA256)
    reference = etree.SubElement(signed_info, _q("Reference"))
    reference.set("URI", "")
    transforms = etree.SubElement(reference, _q("Transforms"))
    etree.SubElement(transforms, _q("Transform")).set("Algorithm", ENVELOPED)
    etree.SubElement(reference, _q("DigestMethod")).set("Algorithm", DIGEST_SHA256)
    etree.SubElement(reference, _q("DigestValue")).text = _b64(reference_digest)
    etree.SubElement(signature, _q("SignatureValue"))
    key_info = etree.SubElement(signature, _q("KeyInfo"))
    key_value = etree.Element(_q("KeyValue"))
    rsa_value = etree.SubElement(key_value, _q("RSAKeyValue"))
    numbers = public.public_numbers()
    etree.SubElement(rsa_value, _q("Modulus")).text = _int_b64(numbers.n)
    etree.SubElement(rsa_value, _q("Exponent")).text = _int_b64(numbers.e)
    x509_data = etree.Element(_q("X509Data"))
    etree.SubElement(x509_data, _q("X509SubjectName")).text = cert.subject.rfc4514_string()
    etree.SubElement(x509_data, _q("X509Certificate")).text = _b64(cert.public_bytes(Encoding.DER))
    for part in (key_value, x509_data) if chosen.key_value_first else (x509_data, key_value):
        key_info.append(part)
    if signing_time is not None:
        _add_signing_time(signature, _format_time(signing_time, chosen.signing_time), chosen)

    prepared = _XML_DECLARATION + etree.tostring(tree, encoding="UTF-8")
    digest = hashlib.sha256(_signed_info_c14n(signed_info)).digest()
    return PreparedSignature(xml=prepared, digest=digest)


# ------------------------------------------------------------------ profile check
@dataclass(frozen=True)
class _Parsed:
    tree: etree._ElementTree
    signature: etree._Element
    signed_info: etree._Element
    signature_value: etree._Element
    digest_value: bytes
    certificate: x509.Certificate
    signing_time: dt.datetime | None


def _children(
    el: etree._Element, *allowed: str, namespaces: tuple[str | None, ...] = (DSIG_NS,)
) -> list[etree._Element]:
    """Element children of ``el``; anything but whitespace or allowed elements is refused."""
    if own_text(el).strip():
        raise SignatureInvalid(f"<{etree.QName(el).localname}> holds unexpected text")
    out: list[etree._Element] = []
    for child in el:
        if not isinstance(child.tag, str):
            raise SignatureInvalid(
                f"<{etree.QName(el).localname}> holds a comment or processing instruction"
            )
        qname = etree.QName(child)
        if qname.namespace not in namespaces or qname.localname not in allowed:
            raise SignatureInvalid(
                f"unexpected <{qname.localname}> in <{etree.QName(el).localname}>"
            )
        if child.prefix is not None:
            raise SignatureInvalid(f"<{child.prefix}:{qname.localname}> must not be prefixed")
        out.append(child)
    return out


def _names(els: list[etree._Element]) -> list[str]:
    return [etree.QName(e).localname for e in els]


def _attrs(el: etree._Element, expected: dict[str, str]) -> None:
    name = etree.QName(el).localname
    got = {str(k): str(v) for k, v in el.attrib.items()}
    if got != expected:
        raise SignatureInvalid(f"<{name}> attributes {got} differ from the profile {expected}")


def _leaf(el: etree._Element, attrs: dict[str, str]) -> None:
    _attrs(el, attrs)
    if len(el) or own_text(el).strip():
        raise SignatureInvalid(f"<{etree.QName(el).localname}> must be empty")


def _check_profile(data: bytes) -> _Parsed:
    tree = parse_document(data, "signed document")
    root = tree.getroot()
    signatures = list(root.iter(_q("Signature")))
    if len(signatures) != 1:
        raise SignatureInvalid(
            f"<{root.tag}> holds {len(signatures)} Signature elements; the profile has one"
        )
    signature = signatures[0]
    inside = sum(1 for _ in signature.iter(_q("*")))
    if sum(1 for _ in root.iter(_q("*"))) != inside:
        raise SignatureInvalid(f"<{root.tag}> holds XMLDSig elements outside its Signature")
    slot = _slot(root)
    slot_name = etree.QName(slot).localname
    if signature.getparent() is not slot:
        parent = signature.getparent()
        where = etree.QName(parent).localname if parent is not None else "?"
        raise SignatureInvalid(
            f"the Signature sits in <{where}>; the profile places it in <{root.tag}>/{slot_name}"
        )
    if signature.getnext() is not None:
        raise SignatureInvalid(f"the Signature must be the last child of <{slot_name}>")
    if signature.prefix is not None:
        raise SignatureInvalid("the Signature must be unprefixed (xmlns=xmldsig#)")
    _attrs(signature, {"Id": SIGNATURE_ID})
    _refuse_inherited_xml_attributes(slot)

    # The Object may come without namespace: VNPT SmartCA's signer writes <Object xmlns="">.
    parts = _children(
        signature,
        "SignedInfo",
        "SignatureValue",
        "KeyInfo",
        "Object",
        namespaces=(DSIG_NS, None),
    )
    for part in parts:
        if etree.QName(part).namespace is None and etree.QName(part).localname != "Object":
            raise SignatureInvalid(f"<{part.tag}> must be in the XMLDSig namespace")
    names = _names(parts)
    if names not in (
        ["SignedInfo", "SignatureValue", "KeyInfo"],
        ["SignedInfo", "SignatureValue", "KeyInfo", "Object"],
    ):
        raise SignatureInvalid(f"Signature children {names} differ from the profile")
    signed_info, signature_value, key_info = parts[:3]
    _attrs(signed_info, {})
    _attrs(signature_value, {})

    si = _children(signed_info, "CanonicalizationMethod", "SignatureMethod", "Reference")
    if _names(si) != ["CanonicalizationMethod", "SignatureMethod", "Reference"]:
        raise SignatureInvalid(
            f"SignedInfo children {_names(si)} differ from the profile (exactly one Reference)"
        )
    _leaf(si[0], {"Algorithm": C14N10})
    _leaf(si[1], {"Algorithm": RSA_SHA256})
    reference = si[2]
    _attrs(reference, {"URI": ""})
    ref = _children(reference, "Transforms", "DigestMethod", "DigestValue")
    if _names(ref) != ["Transforms", "DigestMethod", "DigestValue"]:
        raise SignatureInvalid(f"Reference children {_names(ref)} differ from the profile")
    _attrs(ref[0], {})
    transforms = _children(ref[0], "Transform")
    if len(transforms) != 1:
        raise SignatureInvalid(
            f"{len(transforms)} transforms; the profile has only the enveloped-signature one"
        )
    _leaf(transforms[0], {"Algorithm": ENVELOPED})
    _leaf(ref[1], {"Algorithm": DIGEST_SHA256})
    _attrs(ref[2], {})
    digest_value = _b64decode(ref[2], "DigestValue")
    if len(digest_value) != 32:
        raise SignatureInvalid("DigestValue is not a SHA-256 digest")

    certificate = _key_info(key_info)
    signing_time = _signing_time(parts[3]) if len(parts) == 4 else None
    return _Parsed(
        tree=tree,
        signature=signature,
        signed_info=signed_info,
        signature_value=signature_value,
        digest_value=digest_value,
        certificate=certificate,
        signing_time=signing_time,
    )


def _key_info(key_info: etree._Element) -> x509.Certificate:
    _attrs(key_info, {})
    items = _children(key_info, "X509Data", "KeyValue")
    names = _names(items)
    if names.count("X509Data") != 1 or names.count("KeyValue") > 1:
        raise SignatureInvalid(f"KeyInfo children {names}: need one X509Data, at most one KeyValue")
    x509_data = items[names.index("X509Data")]
    _attrs(x509_data, {})
    data = _children(x509_data, "X509SubjectName", "X509Certificate")
    data_names = _names(data)
    if data_names.count("X509Certificate") != 1 or data_names.count("X509SubjectName") > 1:
        raise SignatureInvalid(
            f"X509Data children {data_names}: need one X509Certificate (no chain)"
        )
    cert_el = data[data_names.index("X509Certificate")]
    certificate = _load_certificate(_b64decode(cert_el, "X509Certificate"))
    public = certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    if "X509SubjectName" in data_names:
        # Informational: .NET writes the subject its own way ("CN=..., O=...,
        # OID.0.9.2342.19200300.100.1.1=MST:..."), others as RFC 4514. The certificate
        # is what is trusted, so the text is only required to be text.
        subject_name = data[data_names.index("X509SubjectName")]
        _attrs(subject_name, {})
        if len(subject_name):
            raise SignatureInvalid("X509SubjectName must hold text only")
    if "KeyValue" in names:
        key_value = items[names.index("KeyValue")]
        _attrs(key_value, {})
        rsa_els = _children(key_value, "RSAKeyValue")
        if len(rsa_els) != 1:
            raise SignatureInvalid("KeyValue must hold one RSAKeyValue")
        fields = _children(rsa_els[0], "Modulus", "Exponent")
        if _names(fields) != ["Modulus", "Exponent"]:
            raise SignatureInvalid("RSAKeyValue must hold Modulus then Exponent")
        numbers = public.public_numbers()
        modulus = int.from_bytes(_b64decode(fields[0], "Modulus"), "big")
        exponent = int.from_bytes(_b64decode(fields[1], "Exponent"), "big")
        if (modulus, exponent) != (numbers.n, numbers.e):
            raise SignatureInvalid("KeyValue does not match the certificate's public key")
    return certificate


def _id_only(el: etree._Element) -> None:
    """No attributes, or only an ``Id`` (the I-VAN's files name their properties)."""
    got = {str(k) for k in el.attrib}
    if got - {"Id"}:
        raise SignatureInvalid(
            f"<{etree.QName(el).localname}> attributes {sorted(got)}: only Id is allowed"
        )


def _signing_time(obj: etree._Element) -> dt.datetime:
    """The SigningTime in one of the shapes genuine files use.

    ``Object/SignatureProperties/SignatureProperty/SigningTime`` all in the XMLDSig
    namespace (the ``"xmldsig"`` profile); the same with ``SignatureProperties`` and
    ``SignatureProperty`` in no namespace and ``SigningTime`` in
    :data:`SIGNING_TIME_NS` (the ``"ivan"`` profile, the I-VAN's declarations); or
    ``Object`` itself in no namespace holding ``SignatureProperty`` directly (the
    I-VAN's envelope signed through VNPT SmartCA).
    """
    _id_only(obj)
    inner: str | None
    if etree.QName(obj).namespace == DSIG_NS:
        props = _children(obj, "SignatureProperties", namespaces=(DSIG_NS, None))
        if len(props) != 1:
            raise SignatureInvalid("Object must hold one SignatureProperties")
        _id_only(props[0])
        inner = etree.QName(props[0]).namespace
        prop = _children(props[0], "SignatureProperty", namespaces=(inner,))
    else:
        inner = None
        prop = _children(obj, "SignatureProperty", namespaces=(None,))
    if len(prop) != 1:
        raise SignatureInvalid("SignatureProperties must hold one SignatureProperty")
    _attrs(prop[0], {"Target": f"#{SIGNATURE_ID}"})
    time_ns = DSIG_NS if inner == DSIG_NS else SIGNING_TIME_NS
    times = _children(prop[0], "SigningTime", namespaces=(time_ns,))
    if len(times) != 1 or len(times[0]):
        raise SignatureInvalid("SignatureProperty must hold one SigningTime")
    _id_only(times[0])
    text = _value(times[0], "SigningTime").strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise SignatureInvalid(f"SigningTime {text!r} is not an ISO time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)


def _reference_digest(parsed: _Parsed) -> bytes:
    """The enveloped-signature transform: the document without the Signature element
    (its tail, the text after it, stays: :func:`bhxh.xmlsafe.remove_keeping_tail`)."""
    remove_keeping_tail(parsed.signature)
    return _document_digest(parsed.tree)


def _check_value(digest: bytes, value: bytes, certificate: x509.Certificate) -> None:
    public = certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    try:
        public.verify(value, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    except InvalidSignature as exc:
        raise SignatureInvalid(
            f"the signature value does not verify with certificate "
            f"{certificate.serial_number:X} ({certificate.subject.rfc4514_string()})"
        ) from exc


# ------------------------------------------------------------------ phase two
def signed_info_digest(prepared_xml: bytes) -> bytes:
    """SHA-256 of the canonical SignedInfo of a prepared (or signed) document."""
    tree = parse_document(prepared_xml, "prepared document")
    found = list(tree.getroot().iter(_q("SignedInfo")))
    if len(found) != 1:
        raise SignatureInvalid(f"{len(found)} SignedInfo elements; expected one")
    return hashlib.sha256(_signed_info_c14n(found[0])).digest()


def apply_signature(
    prepared_xml: bytes,
    signature_value: bytes,
    certificate_der: bytes | None = None,
    *,
    prepared: PreparedSignature | None = None,
    prepared_sha256: str | None = None,
) -> bytes:
    """Insert a provider's signature value into a prepared document.

    The value is checked against the certificate over the recomputed SignedInfo digest,
    the reference digest is re-checked (the content did not change between phases), and the
    base64 value replaces the empty ``<SignatureValue/>`` byte for byte.

    The quick path: when the caller kept what phase one returned (``prepared``, or its
    digest and the SHA-256 of its bytes, as the dossier journal does) and the bytes given
    are exactly those (same SHA-256), nothing can have changed since phase one built and
    checked them, so the document is neither parsed nor canonicalised again: the value is
    checked against the recorded digest and the certificate, then spliced in. Any other
    bytes take the full path.

    Args:
        prepared_xml: ``PreparedSignature.xml``.
        signature_value: the raw RSA PKCS#1 v1.5 signature the provider returned.
        certificate_der: if given, must be the certificate in ``KeyInfo``; needed for the
            quick path.
        prepared: phase one's result for these bytes (the quick path).
        prepared_sha256: with ``prepared``'s digest taken from elsewhere: the SHA-256 of
            the prepared bytes as phase one wrote them.

    Returns:
        The signed document: final bytes, never to be re-serialised.

    Raises:
        SignatureInvalid: the value does not verify, the certificate differs, the document
            was altered or is not a prepared profile document.
    """
    if prepared is not None and certificate_der is not None:
        expected = prepared_sha256 or hashlib.sha256(prepared.xml).hexdigest()
        if hashlib.sha256(prepared_xml).hexdigest() == expected:
            _check_value(prepared.digest, signature_value, _load_certificate(certificate_der))
            return _splice(prepared_xml, signature_value)
    parsed = _check_profile(prepared_xml)
    if len(parsed.signature_value) or own_text(parsed.signature_value).strip():
        raise SignatureInvalid("the SignatureValue is not empty: the document is already signed")
    certificate = parsed.certificate
    if certificate_der is not None and certificate_der != certificate.public_bytes(Encoding.DER):
        raise SignatureInvalid(
            f"the certificate given differs from KeyInfo's ({certificate.serial_number:X})"
        )
    digest = hashlib.sha256(_signed_info_c14n(parsed.signed_info)).digest()
    _check_value(digest, signature_value, certificate)
    if _reference_digest(parsed) != parsed.digest_value:
        raise SignatureInvalid("the document changed after it was prepared (reference digest)")
    return _splice(prepared_xml, signature_value)


def _splice(prepared_xml: bytes, signature_value: bytes) -> bytes:
    """The value put in the one empty ``<SignatureValue/>``, byte for byte."""
    for marker in _EMPTY_VALUES:
        count = prepared_xml.count(marker)
        if count == 1:
            filled = b"<SignatureValue>" + _b64(signature_value).encode() + b"</SignatureValue>"
            return prepared_xml.replace(marker, filled, 1)
        if count > 1:
            break
    raise SignatureInvalid("cannot find exactly one empty SignatureValue in the prepared bytes")


# ------------------------------------------------------------------ verification
def verify_signature(xml: bytes) -> VerifiedSignature:
    """Check the profile strictly, the reference digest and the signature value.

    Trust in the certificate (chain, validity, revocation, registration at VSS) is not
    checked here.

    Raises:
        SignatureInvalid: with the reason (profile, placement, digest or value).
        UnsafeXml: not well-formed, or a DOCTYPE.
    """
    parsed = _check_profile(xml)
    value = _b64decode(parsed.signature_value, "SignatureValue")
    if not value:
        raise SignatureInvalid("the SignatureValue is empty: the document was only prepared")
    digest = hashlib.sha256(_signed_info_c14n(parsed.signed_info)).digest()
    _check_value(digest, value, parsed.certificate)
    root_tag = str(parsed.tree.getroot().tag)
    if _reference_digest(parsed) != parsed.digest_value:
        raise SignatureInvalid(f"<{root_tag}>: the content does not match the signed digest")
    return VerifiedSignature(
        certificate=parsed.certificate, signing_time=parsed.signing_time, root_tag=root_tag
    )
