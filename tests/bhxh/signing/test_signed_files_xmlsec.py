"""Every signed file kind verifies with xmlsec1 (trusting only the test PKI), and one flipped
byte of content or of the signature value makes both xmlsec1 and verify_signature refuse it."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bhxh.documents import build_envelope, build_registration_form, certificate_info
from bhxh.errors import SignatureInvalid
from bhxh.models import Declaration, Dossier, UnitInfo
from bhxh.signing import apply_signature, prepare_signature, verify_signature
from sandbox import xmldsig_check as x
from sandbox.pki import IssuedCertificate, sign_digest
from tests.bhxh.intake.input_support import FIXTURES

KINDS = ["declaration", "envelope", "form04", "form05", "form06"]


@pytest.fixture
def make_signed(
    d02: bytes,
    dossier: Dossier,
    unit: UnitInfo,
    issued: IssuedCertificate,
    remote_sign: Callable[[bytes], bytes],
) -> Callable[[str], bytes]:
    def make(kind: str) -> bytes:
        if kind == "declaration":
            return remote_sign(d02)
        if kind == "envelope":
            signed = Declaration("D02-TS", "D02-TS-595.xml", remote_sign(d02))
            return remote_sign(build_envelope(dossier, [signed], created=dt.date(2026, 2, 5)))
        form = kind[-2:]
        return remote_sign(
            build_registration_form(
                form,  # type: ignore[arg-type]
                unit,
                certificate_info(issued.der),
                place="Hà Nội",
                stop_date=dt.date(2026, 3, 1) if form == "06" else None,
                reason="Chuyển sang I-VAN khác" if form == "06" else "",
            )
        )

    return make


def _flip_content(signed: bytes) -> bytes:
    # The first digit of the business content (NoiDung comes before the signature slot);
    # declarations hold no tax code any more, so the change is made to what they do hold.
    start = signed.index(b"<NoiDung>")
    index = next(i for i in range(start, len(signed)) if signed[i : i + 1].isdigit())
    digit = b"1" if signed[index : index + 1] != b"1" else b"2"
    return signed[:index] + digit + signed[index + 1 :]


def _flip_signature(signed: bytes) -> bytes:
    match = re.search(rb"<SignatureValue>([^<]*)</SignatureValue>", signed)
    assert match is not None
    raw = bytearray(base64.b64decode(match.group(1)))
    raw[17] ^= 0x01
    return signed[: match.start(1)] + base64.b64encode(bytes(raw)) + signed[match.end(1) :]


@pytest.mark.parametrize("kind", KINDS)
def test_signed_file_verifies_with_xmlsec1(
    kind: str, make_signed: Callable[[str], bytes], xmlsec_verify: Callable[[bytes], bool]
) -> None:
    signed = make_signed(kind)
    assert xmlsec_verify(signed)
    verify_signature(signed)


@pytest.mark.parametrize("kind", KINDS)
def test_one_flipped_content_byte_fails_everywhere(
    kind: str, make_signed: Callable[[str], bytes], xmlsec_verify: Callable[[bytes], bool]
) -> None:
    signed = make_signed(kind)
    flipped = _flip_content(signed)
    assert len(flipped) == len(signed) and flipped != signed
    assert not xmlsec_verify(flipped)
    with pytest.raises(SignatureInvalid):
        verify_signature(flipped)


@pytest.mark.parametrize("kind", KINDS)
def test_one_flipped_signature_byte_fails_everywhere(
    kind: str, make_signed: Callable[[str], bytes], xmlsec_verify: Callable[[bytes], bool]
) -> None:
    flipped = _flip_signature(make_signed(kind))
    assert not xmlsec_verify(flipped)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_signature(flipped)


def test_a_certificate_outside_the_test_pki_is_not_trusted_by_xmlsec1(
    d02: bytes, xmlsec_verify: Callable[[bytes], bool]
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Self-signed")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    prepared = prepare_signature(d02, der)
    signed = apply_signature(prepared.xml, sign_digest(key, prepared.digest))
    verify_signature(signed)  # the profile and value are fine...
    assert not xmlsec_verify(signed)  # ...but the verifier trusts only the test PKI


GENUINE = FIXTURES / "genuine"


@pytest.mark.parametrize("profile", ["ivan", "xmldsig"])
@pytest.mark.parametrize("kind", ["declaration", "envelope"])
def test_both_profiles_with_a_signing_time_verify_everywhere(
    kind: str,
    profile: str,
    d02: bytes,
    dossier: Dossier,
    issued: IssuedCertificate,
    xmlsec_verify: Callable[[bytes], bool],
) -> None:
    moment = dt.datetime(2026, 2, 10, 9, 30, tzinfo=dt.UTC)

    def sign(xml: bytes) -> bytes:
        prepared = prepare_signature(xml, issued.der, signing_time=moment, profile=profile)
        return apply_signature(prepared.xml, sign_digest(issued.private_key, prepared.digest))

    signed = sign(d02)
    parent = ("D02-TS", "Cky")
    if kind == "envelope":
        envelope = build_envelope(dossier, [Declaration("D02-TS", "D02-TS-595.xml", signed)])
        signed, parent = sign(envelope), ("Hoso", "CKy_Dvi")
    assert xmlsec_verify(signed)
    assert verify_signature(signed).signing_time == moment
    gateway = x.verify_enveloped(x.parse_hardened(signed), signature_parent=parent)
    assert gateway.signing_time == moment


@pytest.mark.parametrize("form", ["D02-TS", "TK1-TS"])
def test_a_declaration_from_other_software_signs_and_verifies(
    form: str,
    issued: IssuedCertificate,
    remote_sign: Callable[[bytes], bytes],
    xmlsec_verify: Callable[[bytes], bool],
) -> None:
    original = (GENUINE / f"{form}-595.xml").read_bytes()
    signed = remote_sign(original)
    assert xmlsec_verify(signed)
    assert verify_signature(signed).certificate == issued.certificate
    x.verify_enveloped(x.parse_hardened(signed), signature_parent=(form, "Cky"))
    # Its namespaces and content come through; only the signature was added.
    assert b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' in signed
    assert "Đoàn Thị Mỹ Duyên".encode() in signed
