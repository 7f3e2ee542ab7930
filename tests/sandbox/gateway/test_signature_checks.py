"""Signatures on the envelope and on every declaration: the profile, the digest, the value,
the certificate chain, validity, revocation and identity -- checked by the gateway's own
verifier, never by bhxh's signing code."""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import Callable

import pytest
from lxml import etree

from bhxh.hrdata import WorkerRow, build_d02ts
from bhxh.models import Declaration
from bhxh.submission import SubmissionRefused
from sandbox import xmldsig_check as x
from sandbox.gateway import messages as m
from sandbox.gateway.config import TrustConfig
from tests.sandbox.gateway.gateway_support import (
    UNIT,
    VN,
    Certs,
    Gateway,
    declaration,
    envelope,
    registered_unit,
    sign,
)

Start = Callable[..., Gateway]
DSIG = "{http://www.w3.org/2000/09/xmldsig#}"
ENVELOPE = "BHXHDienTu.xml"


async def refusal_of(gateway: Gateway, content: bytes) -> tuple[str, str]:
    with pytest.raises(SubmissionRefused) as info:
        await gateway.client.submit("TZ9001A-600-s", UNIT.code, "envelope", content)
    assert gateway.submitted("TZ9001A-600-s") == 0
    return info.value.code, info.value.message


def expect(refusal: m.Refusal) -> tuple[str, str]:
    return refusal.code, refusal.message


def invalid(document: str, reason: str) -> tuple[str, str]:
    return expect(m.SIGNATURE_INVALID(document=document, reason=reason))


def serial(cert: object) -> str:
    return format(cert.certificate.serial_number, "X")  # type: ignore[attr-defined]


# ------------------------------------------------------------------ the verifier alone
def test_a_document_signed_by_bhxh_verifies_with_the_gateways_own_verifier(certs: Certs) -> None:
    signed = envelope(certs.token)
    verified = x.verify_enveloped(x.parse_hardened(signed), signature_parent=("Hoso", "CKy_Dvi"))
    assert verified.certificate.serial_number == certs.token.certificate.serial_number


def test_whitespace_added_inside_signed_info_after_signing_breaks_the_value(certs: Certs) -> None:
    signed = envelope(certs.token).replace(b"<SignedInfo>", b"<SignedInfo>\n  ", 1)
    with pytest.raises(x.SignatureCheckFailed) as info:
        x.verify_enveloped(x.parse_hardened(signed), signature_parent=("Hoso", "CKy_Dvi"))
    assert info.value.reason == x.R_VALUE


def test_changes_that_canonicalisation_erases_keep_the_signature_valid(certs: Certs) -> None:
    signed = envelope(certs.token)
    rsa = b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    quoted = signed.replace(
        b'<SignatureMethod Algorithm="' + rsa + b'"/>',
        b"<SignatureMethod Algorithm='" + rsa + b"' ></SignatureMethod>",
    )
    assert quoted != signed
    commented = quoted.replace(b"<NoiDung>", b"<NoiDung><!-- not signed: C14N drops it -->", 1)
    x.verify_enveloped(x.parse_hardened(commented), signature_parent=("Hoso", "CKy_Dvi"))


# ------------------------------------------------------------------ over HTTP
async def test_an_envelope_changed_after_signing_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    signed = envelope(certs.token).replace(UNIT.name.encode(), "Công ty Khác".encode(), 1)
    assert await refusal_of(start_gateway(), signed) == invalid(ENVELOPE, x.R_DIGEST)


async def test_a_tampered_declaration_inside_a_valid_envelope_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    good = declaration(certs.token)
    tampered = Declaration(
        good.form, good.filename, good.content.replace(b"8000000", b"9000000", 1)
    )
    assert tampered.content != good.content
    content = envelope(certs.token, [tampered])  # the envelope itself is validly signed
    assert await refusal_of(start_gateway(), content) == invalid("D02-TS-595.xml", x.R_DIGEST)


async def test_an_unsigned_declaration_is_refused(start_gateway: Start, certs: Certs) -> None:
    unsigned = build_d02ts(
        UNIT, "01/2026", [WorkerRow(HoTen="A", ChucVu="B", TienLuong=1, PA="TM")]
    )
    content = envelope(certs.token, [Declaration("D02-TS", "D02-TS-595.xml", unsigned)])
    assert await refusal_of(start_gateway(), content) == invalid(
        "D02-TS-595.xml", x.R_COUNT.format(count=0)
    )


async def test_signature_wrapping_is_refused(start_gateway: Start, certs: Certs) -> None:
    """The original signed envelope is hidden in the Signature's Object, the content forged."""
    root = etree.fromstring(envelope(certs.token))
    original = copy.deepcopy(root)
    name = root.find("NoiDung/ThongTinDonVi/TenDoiTuong")
    assert name is not None
    name.text = "Công ty Mạo Danh"
    signature = root.find(f"CKy_Dvi/{DSIG}Signature")
    assert signature is not None
    etree.SubElement(signature, f"{DSIG}Object").append(original)
    forged = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    assert await refusal_of(start_gateway(), forged) == invalid(ENVELOPE, x.R_COUNT.format(count=2))


async def test_a_signature_outside_its_slot_is_refused(start_gateway: Start, certs: Certs) -> None:
    root = etree.fromstring(envelope(certs.token))
    signature = root.find(f"CKy_Dvi/{DSIG}Signature")
    assert signature is not None
    root.find("NoiDung").append(signature)  # type: ignore[union-attr]
    moved = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    assert await refusal_of(start_gateway(), moved) == invalid(
        ENVELOPE, x.R_PLACE.format(where="Hoso/CKy_Dvi")
    )


async def test_a_reference_to_anything_but_the_whole_document_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    signed = envelope(certs.token).replace(b'<Reference URI="">', b'<Reference URI="#NoiDung">', 1)
    assert await refusal_of(start_gateway(), signed) == invalid(ENVELOPE, x.R_REFERENCE)


async def test_a_transform_besides_enveloped_is_refused(start_gateway: Start, certs: Certs) -> None:
    extra = b'<Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/></Transforms>'
    signed = envelope(certs.token).replace(b"</Transforms>", extra, 1)
    assert await refusal_of(start_gateway(), signed) == invalid(ENVELOPE, x.R_TRANSFORMS)


async def test_a_revoked_certificate_is_refused(start_gateway: Start, certs: Certs) -> None:
    content = envelope(certs.revoked)
    assert await refusal_of(start_gateway(), content) == expect(
        m.CERTIFICATE_REVOKED(document=ENVELOPE, serial=serial(certs.revoked))
    )


def receipt(gateway: Gateway) -> str:
    """The gateway's clock as its refusals write it: Vietnam time, to the second."""
    return gateway.clock.now.astimezone(VN).isoformat(timespec="seconds")


async def test_an_expired_certificate_is_refused(start_gateway: Start, certs: Certs) -> None:
    gateway = start_gateway()
    at = dt.datetime.now(VN).replace(microsecond=0) - dt.timedelta(hours=1)
    content = envelope(certs.expired, signing_time=at)
    assert await refusal_of(gateway, content) == expect(
        m.CERTIFICATE_EXPIRED(document=ENVELOPE, at=receipt(gateway), serial=serial(certs.expired))
    )


@pytest.mark.parametrize("claimed", ["two days back", "at receipt", "no signing time"])
async def test_a_certificate_expired_before_receipt_is_refused_whatever_time_is_claimed(
    start_gateway: Start, certs: Certs, claimed: str
) -> None:
    """SigningTime sits outside what the signature covers: whoever holds the key writes
    any time there. A certificate that expired yesterday is refused even when the
    document says it was signed the day before (within the 30-day window)."""
    gateway = start_gateway(units=[registered_unit(certs.expired)])
    gateway.clock.now = certs.expired.certificate.not_valid_after_utc + dt.timedelta(days=1)
    at = {
        "two days back": gateway.clock.now - dt.timedelta(days=2),
        "at receipt": gateway.clock.now,
        "no signing time": None,
    }[claimed]
    period = gateway.clock.now.astimezone(VN).strftime("%m/%Y")
    decl = declaration(certs.expired, period=period, signing_time=at)
    content = envelope(certs.expired, [decl], period=period, signing_time=at)
    assert await refusal_of(gateway, content) == expect(
        m.CERTIFICATE_EXPIRED(document=ENVELOPE, at=receipt(gateway), serial=serial(certs.expired))
    )


async def test_a_certificate_still_valid_at_receipt_is_accepted_with_an_old_signing_time(
    start_gateway: Start, certs: Certs
) -> None:
    """The other side of the same rule: a signing time 29 days back, the certificate valid
    at receipt, is accepted (the window is kept for the claimed time)."""
    gateway = start_gateway()
    at = dt.datetime.now(VN).replace(microsecond=0) - dt.timedelta(days=29)
    decl = declaration(certs.token, signing_time=at)
    await gateway.client.submit(
        "TZ9001A-600-s", UNIT.code, "envelope", envelope(certs.token, [decl], signing_time=at)
    )
    assert gateway.submitted("TZ9001A-600-s") == 1


def _modulus_of(cert: object) -> str:
    numbers = cert.certificate.public_key().public_numbers()  # type: ignore[attr-defined]
    return base64.b64encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")).decode()


async def test_a_key_value_naming_another_key_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    """KeyValue is outside SignedInfo: changed after signing, the signature still verifies
    with the certificate; the gateway refuses the KeyValue that names another key."""
    signed = envelope(certs.token)
    own, other = _modulus_of(certs.token), _modulus_of(certs.remote)
    assert f"<Modulus>{own}</Modulus>".encode() in signed
    swapped = signed.replace(own.encode(), other.encode(), 1)
    assert await refusal_of(start_gateway(), swapped) == invalid(ENVELOPE, x.R_KEY_VALUE)


async def test_a_key_value_that_is_not_an_rsa_key_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    signed = envelope(certs.token)
    start = signed.index(b"<KeyValue>")
    end = signed.index(b"</KeyValue>") + len(b"</KeyValue>")
    odd = signed[:start] + b"<KeyValue><DSAKeyValue/></KeyValue>" + signed[end:]
    assert await refusal_of(start_gateway(), odd) == invalid(ENVELOPE, x.R_KEY_VALUE)


@pytest.mark.parametrize(
    ("where", "duplicated"),
    [
        ("a second Object", "proid"),
        ("an Object with the Signature's Id", "sigid"),
        ("signed content", "sigid"),
    ],
)
async def test_a_duplicate_id_is_refused(
    start_gateway: Start, certs: Certs, where: str, duplicated: str
) -> None:
    at = dt.datetime.now(VN).replace(microsecond=0)
    if where == "signed content":  # signed with it: the digest covers the Id
        content = envelope(
            certs.token,
            signing_time=at,
            edit=lambda xml: xml.replace(b"<NoiDung>", b'<NoiDung Id="sigid">', 1),
        )
    else:  # added after signing, outside SignedInfo: the signature still verifies
        extra = f'<Object Id="{duplicated}"><Note xmlns="">x</Note></Object></Signature>'
        content = envelope(certs.token, signing_time=at).replace(b"</Signature>", extra.encode(), 1)
    assert content.count(f'Id="{duplicated}"'.encode()) == 2
    assert await refusal_of(start_gateway(), content) == invalid(
        ENVELOPE, x.R_DUPLICATE_ID.format(value=duplicated, count=2)
    )


async def test_a_signing_time_outside_the_window_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    at = dt.datetime.now(VN).replace(microsecond=0) - dt.timedelta(days=60)
    content = envelope(certs.token, signing_time=at)
    assert await refusal_of(start_gateway(), content) == expect(
        m.SIGNING_TIME(document=ENVELOPE, at=at.isoformat())
    )


async def test_a_certificate_of_another_tax_code_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    content = envelope(certs.other_mst)
    assert await refusal_of(start_gateway(), content) == expect(
        m.CERTIFICATE_MST(document=ENVELOPE, certificate="MST:0109000999", declared=UNIT.tax_code)
    )


async def test_a_certificate_from_an_untrusted_pki_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    content = envelope(certs.rogue)
    assert await refusal_of(start_gateway(), content) == expect(
        m.CERTIFICATE_UNTRUSTED(document=ENVELOPE, serial=serial(certs.rogue))
    )


async def test_a_certificate_from_an_untrusted_intermediate_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    gateway = start_gateway(trust=TrustConfig(intermediates=["misa", "token"]))
    assert await refusal_of(gateway, envelope(certs.vnpt)) == expect(
        m.CERTIFICATE_UNTRUSTED(document=ENVELOPE, serial=serial(certs.vnpt))
    )


async def test_a_declaration_signed_by_an_unregistered_certificate_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    content = envelope(certs.token, [declaration(certs.remote)])
    assert await refusal_of(start_gateway(), content) == expect(
        m.CERTIFICATE_NOT_REGISTERED(
            unit=UNIT.code, serial=serial(certs.remote), document="D02-TS-595.xml"
        )
    )


def test_a_declaration_signed_here_is_also_accepted_by_the_gateway_verifier(certs: Certs) -> None:
    signed = sign(
        build_d02ts(
            UNIT, "02/2026", [WorkerRow(HoTen="Đỗ Thị Hoa", ChucVu="NV", TienLuong=5, PA="GH")]
        ),
        certs.remote,
    )
    x.verify_enveloped(x.parse_hardened(signed), signature_parent=("D02-TS", "Cky"))
