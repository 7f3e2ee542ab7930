"""The Signature written by prepare/apply is the BHXH profile, element by element."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from bhxh.errors import SignatureInvalid
from bhxh.signing import (
    C14N10,
    DIGEST_SHA256,
    DSIG_NS,
    ENVELOPED,
    RSA_SHA256,
    SIGNATURE_PROFILE,
    SIGNING_TIME_NS,
    apply_signature,
    prepare_signature,
    signed_info_digest,
    verify_signature,
)
from sandbox.pki import IssuedCertificate, sign_digest

NS = {"d": DSIG_NS}


def _signature(xml: bytes) -> etree._Element:
    found = etree.fromstring(xml).findall(".//d:Signature", NS)
    assert len(found) == 1
    return found[0]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def test_signature_is_unprefixed_with_id_sigid_and_default_namespace(
    d02: bytes, remote_sign: Callable[[bytes], bytes]
) -> None:
    signed = remote_sign(d02)
    sig = _signature(signed)
    assert sig.prefix is None
    assert dict(sig.attrib) == {"Id": "sigid"}
    assert b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="sigid">' in signed
    assert all(el.prefix is None for el in sig.iter())


def test_declaration_signature_is_last_child_of_cky(
    d02: bytes, remote_sign: Callable[[bytes], bytes]
) -> None:
    sig = _signature(remote_sign(d02))
    parent = sig.getparent()
    assert parent is not None and parent.tag == "Cky"
    assert parent.getparent() is sig.getroottree().getroot()
    assert sig.getnext() is None


def test_hoso_signature_is_last_child_of_cky_dvi(
    remote_sign: Callable[[bytes], bytes],
) -> None:
    hoso = b"<Hoso><NoiDung><MaThuTuc>05</MaThuTuc></NoiDung><CKy_Dvi/></Hoso>"
    sig = _signature(remote_sign(hoso))
    parent = sig.getparent()
    assert parent is not None and parent.tag == "CKy_Dvi"
    assert sig.getnext() is None


def test_signed_info_has_c14n10_rsa_sha256_and_one_reference(
    d02: bytes, remote_sign: Callable[[bytes], bytes]
) -> None:
    sig = _signature(remote_sign(d02))
    assert [_local(c) for c in sig] == ["SignedInfo", "SignatureValue", "KeyInfo"]
    signed_info = sig[0]
    assert [_local(c) for c in signed_info] == [
        "CanonicalizationMethod",
        "SignatureMethod",
        "Reference",
    ]
    assert dict(signed_info[0].attrib) == {"Algorithm": C14N10}
    assert C14N10 == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    assert dict(signed_info[1].attrib) == {"Algorithm": RSA_SHA256}
    assert RSA_SHA256 == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    references = signed_info.findall("d:Reference", NS)
    assert len(references) == 1
    assert dict(references[0].attrib) == {"URI": ""}


def test_reference_has_only_the_enveloped_transform_and_sha256(
    d02: bytes, remote_sign: Callable[[bytes], bytes]
) -> None:
    reference = _signature(remote_sign(d02)).find("d:SignedInfo/d:Reference", NS)
    assert reference is not None
    assert [_local(c) for c in reference] == ["Transforms", "DigestMethod", "DigestValue"]
    transforms = reference[0].findall("d:Transform", NS)
    assert len(transforms) == 1 and len(reference[0]) == 1
    assert dict(transforms[0].attrib) == {"Algorithm": ENVELOPED}
    assert dict(reference[1].attrib) == {"Algorithm": DIGEST_SHA256}
    assert DIGEST_SHA256 == "http://www.w3.org/2001/04/xmlenc#sha256"
    assert len(base64.b64decode(reference[2].text or "")) == 32


@pytest.mark.parametrize(
    ("profile", "order"),
    [("ivan", ["KeyValue", "X509Data"]), ("xmldsig", ["X509Data", "KeyValue"])],
)
def test_key_info_holds_subject_certificate_and_rsa_key_value(
    d02: bytes, issued: IssuedCertificate, profile: str, order: list[str]
) -> None:
    key_info = _signature(prepare_signature(d02, issued.der, profile=profile).xml).find(
        "d:KeyInfo", NS
    )
    assert key_info is not None
    assert [_local(c) for c in key_info] == order
    x509_data = key_info.find("d:X509Data", NS)
    assert x509_data is not None
    assert [_local(c) for c in x509_data] == ["X509SubjectName", "X509Certificate"]
    cert = issued.certificate
    assert x509_data[0].text == cert.subject.rfc4514_string()
    assert "UID=MST:0109876543" in (x509_data[0].text or "")
    assert base64.b64decode(x509_data[1].text or "") == cert.public_bytes(Encoding.DER)
    rsa_value = key_info.find("d:KeyValue/d:RSAKeyValue", NS)
    assert rsa_value is not None
    numbers = cert.public_key().public_numbers()  # type: ignore[union-attr]
    modulus = int.from_bytes(base64.b64decode(rsa_value.findtext("d:Modulus", "", NS)), "big")
    exponent = int.from_bytes(base64.b64decode(rsa_value.findtext("d:Exponent", "", NS)), "big")
    assert (modulus, exponent) == (numbers.n, numbers.e)


def test_the_default_profile_is_the_ivans_shape(d02: bytes, issued: IssuedCertificate) -> None:
    assert SIGNATURE_PROFILE == "ivan"
    default = prepare_signature(d02, issued.der, signing_time=dt.datetime(2026, 2, 10, 8, 15))
    assert (
        default.xml
        == prepare_signature(
            d02, issued.der, signing_time=dt.datetime(2026, 2, 10, 8, 15), profile="ivan"
        ).xml
    )


def test_ivan_signing_time_is_utc_in_the_example_namespace(
    d02: bytes, issued: IssuedCertificate
) -> None:
    moment = dt.datetime(2026, 2, 10, 8, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    prepared = prepare_signature(d02, issued.der, signing_time=moment, profile="ivan")
    assert (
        b'<Object><SignatureProperties xmlns="" Id="proid"><SignatureProperty Target="#sigid">'
        b'<SigningTime xmlns="http://example.org/#signatureProperties">2026-02-10T01:15:00Z'
        b"</SigningTime></SignatureProperty></SignatureProperties></Object></Signature>"
    ) in prepared.xml
    sig = _signature(prepared.xml)
    props = sig.find("d:Object/SignatureProperties", NS)
    assert props is not None and etree.QName(props).namespace is None
    signed = apply_signature(prepared.xml, sign_digest(issued.private_key, prepared.digest))
    assert verify_signature(signed).signing_time == moment
    assert SIGNING_TIME_NS == "http://example.org/#signatureProperties"


def test_xmldsig_signing_time_sits_in_a_signature_property_targeting_sigid(
    d02: bytes, issued: IssuedCertificate
) -> None:
    moment = dt.datetime(2026, 2, 10, 8, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    prepared = prepare_signature(d02, issued.der, signing_time=moment, profile="xmldsig")
    sig = _signature(prepared.xml)
    assert [_local(c) for c in sig] == ["SignedInfo", "SignatureValue", "KeyInfo", "Object"]
    prop = sig.find("d:Object/d:SignatureProperties/d:SignatureProperty", NS)
    assert prop is not None and dict(prop.attrib) == {"Target": "#sigid"}
    assert prop.findtext("d:SigningTime", None, NS) == "2026-02-10T08:15:00+07:00"


def test_the_profile_changes_nothing_that_is_signed(d02: bytes, issued: IssuedCertificate) -> None:
    moment = dt.datetime(2026, 2, 10, 8, 15)
    ivan = prepare_signature(d02, issued.der, signing_time=moment, profile="ivan")
    w3c = prepare_signature(d02, issued.der, signing_time=moment, profile="xmldsig")
    assert ivan.digest == w3c.digest and ivan.xml != w3c.xml


def test_an_unknown_profile_is_refused(d02: bytes, issued: IssuedCertificate) -> None:
    with pytest.raises(SignatureInvalid, match="unknown signature profile 'dotnet'; known: ivan"):
        prepare_signature(d02, issued.der, profile="dotnet")


def _dotnet_subject(signed: bytes) -> bytes:
    """The X509SubjectName rewritten as .NET writes it (X500DistinguishedName.Name)."""
    start = signed.index(b"<X509SubjectName>") + len(b"<X509SubjectName>")
    end = signed.index(b"</X509SubjectName>")
    dotnet = (
        "C=VN, S=Hà Nội, L=Cầu Giấy, CN=Công ty TNHH Hoa Sen Thử Nghiệm, "
        "OID.0.9.2342.19200300.100.1.1=MST:0109876543"
    )
    return signed[:start] + dotnet.encode() + signed[end:]


def test_a_subject_name_written_the_dotnet_way_is_accepted(
    d02: bytes,
    issued: IssuedCertificate,
    remote_sign: Callable[[bytes], bytes],
    xmlsec_verify: Callable[[bytes], bool],
) -> None:
    signed = _dotnet_subject(remote_sign(d02))
    assert b"OID.0.9.2342.19200300.100.1.1=MST:" in signed
    # The subject name sits outside SignedInfo: the signature is still the signer's.
    assert verify_signature(signed).certificate == issued.certificate
    assert xmlsec_verify(signed)


def test_a_subject_name_naming_someone_else_changes_nothing_trusted(
    d02: bytes, issued: IssuedCertificate, remote_sign: Callable[[bytes], bytes]
) -> None:
    signed = remote_sign(d02).replace(b"UID=MST:0109876543", b"UID=MST:0300000000", 1)
    verified = verify_signature(signed)
    assert "MST:0109876543" in verified.certificate.subject.rfc4514_string()


def test_an_object_without_namespace_as_vnpt_writes_it_is_accepted(
    d02: bytes, issued: IssuedCertificate
) -> None:
    prepared = prepare_signature(d02, issued.der)
    value = sign_digest(issued.private_key, prepared.digest)
    signed = apply_signature(prepared.xml, value)
    vnpt = signed.replace(
        b"</KeyInfo></Signature>",
        b'</KeyInfo><Object Id="proid" xmlns=""><SignatureProperty Target="#sigid">'
        b'<SigningTime xmlns="http://example.org/#signatureProperties">2026-02-10T01:15:00Z'
        b"</SigningTime></SignatureProperty></Object></Signature>",
    )
    assert vnpt != signed
    assert verify_signature(vnpt).signing_time == dt.datetime(2026, 2, 10, 1, 15, tzinfo=dt.UTC)


def test_prepared_document_has_empty_signature_value_and_its_digest(
    d02: bytes, issued: IssuedCertificate
) -> None:
    prepared = prepare_signature(d02, issued.der)
    assert prepared.xml.count(b"<SignatureValue/>") == 1
    assert len(prepared.digest) == 32
    assert signed_info_digest(prepared.xml) == prepared.digest
    with pytest.raises(SignatureInvalid, match="only prepared"):
        verify_signature(prepared.xml)


def test_signature_leaves_everything_outside_cky_as_it_was(
    d02: bytes, remote_sign: Callable[[bytes], bytes]
) -> None:
    signed = remote_sign(d02)
    before = etree.fromstring(d02)
    after = etree.fromstring(signed)
    after_cky = after.find("Cky")
    assert after_cky is not None
    after_cky.remove(after_cky[0])
    assert etree.tostring(before, method="c14n") == etree.tostring(after, method="c14n")


def test_document_without_cky_or_cky_dvi_is_refused(issued: IssuedCertificate) -> None:
    with pytest.raises(SignatureInvalid, match="no <Cky> or <CKy_Dvi>"):
        prepare_signature(b"<D02-TS><NoiDung/></D02-TS>", issued.der)


def test_cky_is_chosen_before_cky_dvi(remote_sign: Callable[[bytes], bytes]) -> None:
    sig = _signature(remote_sign(b"<X><CKy_Dvi/><Cky/></X>"))
    parent = sig.getparent()
    assert parent is not None and parent.tag == "Cky"


def test_signed_document_cannot_be_prepared_again(
    d02: bytes, remote_sign: Callable[[bytes], bytes], issued: IssuedCertificate
) -> None:
    with pytest.raises(SignatureInvalid, match="already"):
        prepare_signature(remote_sign(d02), issued.der)


def test_verified_signature_reports_certificate_time_and_root(
    d02: bytes, issued: IssuedCertificate, remote_sign: Callable[[bytes], bytes]
) -> None:
    verified = verify_signature(remote_sign(d02))
    assert verified.root_tag == "D02-TS"
    assert verified.certificate == issued.certificate
    assert verified.signing_time is None
