"""Two phases (prepare -> remote value -> apply) give what a local key gives, and check it."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable
from xml.etree import ElementTree

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from signxml import XMLSigner, methods

from bhxh.errors import SignatureInvalid
from bhxh.signing import (
    C14N10,
    DSIG_NS,
    apply_signature,
    prepare_signature,
    signed_info_digest,
    verify_signature,
)
from sandbox.pki import IssuedCertificate, sign_digest


def _value(xml: bytes) -> bytes:
    match = re.search(rb"<SignatureValue>([^<]*)</SignatureValue>", xml)
    assert match is not None
    return base64.b64decode(match.group(1))


def test_apply_splices_only_the_value_into_the_prepared_bytes(
    d02: bytes, issued: IssuedCertificate
) -> None:
    prepared = prepare_signature(d02, issued.der)
    value = sign_digest(issued.private_key, prepared.digest)
    signed = apply_signature(prepared.xml, value, issued.der)
    head, tail = prepared.xml.split(b"<SignatureValue/>")
    b64 = base64.b64encode(value)
    assert signed == head + b"<SignatureValue>" + b64 + b"</SignatureValue>" + tail


def test_two_phase_value_equals_a_local_key_signature_of_the_same_signed_info(
    d02: bytes, issued: IssuedCertificate, remote_sign: Callable[[bytes], bytes]
) -> None:
    signed = remote_sign(d02)
    # Canonicalise SignedInfo without lxml: cut it out of the bytes, declare its namespace
    # (the only one in scope) and let the standard library canonicalise it.
    match = re.search(rb"<SignedInfo>.*</SignedInfo>", signed)
    assert match is not None
    standalone = (
        match.group(0).decode().replace("<SignedInfo>", f'<SignedInfo xmlns="{DSIG_NS}">', 1)
    )
    c14n = ElementTree.canonicalize(standalone).encode()
    assert b'xmlns=""' not in c14n
    local = issued.private_key.sign(c14n, padding.PKCS1v15(), hashes.SHA256())
    assert _value(signed) == local


def test_two_phase_value_equals_signxml_signing_the_same_document_with_the_key(
    d02: bytes, issued: IssuedCertificate, remote_sign: Callable[[bytes], bytes]
) -> None:
    root = etree.fromstring(d02)
    cky = root.find("Cky")
    assert cky is not None
    placeholder = etree.SubElement(
        cky,
        f"{{{DSIG_NS}}}Signature",
        nsmap={None: DSIG_NS},  # type: ignore[dict-item]
    )
    placeholder.set("Id", "placeholder")
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm="rsa-sha256",
        digest_algorithm="sha256",
        c14n_algorithm=C14N10,
    )
    signer.namespaces = {None: DSIG_NS}  # type: ignore[dict-item]
    by_signxml = etree.tostring(
        signer.sign(root, key=issued.private_key, exclude_c14n_transform_element=True)
    )
    assert _value(remote_sign(d02)) == _value(by_signxml)


def test_signing_time_does_not_change_the_signed_info_digest(
    d02: bytes, issued: IssuedCertificate
) -> None:
    plain = prepare_signature(d02, issued.der)
    timed = prepare_signature(d02, issued.der, signing_time=dt.datetime(2026, 1, 31, 23, 59))
    assert plain.digest == timed.digest
    signed = apply_signature(timed.xml, sign_digest(issued.private_key, timed.digest))
    verified = verify_signature(signed)
    assert verified.signing_time == dt.datetime(
        2026, 1, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=7))
    )


def test_a_value_from_another_key_is_refused(
    d02: bytes, issued: IssuedCertificate, other_issued: IssuedCertificate
) -> None:
    prepared = prepare_signature(d02, issued.der)
    wrong = sign_digest(other_issued.private_key, prepared.digest)
    with pytest.raises(SignatureInvalid, match="does not verify with certificate"):
        apply_signature(prepared.xml, wrong, issued.der)


def test_a_value_over_another_digest_is_refused(d02: bytes, issued: IssuedCertificate) -> None:
    prepared = prepare_signature(d02, issued.der)
    wrong = sign_digest(issued.private_key, bytes(32))
    with pytest.raises(SignatureInvalid):
        apply_signature(prepared.xml, wrong)


def test_a_certificate_other_than_key_info_is_refused(
    d02: bytes, issued: IssuedCertificate, other_issued: IssuedCertificate
) -> None:
    prepared = prepare_signature(d02, issued.der)
    value = sign_digest(issued.private_key, prepared.digest)
    with pytest.raises(SignatureInvalid, match="differs from KeyInfo"):
        apply_signature(prepared.xml, value, other_issued.der)


def test_content_changed_between_phases_is_refused(d02: bytes, issued: IssuedCertificate) -> None:
    prepared = prepare_signature(d02, issued.der)
    value = sign_digest(issued.private_key, prepared.digest)
    tampered = prepared.xml.replace(b"<TienLuong>5000001<", b"<TienLuong>9000001<")
    assert tampered != prepared.xml
    with pytest.raises(SignatureInvalid, match="changed after it was prepared"):
        apply_signature(tampered, value)


def test_a_signed_document_cannot_take_a_second_value(
    d02: bytes, issued: IssuedCertificate, remote_sign: Callable[[bytes], bytes]
) -> None:
    signed = remote_sign(d02)
    with pytest.raises(SignatureInvalid, match="already signed"):
        apply_signature(signed, _value(signed))


def test_signed_info_digest_of_signed_file_is_what_was_signed(
    d02: bytes, issued: IssuedCertificate
) -> None:
    prepared = prepare_signature(d02, issued.der)
    signed = apply_signature(prepared.xml, sign_digest(issued.private_key, prepared.digest))
    assert signed_info_digest(signed) == prepared.digest


def test_prefixed_namespaces_of_the_root_are_part_of_the_signed_info(
    issued: IssuedCertificate,
    remote_sign: Callable[[bytes], bytes],
    xmlsec_verify: Callable[[bytes], bool],
) -> None:
    doc = (
        b'<D02-TS xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><NoiDung/><Cky/></D02-TS>'
    )
    signed = remote_sign(doc)
    assert verify_signature(signed).root_tag == "D02-TS"
    assert xmlsec_verify(signed)


def test_a_bom_and_whitespace_in_the_source_sign_and_verify(
    remote_sign: Callable[[bytes], bytes], xmlsec_verify: Callable[[bytes], bool]
) -> None:
    doc = (
        "\ufeff<?xml version='1.0' encoding='utf-8'?>\n<D02-TS>\n  <NoiDung>\r\n"
        "    <LaoDong><HoTen>Lê Thị C</HoTen></LaoDong>\n  </NoiDung>\n  <Cky></Cky>\n</D02-TS>\n"
    )
    signed = remote_sign(doc.encode())
    verify_signature(signed)
    assert xmlsec_verify(signed)


def test_a_large_declaration_signs_and_verifies(
    make_d02: Callable[..., bytes],
    remote_sign: Callable[[bytes], bytes],
    xmlsec_verify: Callable[[bytes], bool],
) -> None:
    signed = remote_sign(make_d02(workers=10_000))
    assert verify_signature(signed).root_tag == "D02-TS"
    assert xmlsec_verify(signed)


def test_comments_and_processing_instructions_in_the_content_sign_and_verify(
    remote_sign: Callable[[bytes], bytes], xmlsec_verify: Callable[[bytes], bool]
) -> None:
    doc = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by HR -->\n<D02-TS>'
        b"<?app v=1?><NoiDung><!-- 1 worker --><LaoDong><TienLuong>5000000</TienLuong>"
        b"</LaoDong></NoiDung><Cky/></D02-TS>"
    )
    signed = remote_sign(doc)
    assert b"<!-- 1 worker -->" in signed
    verify_signature(signed)
    assert xmlsec_verify(signed)
