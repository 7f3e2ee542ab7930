"""verify_signature refuses anything but the profile: wrapping, moves, extra references."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from lxml import etree

from bhxh.errors import SignatureInvalid, UnsafeXml
from bhxh.signing import DSIG_NS, verify_signature

D = f"{{{DSIG_NS}}}"


@pytest.fixture
def signed_tree(d02: bytes, remote_sign: Callable[[bytes], bytes]) -> etree._Element:
    return etree.fromstring(remote_sign(d02))


def _sig(root: etree._Element) -> etree._Element:
    sig = root.find(f".//{D}Signature")
    assert sig is not None
    return sig


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def test_the_untouched_document_verifies(signed_tree: etree._Element) -> None:
    assert verify_signature(_bytes(signed_tree)).root_tag == "D02-TS"


def test_a_duplicated_signature_is_refused(signed_tree: etree._Element) -> None:
    signed_tree.find("NoiDung").append(copy.deepcopy(_sig(signed_tree)))  # type: ignore[union-attr]
    with pytest.raises(SignatureInvalid, match="2 Signature elements"):
        verify_signature(_bytes(signed_tree))


def test_a_signature_moved_out_of_cky_is_refused(signed_tree: etree._Element) -> None:
    noi_dung = signed_tree.find("NoiDung")
    assert noi_dung is not None
    noi_dung.append(_sig(signed_tree))
    with pytest.raises(SignatureInvalid, match="sits in <NoiDung>"):
        verify_signature(_bytes(signed_tree))


def test_a_signature_not_last_in_cky_is_refused(signed_tree: etree._Element) -> None:
    cky = signed_tree.find("Cky")
    assert cky is not None
    etree.SubElement(cky, "Extra")
    with pytest.raises(SignatureInvalid, match="last child"):
        verify_signature(_bytes(signed_tree))


def test_an_extra_reference_is_refused(signed_tree: etree._Element) -> None:
    signed_info = _sig(signed_tree).find(f"{D}SignedInfo")
    assert signed_info is not None
    extra = copy.deepcopy(signed_info.find(f"{D}Reference"))
    assert extra is not None
    extra.set("URI", "#other")
    signed_info.append(extra)
    with pytest.raises(SignatureInvalid, match="exactly one Reference"):
        verify_signature(_bytes(signed_tree))


def test_an_extra_c14n_transform_is_refused(signed_tree: etree._Element) -> None:
    transforms = _sig(signed_tree).find(f"{D}SignedInfo/{D}Reference/{D}Transforms")
    assert transforms is not None
    etree.SubElement(transforms, f"{D}Transform").set(
        "Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    )
    with pytest.raises(SignatureInvalid, match="2 transforms"):
        verify_signature(_bytes(signed_tree))


def test_a_reference_to_a_fragment_is_refused(signed_tree: etree._Element) -> None:
    reference = _sig(signed_tree).find(f"{D}SignedInfo/{D}Reference")
    assert reference is not None
    reference.set("URI", "#sigid")
    with pytest.raises(SignatureInvalid, match="Reference"):
        verify_signature(_bytes(signed_tree))


@pytest.mark.parametrize(
    ("path", "algorithm"),
    [
        ("SignedInfo/CanonicalizationMethod", "http://www.w3.org/2006/12/xml-c14n11"),
        ("SignedInfo/SignatureMethod", "http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
        ("SignedInfo/Reference/DigestMethod", "http://www.w3.org/2000/09/xmldsig#sha1"),
    ],
)
def test_other_algorithms_are_refused(
    signed_tree: etree._Element, path: str, algorithm: str
) -> None:
    el = _sig(signed_tree).find("/".join(D + p for p in path.split("/")))
    assert el is not None
    el.set("Algorithm", algorithm)
    with pytest.raises(SignatureInvalid, match="differ from the profile"):
        verify_signature(_bytes(signed_tree))


def test_another_id_is_refused(signed_tree: etree._Element) -> None:
    _sig(signed_tree).set("Id", "sig1")
    with pytest.raises(SignatureInvalid, match="Id"):
        verify_signature(_bytes(signed_tree))


def test_a_prefixed_signature_is_refused(d02: bytes, remote_sign: Callable[[bytes], bytes]) -> None:
    signed = remote_sign(d02)
    prefixed = signed.replace(
        b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"',
        b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
        b'xmlns="http://www.w3.org/2000/09/xmldsig#"',
    ).replace(b"</Signature>", b"</ds:Signature>")
    with pytest.raises(SignatureInvalid, match="unprefixed"):
        verify_signature(prefixed)


def test_dsig_elements_outside_the_signature_are_refused(signed_tree: etree._Element) -> None:
    noi_dung = signed_tree.find("NoiDung")
    assert noi_dung is not None
    etree.SubElement(noi_dung, f"{D}Reference", nsmap={None: DSIG_NS}).set("URI", "")  # type: ignore[dict-item]
    with pytest.raises(SignatureInvalid, match="outside its Signature"):
        verify_signature(_bytes(signed_tree))


def test_content_hidden_in_object_is_refused(signed_tree: etree._Element) -> None:
    obj = etree.SubElement(_sig(signed_tree), f"{D}Object")
    obj.append(copy.deepcopy(signed_tree.find("NoiDung")))
    with pytest.raises(SignatureInvalid):
        verify_signature(_bytes(signed_tree))


def test_a_substituted_key_value_is_refused(signed_tree: etree._Element) -> None:
    modulus = _sig(signed_tree).find(f"{D}KeyInfo/{D}KeyValue/{D}RSAKeyValue/{D}Modulus")
    assert modulus is not None
    modulus.text = "AQAB"
    with pytest.raises(SignatureInvalid, match="KeyValue does not match"):
        verify_signature(_bytes(signed_tree))


def test_a_second_certificate_in_x509_data_is_refused(signed_tree: etree._Element) -> None:
    data = _sig(signed_tree).find(f"{D}KeyInfo/{D}X509Data")
    assert data is not None
    data.append(copy.deepcopy(data[-1]))
    with pytest.raises(SignatureInvalid, match="one X509Certificate"):
        verify_signature(_bytes(signed_tree))


def test_changed_content_fails_the_reference_digest(signed_tree: etree._Element) -> None:
    signed_tree.find("NoiDung/LaoDong/TuThang").text = "02/2026"  # type: ignore[union-attr]
    with pytest.raises(SignatureInvalid, match="does not match the signed digest"):
        verify_signature(_bytes(signed_tree))


def test_a_doctype_in_a_signed_file_is_refused(
    d02: bytes, remote_sign: Callable[[bytes], bytes]
) -> None:
    signed = remote_sign(d02)
    with_doctype = signed.replace(b"?>", b'?><!DOCTYPE D02-TS [<!ENTITY x "y">]>', 1)
    with pytest.raises(UnsafeXml):
        verify_signature(with_doctype)
