"""A test PKI made before an intermediate existed gets it on the next load."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from sandbox.pki import CA_NAMES, TestPKI, check_certificate


def test_a_pki_without_the_viettel_ca_gains_it_under_the_same_root(tmp_path: Path) -> None:
    pki = TestPKI.load_or_create(tmp_path / "pki")
    root_before = pki.root_pem_path.read_bytes()
    # as a PKI made before the Viettel-CA test CA joined CA_NAMES
    for path in (pki.dir / "ca" / "mysign.pem", pki.dir / "ca" / "mysign.key.pem"):
        path.unlink()
    again = TestPKI.load_or_create(tmp_path / "pki")
    assert again.root_pem_path.read_bytes() == root_before
    names = [c.subject.rfc4514_string() for c in again.intermediates()]
    assert len(names) == len(CA_NAMES) and any("Viettel-CA" in n for n in names)
    issued = again.issue("upgrade-unit", tax_code="0201234567", unit_name="Hải Đăng", ca="mysign")
    cert = issued.certificate
    assert cert.issuer == again.ca_certificate("mysign").subject
    problems = check_certificate(
        cert, roots=[again.root], intermediates=again.intermediates(), crls=again.crls()
    )
    assert problems == []
    assert (again.dir / "crl" / "mysign.crl.pem").exists()
    assert isinstance(again.crl("mysign"), x509.CertificateRevocationList)
