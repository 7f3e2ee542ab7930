"""PDF attachments (CT-DK) in an envelope: with ``trust.require_signed_pdf`` the gateway
checks each one with its own code (sandbox/gateway/pdf_check.py, not bhxh.signing and not
pyHanko): the CMS over the byte range, the chain to the test root, ``UID=MST:`` against
the envelope's MaSoThue, the byte range covering the whole file but the signature."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest

from bhxh.models import Attachment
from bhxh.submission import SubmissionRefused
from demo.attachments import labour_contract_pdf
from sandbox.gateway import messages as m
from sandbox.gateway import pdf_check as p
from sandbox.gateway.config import TrustConfig
from sandbox.gateway.documents import Signer, Trust
from sandbox.pki import IssuedCertificate, TestPKI
from tests.bhxh.signing.pdf.pdf_support import Pdfsig, flip_byte, remote_sign
from tests.sandbox.gateway.gateway_support import UNIT, Certs, Gateway, envelope

Start = Callable[..., Gateway]
REQUIRE = {"trust": {"require_signed_pdf": True}}
NAME = "Hợp đồng lao động.pdf"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


@pytest.fixture(scope="module")
def contract() -> bytes:
    return labour_contract_pdf(employer=UNIT.name, employer_tax_code=UNIT.tax_code)


@pytest.fixture(scope="module")
def pdfsig(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Pdfsig:
    return Pdfsig.create(pki, tmp_path_factory.mktemp("pdfsig-gw"))


def signed_by(cert: IssuedCertificate, pdf: bytes, pki: TestPKI) -> bytes:
    return remote_sign(pdf, cert, pki.chain_der(cert.ca), signing_time=dt.datetime.now(dt.UTC))


def with_pdf(cert: IssuedCertificate, content: bytes, name: str = NAME) -> bytes:
    return envelope(cert, attachments=(Attachment(name, content),))


async def refusal_of(gateway: Gateway, content: bytes) -> tuple[str, str]:
    with pytest.raises(SubmissionRefused) as info:
        await gateway.client.submit("TZ9001A-600-p", UNIT.code, "envelope", content)
    assert gateway.submitted("TZ9001A-600-p") == 0
    return info.value.code, info.value.message


async def accepted(gateway: Gateway, content: bytes) -> None:
    ack = await gateway.client.submit("TZ9001A-600-p", UNIT.code, "envelope", content)
    assert not ack.duplicate and gateway.submitted("TZ9001A-600-p") == 1


# ------------------------------------------------------------------ over HTTP
async def test_a_pdf_signed_by_the_unit_is_accepted(
    start_gateway: Start, certs: Certs, pki: TestPKI, contract: bytes
) -> None:
    await accepted(
        start_gateway(**REQUIRE), with_pdf(certs.token, signed_by(certs.token, contract, pki))
    )


async def test_an_unsigned_pdf_is_refused_naming_the_file(
    start_gateway: Start, certs: Certs, contract: bytes
) -> None:
    code, message = await refusal_of(start_gateway(**REQUIRE), with_pdf(certs.token, contract))
    assert (code, message) == (p.PDF_UNSIGNED.code, p.PDF_UNSIGNED(name=NAME).message)
    assert NAME in message and "not signed" in message


async def test_a_pdf_signed_by_another_unit_is_refused(
    start_gateway: Start, certs: Certs, pki: TestPKI, contract: bytes
) -> None:
    other = signed_by(certs.other_mst, contract, pki)
    code, message = await refusal_of(start_gateway(**REQUIRE), with_pdf(certs.token, other))
    assert code == p.PDF_SIGNER_MST.code
    assert NAME in message and "MST:0109000999" in message and UNIT.tax_code in message


async def test_a_pdf_altered_after_signing_is_refused(
    start_gateway: Start, certs: Certs, pki: TestPKI, contract: bytes
) -> None:
    signed = signed_by(certs.token, contract, pki)
    gateway = start_gateway(**REQUIRE)
    code, message = await refusal_of(gateway, with_pdf(certs.token, flip_byte(signed, 300)))
    assert code == p.PDF_ALTERED.code and NAME in message
    appended = signed + b"\n% a line added after signing\n"
    code, message = await refusal_of(gateway, with_pdf(certs.token, appended))
    assert code == p.PDF_ALTERED.code and "added after the last signature" in message


async def test_a_pdf_signed_with_a_certificate_vss_does_not_have_on_file_is_refused(
    start_gateway: Start, certs: Certs, pki: TestPKI, contract: bytes
) -> None:
    """The PDF's signer joins the envelope's signers: it must be the registered one."""
    remote = signed_by(certs.remote, contract, pki)
    code, _ = await refusal_of(start_gateway(**REQUIRE), with_pdf(certs.token, remote))
    assert code == m.CERTIFICATE_NOT_REGISTERED.code


async def test_a_pdf_signed_under_an_untrusted_root_is_refused(
    start_gateway: Start, certs: Certs, contract: bytes
) -> None:
    rogue_pki = TestPKI(certs.rogue.cert_path.parent.parent)
    rogue = signed_by(certs.rogue, contract, rogue_pki)  # same names, another root
    code, _ = await refusal_of(start_gateway(**REQUIRE), with_pdf(certs.token, rogue))
    assert code == m.CERTIFICATE_UNTRUSTED.code


async def test_other_attachment_types_pass_untouched(start_gateway: Start, certs: Certs) -> None:
    await accepted(start_gateway(**REQUIRE), with_pdf(certs.token, JPEG, "scan.jpg"))


async def test_by_default_an_unsigned_pdf_is_refused(
    start_gateway: Start, certs: Certs, contract: bytes
) -> None:
    # The flows sign every PDF attachment in round 1, so the gateway requires it.
    code, _ = await refusal_of(start_gateway(), with_pdf(certs.token, contract))
    assert code == "pdf_unsigned"


async def test_a_carrier_that_takes_unsigned_pdfs_can_be_played(
    start_gateway: Start, certs: Certs, contract: bytes
) -> None:
    await accepted(
        start_gateway(trust={"require_signed_pdf": False}), with_pdf(certs.token, contract)
    )


# ------------------------------------------------------------------ the checker alone
@pytest.fixture(scope="module")
def trust(pki: TestPKI) -> Trust:
    return Trust(pki, TrustConfig(require_signed_pdf=True))


def check(pdf: bytes, trust: Trust) -> Signer:
    return p.check_signed_pdf(pdf, NAME, UNIT.tax_code, trust, dt.datetime.now(dt.UTC))


def test_the_etsi_subfilter_is_accepted_too(
    certs: Certs, pki: TestPKI, contract: bytes, trust: Trust
) -> None:
    signed = remote_sign(
        contract,
        certs.token,
        pki.chain_der("token"),
        subfilter="ETSI.CAdES.detached",
        signing_time=dt.datetime.now(dt.UTC),
    )
    assert check(signed, trust).certificate.serial_number == certs.token.certificate.serial_number


def test_a_pdf_signed_first_by_another_party_then_by_the_unit_is_accepted(
    certs: Certs, pki: TestPKI, contract: bytes, trust: Trust
) -> None:
    both = signed_by(certs.token, signed_by(certs.other_mst, contract, pki), pki)
    assert p.check_signed_pdf(both, NAME, UNIT.tax_code, trust, dt.datetime.now(dt.UTC))


def test_a_signature_value_changed_inside_the_cms_is_refused(
    certs: Certs, pki: TestPKI, contract: bytes, trust: Trust
) -> None:
    signed = signed_by(certs.token, contract, pki)
    start = signed.rindex(b"/Contents <") + len(b"/Contents <")
    der = bytes.fromhex(signed[start : signed.index(b">", start)].decode()).rstrip(b"\x00")
    # the RSA value is the last 256 bytes of this CMS (no unsigned attributes)
    offset = start + 2 * (len(der) - 10)
    digit = b"0" if signed[offset : offset + 1] != b"0" else b"1"
    tampered = signed[:offset] + digit + signed[offset + 1 :]
    with pytest.raises(m.Refusal) as info:
        check(tampered, trust)
    assert info.value.code == p.PDF_SIGNATURE_INVALID.code


def test_a_pdf_whose_gap_is_not_the_contents_value_is_refused(
    certs: Certs, pki: TestPKI, contract: bytes, trust: Trust
) -> None:
    signed = signed_by(certs.token, contract, pki)
    start = signed.rindex(b"/Contents <")
    moved = signed[:start] + b"/Contentz <" + signed[start + len(b"/Contents <") :]
    with pytest.raises(m.Refusal) as info:
        check(moved, trust)
    assert info.value.code == p.PDF_ALTERED.code


def test_a_pdf_signed_by_the_unit_then_updated_unsigned_is_refused(
    certs: Certs, pki: TestPKI, contract: bytes, trust: Trust
) -> None:
    """An incremental update after the unit's signature (a form filled, a page added)."""
    from pyhanko.pdf_utils.generic import pdf_string
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = signed_by(certs.token, contract, pki)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Lang"] = pdf_string("vi")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(m.Refusal) as info:
        check(out.getvalue(), trust)
    assert info.value.code == p.PDF_ALTERED.code


def test_the_gateway_and_pdfsig_agree_on_good_and_bad_files(
    certs: Certs, pki: TestPKI, contract: bytes, trust: Trust, pdfsig: Pdfsig
) -> None:
    signed = signed_by(certs.token, contract, pki)
    assert pdfsig.all_valid(signed)
    check(signed, trust)
    for offset in (100, len(contract) - 100, len(signed) - 30):
        bad = flip_byte(signed, offset)
        assert not pdfsig.all_valid(bad)
        with pytest.raises(m.Refusal):
            check(bad, trust)


def test_contents_that_are_not_a_cms_are_refused_as_an_invalid_signature(
    certs: Certs, pki: TestPKI, contract: bytes, trust: Trust
) -> None:
    signed = signed_by(certs.token, contract, pki)
    start = signed.rindex(b"/Contents <") + len(b"/Contents <")
    end = signed.index(b">", start)
    for junk in (b"30" + b"8" * (end - start - 2), b"A0" * ((end - start) // 2)):
        with pytest.raises(m.Refusal) as info:
            check(signed[:start] + junk + signed[end:], trust)
        assert info.value.code == p.PDF_SIGNATURE_INVALID.code


def test_a_pdf_signed_by_an_expired_certificate_with_a_backdated_time_is_refused(
    certs: Certs, pki: TestPKI, contract: bytes, trust: Trust
) -> None:
    """The CMS signing time is signed, but by whoever holds the key: it proves nothing
    about when. The certificate is judged at receipt: expired yesterday, refused even
    when the PDF says it was signed the day before."""
    expiry = certs.expired.certificate.not_valid_after_utc
    received = expiry + dt.timedelta(days=1)
    signed = remote_sign(
        contract,
        certs.expired,
        pki.chain_der(certs.expired.ca),
        signing_time=expiry - dt.timedelta(days=1),
    )
    with pytest.raises(m.Refusal) as refused:
        p.check_signed_pdf(signed, NAME, UNIT.tax_code, trust, received)
    assert (refused.value.code, refused.value.message) == (
        m.CERTIFICATE_EXPIRED.code,
        m.CERTIFICATE_EXPIRED(
            document=NAME,
            at=received.astimezone(dt.timezone(dt.timedelta(hours=7))).isoformat(
                timespec="seconds"
            ),
            serial=format(certs.expired.certificate.serial_number, "X"),
        ).message,
    )
