"""The test PKI is sound: chains verify, MST is carried, variants are told apart."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID

from sandbox.pki import CA_NAMES, DOCUMENT_SIGNING_EKU, TestPKI, check_certificate, sign_digest


def _check(pki: TestPKI, cert: x509.Certificate, at: dt.datetime | None = None) -> list[str]:
    return check_certificate(
        cert, roots=[pki.root], intermediates=pki.intermediates(), crls=pki.crls(), at=at
    )


def test_root_is_marked_test_and_self_signed(pki: TestPKI) -> None:
    root = pki.root
    assert "TEST" in root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    root.verify_directly_issued_by(root)


def test_one_intermediate_per_provider_chains_to_root(pki: TestPKI) -> None:
    names = {c.subject.rfc4514_string() for c in pki.intermediates()}
    assert any("MISA eSign TEST CA" in n for n in names)
    assert any("VNPT SmartCA TEST CA" in n for n in names)
    assert any("CA2 RemoteSigning TEST CA" in n for n in names)
    for inter in pki.intermediates():
        inter.verify_directly_issued_by(pki.root)
        assert inter.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


@pytest.mark.parametrize("ca", sorted(CA_NAMES))
def test_unit_certificate_chains_and_carries_mst(pki: TestPKI, ca: str) -> None:
    issued = pki.issue(f"found-{ca}", tax_code="0101234567", unit_name="Công ty ACME", ca=ca)
    cert = issued.certificate
    assert _check(pki, cert) == []
    uid = cert.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value
    assert uid == "MST:0101234567"
    assert cert.subject.rfc4514_string().startswith("UID=MST:0101234567,CN=Công ty ACME,")
    assert cert.public_key().key_size == 2048
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(DOCUMENT_SIGNING_EKU) <= set(eku)


def test_openssl_verifies_the_chain_independently(pki: TestPKI) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    issued = pki.issue("found-openssl", tax_code="0101234567", unit_name="ACME")
    out = subprocess.run(
        [
            openssl, "verify", "-crl_check", "-CRLfile", str(pki.crls_pem_path),
            "-CAfile", str(pki.root_pem_path), "-untrusted", str(pki.intermediates_pem_path),
            str(issued.cert_path),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def test_revoked_certificate_is_listed_in_the_crl(pki: TestPKI) -> None:
    revoked = pki.issue("found-revoked", tax_code="0101234567", unit_name="ACME", variant="revoked")
    problems = _check(pki, revoked.certificate)
    assert any("revoked" in p for p in problems)
    openssl = shutil.which("openssl")
    if openssl:
        out = subprocess.run(
            [
                openssl, "verify", "-crl_check", "-CRLfile", str(pki.crls_pem_path),
                "-CAfile", str(pki.root_pem_path), "-untrusted", str(pki.intermediates_pem_path),
                str(revoked.cert_path),
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert out.returncode != 0 and "revoked" in out.stdout + out.stderr


def test_expired_and_not_yet_valid_are_told_apart(pki: TestPKI) -> None:
    expired = pki.issue("found-expired", tax_code="0101234567", unit_name="A", variant="expired")
    future = pki.issue(
        "found-future", tax_code="0101234567", unit_name="A", variant="not_yet_valid"
    )
    assert any("expired" in p for p in _check(pki, expired.certificate))
    assert any("not yet valid" in p for p in _check(pki, future.certificate))
    # At a time inside its validity the expired one was sound: validity is time-dependent.
    at = expired.certificate.not_valid_before_utc + dt.timedelta(days=1)
    assert _check(pki, expired.certificate, at=at) == []


def test_wrong_and_branch_mst_are_visible(pki: TestPKI) -> None:
    other = pki.issue("found-other-mst", tax_code="0309999999", unit_name="Other")
    branch = pki.issue("found-branch", tax_code="0101234567-001", unit_name="ACME chi nhánh")
    assert other.mst == "0309999999" and _check(pki, other.certificate) == []
    assert branch.mst == "0101234567-001"
    assert branch.mst != "0101234567"


def test_untrusted_issuer_is_refused(tmp_path: Path, pki: TestPKI) -> None:
    stranger = TestPKI.load_or_create(tmp_path / "other-pki")
    cert = stranger.issue("x", tax_code="0101234567", unit_name="ACME").certificate
    assert _check(pki, cert) != []


def test_pki_is_reused_across_runs(pki_dir: Path, pki: TestPKI) -> None:
    first = pki.issue("found-reuse", tax_code="0101234567", unit_name="ACME")
    again = TestPKI.load_or_create(pki_dir).issue(
        "found-reuse", tax_code="0101234567", unit_name="ACME"
    )
    assert again.serial_hex == first.serial_hex
    assert (
        pki.root_pem_path.read_bytes() == TestPKI.load_or_create(pki_dir).root_pem_path.read_bytes()
    )
    with pytest.raises(ValueError, match="exists with other details"):
        pki.issue("found-reuse", tax_code="0309999999", unit_name="ACME")


def test_sign_digest_is_pkcs1v15_over_the_given_digest(pki: TestPKI) -> None:
    issued = pki.issue("found-sign", tax_code="0101234567", unit_name="ACME")
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"<SignedInfo/>")
    value = sign_digest(issued.private_key, digest.finalize())
    issued.certificate.public_key().verify(  # type: ignore[union-attr]
        value, b"<SignedInfo/>", padding.PKCS1v15(), hashes.SHA256()
    )


def test_private_keys_are_not_world_readable(pki: TestPKI) -> None:
    issued = pki.issue("found-perm", tax_code="0101234567", unit_name="ACME")
    assert issued.key_path.stat().st_mode & 0o077 == 0


def test_a_pki_made_before_a_provider_was_added_gains_its_ca_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    old = TestPKI.load_or_create(tmp_path / "pki")
    issued = old.issue("kept", tax_code="0101234567", unit_name="Công ty Cũ")
    root = old.root.fingerprint(hashes.SHA256())
    for path in (old.dir / "ca" / "ca2.pem", old.dir / "ca" / "ca2.key.pem"):
        path.unlink()  # as a var/pki made before CA2 was a provider
    (old.dir / "crl" / "ca2.crl.pem").unlink()
    pki = TestPKI.load_or_create(tmp_path / "pki")
    assert pki.root.fingerprint(hashes.SHA256()) == root
    assert pki.get("kept").der == issued.der
    assert _check(pki, pki.get("kept").certificate) == []
    fresh = pki.issue("new-ca2", tax_code="0201234568", unit_name="Công ty Mới", ca="ca2")
    assert _check(pki, fresh.certificate) == []
    assert len(pki.intermediates()) == len(CA_NAMES)
