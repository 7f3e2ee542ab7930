"""Fixtures for the PDF signing tests: a unit certificate whose key plays the provider,
another unit's, the verifier, and invented contracts."""

from __future__ import annotations

import pytest

from demo.attachments import labour_contract_pdf
from sandbox.pki import IssuedCertificate, TestPKI
from tests.bhxh.signing.pdf.pdf_support import Pdfsig

TAX_CODE = "0109876543"
UNIT_NAME = "Công ty TNHH Hoa Sen Thử Nghiệm"


@pytest.fixture(scope="session")
def issued(pki: TestPKI) -> IssuedCertificate:
    return pki.issue("b2-hoa-sen", tax_code=TAX_CODE, unit_name=UNIT_NAME, ca="misa")


@pytest.fixture(scope="session")
def other_issued(pki: TestPKI) -> IssuedCertificate:
    return pki.issue("b2-other", tax_code="0100000001", unit_name="Công ty Khác", ca="vnpt")


@pytest.fixture(scope="session")
def chain(pki: TestPKI) -> list[bytes]:
    return pki.chain_der("misa")


@pytest.fixture(scope="session")
def pdfsig(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Pdfsig:
    return Pdfsig.create(pki, tmp_path_factory.mktemp("pdfsig"))


@pytest.fixture(scope="session")
def contract() -> bytes:
    """One page, classic cross-reference table."""
    return labour_contract_pdf()


@pytest.fixture(scope="session")
def contract_two_pages() -> bytes:
    """Two pages, PDF 1.5 cross-reference stream."""
    return labour_contract_pdf(pages=2, xref_stream=True)
