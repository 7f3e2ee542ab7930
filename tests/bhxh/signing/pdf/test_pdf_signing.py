"""PAdES-family signing of PDF attachments with a remote key, in two phases; every signed
file is checked by poppler's pdfsig (not pyHanko) trusting only the test PKI root."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
from typing import Any

import pytest
from asn1crypto import cms

from bhxh.errors import SignatureInvalid
from bhxh.signing import (
    DEFAULT_FIELD_NAME,
    StampSpec,
    finish_pdf_signature,
    prepare_pdf_signature,
)
from sandbox.pki import IssuedCertificate, TestPKI, sign_digest
from tests.bhxh.signing.pdf.pdf_support import (
    SIGNING_TIME,
    Pdfsig,
    certified_pdf,
    flip_byte,
    remote_sign,
)

STAMP = StampSpec(signer="Công ty TNHH Hoa Sen Thử Nghiệm", place="Hà Nội")


def _widget(signed: bytes) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(signed))
    return reader.root["/AcroForm"]["/Fields"][-1].get_object()


def _cms(signed: bytes) -> cms.SignedData:
    start = signed.rindex(b"/Contents <") + len(b"/Contents <")
    end = signed.index(b">", start)
    der = bytes.fromhex(signed[start:end].decode())
    return cms.ContentInfo.load(der.rstrip(b"\x00"))["content"]


@pytest.mark.parametrize("subfilter", ["adbe.pkcs7.detached", "ETSI.CAdES.detached"])
def test_a_pdf_signed_in_two_phases_is_valid_and_trusted_for_pdfsig(
    contract: bytes,
    issued: IssuedCertificate,
    chain: list[bytes],
    pdfsig: Pdfsig,
    subfilter: str,
) -> None:
    signed = remote_sign(contract, issued, chain, stamp=STAMP, subfilter=subfilter)  # type: ignore[arg-type]
    [report] = pdfsig.report(signed)
    assert report.valid and report.trusted and report.whole_document
    assert report.fields["Signature Type"] == subfilter
    assert report.fields["Signing Hash Algorithm"] == "SHA-256"
    assert "UID=MST:0109876543" in report.fields["Signer full Distinguished Name"]


def test_the_original_bytes_stay_untouched_in_front_of_the_incremental_update(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    signed = remote_sign(contract, issued, chain, stamp=STAMP)
    assert signed.startswith(contract)


def test_a_byte_changed_anywhere_in_the_signed_pdf_makes_pdfsig_fail(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes], pdfsig: Pdfsig
) -> None:
    signed = remote_sign(contract, issued, chain, stamp=STAMP)
    for offset in (200, len(contract) // 2, len(signed) - 40):
        [report] = pdfsig.report(flip_byte(signed, offset))
        assert not report.valid, offset


def test_two_pages_with_a_cross_reference_stream_sign_as_well(
    contract_two_pages: bytes, issued: IssuedCertificate, chain: list[bytes], pdfsig: Pdfsig
) -> None:
    assert pdfsig.all_valid(remote_sign(contract_two_pages, issued, chain, stamp=STAMP))


def test_without_a_stamp_the_signature_is_invisible_and_still_valid(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes], pdfsig: Pdfsig
) -> None:
    signed = remote_sign(contract, issued, chain, stamp=None)
    assert pdfsig.all_valid(signed)
    assert [float(x) for x in _widget(signed)["/Rect"]] == [0, 0, 0, 0]


def test_the_stamp_sits_bottom_left_on_page_one(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    widget = _widget(remote_sign(contract, issued, chain, stamp=STAMP))
    x0, y0, x1, y1 = (float(x) for x in widget["/Rect"])
    assert (x0, y0) == (24, 24) and x1 - x0 > 100 and y1 - y0 < 60
    assert widget["/P"].get_object()["/Type"] == "/Page"


def test_the_stamp_follows_a_page_whose_box_does_not_start_at_the_origin(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes], pdfsig: Pdfsig
) -> None:
    # same length, so every cross-reference offset still holds
    shifted = contract.replace(b"/MediaBox [ 0 0 595 842 ]", b"/MediaBox [ 9 7 604 849 ]")
    assert shifted != contract
    signed = remote_sign(shifted, issued, chain, stamp=STAMP)
    x0, y0, _, _ = (float(x) for x in _widget(signed)["/Rect"])
    assert (x0, y0) == (33, 31)
    assert pdfsig.all_valid(signed)


def test_the_cms_carries_the_chain_and_the_cades_signed_attributes(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    signed_data = _cms(remote_sign(contract, issued, chain))
    [info] = signed_data["signer_infos"]
    attrs = {a["type"].native: a["values"][0].native for a in info["signed_attrs"]}
    assert attrs["content_type"] == "data"
    assert attrs["signing_time"] == SIGNING_TIME
    cert_hash = attrs["signing_certificate_v2"]["certs"][0]["cert_hash"]
    assert cert_hash == hashlib.sha256(issued.der).digest()
    assert len(attrs["message_digest"]) == 32
    assert info["digest_algorithm"]["algorithm"].native == "sha256"
    assert info["signature_algorithm"]["algorithm"].native == "sha256_rsa"
    embedded = {c.chosen.dump() for c in signed_data["certificates"]}
    assert {issued.der, *chain} <= embedded


def test_the_etsi_subfilter_keeps_the_signing_time_out_of_the_signed_attributes(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    """PAdES baseline B-B forbids the signing-time attribute; the time is the dict's /M."""
    signed = remote_sign(contract, issued, chain, subfilter="ETSI.CAdES.detached")
    [info] = _cms(signed)["signer_infos"]
    kinds = {a["type"].native for a in info["signed_attrs"]}
    assert "signing_time" not in kinds and "signing_certificate_v2" in kinds
    assert str(_widget(signed)["/V"]["/M"]) == f"D:{SIGNING_TIME:%Y%m%d%H%M%S}Z"


def test_the_digest_is_the_sha256_of_the_signed_attributes_and_they_bind_the_byte_range(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    prepared = prepare_pdf_signature(
        contract, issued.der, chain, signing_time=SIGNING_TIME, stamp=STAMP
    )
    assert prepared.digest == hashlib.sha256(prepared.signed_attributes).digest()
    a, b, c, d = prepared.byte_range
    assert a == 0 and c + d == len(prepared.pdf)
    assert prepared.pdf[b : b + 1] == b"<" and prepared.pdf[c - 1 : c] == b">"
    covered = hashlib.sha256(prepared.pdf[a : a + b] + prepared.pdf[c : c + d]).digest()
    assert covered == prepared.document_digest
    attrs = cms.CMSAttributes.load(prepared.signed_attributes)
    digests = [x["values"][0].native for x in attrs if x["type"].native == "message_digest"]
    assert digests == [covered]


def test_finishing_is_deterministic(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    prepared = prepare_pdf_signature(
        contract, issued.der, chain, signing_time=SIGNING_TIME, stamp=STAMP
    )
    value = sign_digest(issued.private_key, prepared.digest)
    assert finish_pdf_signature(prepared, value, issued.der) == finish_pdf_signature(
        prepared, value, issued.der
    )


def test_a_value_from_another_key_is_refused_before_anything_is_embedded(
    contract: bytes,
    issued: IssuedCertificate,
    other_issued: IssuedCertificate,
    chain: list[bytes],
) -> None:
    prepared = prepare_pdf_signature(
        contract, issued.der, chain, signing_time=SIGNING_TIME, stamp=None
    )
    wrong = sign_digest(other_issued.private_key, prepared.digest)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        finish_pdf_signature(prepared, wrong, issued.der)


def test_a_value_over_another_digest_is_refused(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    prepared = prepare_pdf_signature(
        contract, issued.der, chain, signing_time=SIGNING_TIME, stamp=None
    )
    wrong = sign_digest(issued.private_key, hashlib.sha256(b"another document").digest())
    with pytest.raises(SignatureInvalid, match="does not verify"):
        finish_pdf_signature(prepared, wrong, issued.der)


def test_another_certificate_than_the_prepared_one_is_refused(
    contract: bytes,
    issued: IssuedCertificate,
    other_issued: IssuedCertificate,
    chain: list[bytes],
) -> None:
    prepared = prepare_pdf_signature(
        contract, issued.der, chain, signing_time=SIGNING_TIME, stamp=None
    )
    value = sign_digest(other_issued.private_key, prepared.digest)
    with pytest.raises(SignatureInvalid, match="not the one the PDF was prepared for"):
        finish_pdf_signature(prepared, value, other_issued.der)


def test_a_prepared_pdf_changed_between_the_phases_is_refused(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    prepared = prepare_pdf_signature(
        contract, issued.der, chain, signing_time=SIGNING_TIME, stamp=None
    )
    value = sign_digest(issued.private_key, prepared.digest)
    changed = dataclasses.replace(prepared, pdf=flip_byte(prepared.pdf, 100))
    with pytest.raises(SignatureInvalid, match="changed after phase one"):
        finish_pdf_signature(changed, value, issued.der)


def test_a_naive_signing_time_is_refused(
    contract: bytes, issued: IssuedCertificate, chain: list[bytes]
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        prepare_pdf_signature(
            contract, issued.der, chain, signing_time=dt.datetime(2026, 2, 10), stamp=None
        )


# ------------------------------------------------------------- already signed PDFs
def test_a_pdf_signed_by_someone_else_gets_the_units_signature_and_keeps_the_first_valid(
    contract: bytes,
    issued: IssuedCertificate,
    other_issued: IssuedCertificate,
    chain: list[bytes],
    pki: TestPKI,
    pdfsig: Pdfsig,
) -> None:
    hospital = remote_sign(contract, other_issued, pki.chain_der("vnpt"), stamp=None)
    both = remote_sign(hospital, issued, chain, stamp=STAMP)
    first, second = pdfsig.report(both)
    assert first.valid and first.trusted and not first.whole_document
    assert second.valid and second.trusted and second.whole_document
    assert second.fields["Signature Field Name"] == f"{DEFAULT_FIELD_NAME}_2"


def test_a_certification_that_allows_form_filling_takes_the_units_signature(
    contract: bytes,
    issued: IssuedCertificate,
    other_issued: IssuedCertificate,
    chain: list[bytes],
    pki: TestPKI,
    pdfsig: Pdfsig,
) -> None:
    certified = certified_pdf(contract, other_issued, pki, no_changes=False)
    both = remote_sign(certified, issued, chain, stamp=STAMP)
    assert [s.valid and s.trusted for s in pdfsig.report(both)] == [True, True]
