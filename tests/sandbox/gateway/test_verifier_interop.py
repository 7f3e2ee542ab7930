"""The gateway's verifier agrees with xmlsec1 (libxmlsec1, an independent implementation)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox import xmldsig_check as x
from sandbox.pki import TestPKI
from tests.sandbox.gateway.gateway_support import Certs, envelope

pytestmark = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 not installed")


def xmlsec1_accepts(document: bytes, pki: TestPKI, ca: str, tmp_path: Path) -> bool:
    path = tmp_path / "doc.xml"
    path.write_bytes(document)
    result = subprocess.run(
        [
            "xmlsec1",
            "--verify",
            "--trusted-pem",
            str(pki.root_pem_path),
            "--untrusted-pem",
            str(pki.dir / "ca" / f"{ca}.pem"),
            str(path),
        ],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return result.returncode == 0


def gateway_accepts(document: bytes) -> bool:
    try:
        x.verify_enveloped(x.parse_hardened(document), signature_parent=("Hoso", "CKy_Dvi"))
    except x.SignatureCheckFailed:
        return False
    return True


def test_both_verifiers_accept_a_signed_envelope(
    pki: TestPKI, certs: Certs, tmp_path: Path
) -> None:
    signed = envelope(certs.token)
    assert xmlsec1_accepts(signed, pki, "token", tmp_path)
    assert gateway_accepts(signed)


def test_both_verifiers_refuse_whitespace_added_to_signed_info(
    pki: TestPKI, certs: Certs, tmp_path: Path
) -> None:
    signed = envelope(certs.token).replace(b"<SignedInfo>", b"<SignedInfo>\n  ", 1)
    assert not xmlsec1_accepts(signed, pki, "token", tmp_path)
    assert not gateway_accepts(signed)


def test_both_verifiers_accept_a_comment_added_after_signing(
    pki: TestPKI, certs: Certs, tmp_path: Path
) -> None:
    signed = envelope(certs.token).replace(b"<NoiDung>", b"<NoiDung><!-- note -->", 1)
    assert xmlsec1_accepts(signed, pki, "token", tmp_path)
    assert gateway_accepts(signed)
