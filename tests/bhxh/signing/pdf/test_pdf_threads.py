"""asn1crypto's name tables, which pyHanko extends while it is imported (bhxh/signing/_asn1.py).

CI once failed every PDF signature of a test process with "invalid literal for int() with
base 10: 'signing_certificate_v2' while constructing CMSAttributeType": a CMS attribute
name had been looked up (building the table of names) before pyHanko was imported, and
pyHanko's names were never added to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox.pki import IssuedCertificate
from tests.bhxh.signing.pdf.pdf_support import Pdfsig

# A fresh interpreter whose CMSAttributeType name table was built before pyHanko was
# imported (a name looked up first, as a verifier in the same process does), or was left
# half-built (a lookup racing pyHanko's import in another thread). It must sign anyway.
BEFORE = {
    "a name looked up before pyHanko was imported": 'cms.CMSAttributeType("signing_time")',
    "a table left half-built by a racing thread": (
        'cms.CMSAttributeType._reverse_map = {"content_type": "1.2.840.113549.1.9.3"}'
    ),
}
_SIGN = textwrap.dedent(
    """
    import datetime as dt
    import sys
    from pathlib import Path

    from asn1crypto import cms
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    exec(sys.argv[2])

    from bhxh.signing import finish_pdf_signature, prepare_pdf_signature
    from sandbox.pki import sign_digest

    folder = Path(sys.argv[1])
    cert = (folder / "cert.der").read_bytes()
    chain = [p.read_bytes() for p in sorted(folder.glob("chain-*.der"))]
    key = load_pem_private_key((folder / "key.pem").read_bytes(), password=None)
    prepared = prepare_pdf_signature(
        (folder / "in.pdf").read_bytes(), cert, chain,
        signing_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1), stamp=None,
    )
    signed = finish_pdf_signature(prepared, sign_digest(key, prepared.digest), cert)
    (folder / "out.pdf").write_bytes(signed)
    """
)


@pytest.mark.parametrize("before", list(BEFORE))
def test_signing_works_whatever_asn1crypto_looked_up_before_pyhanko_was_imported(
    before: str,
    tmp_path: Path,
    contract: bytes,
    issued: IssuedCertificate,
    chain: list[bytes],
    pdfsig: Pdfsig,
) -> None:
    (tmp_path / "in.pdf").write_bytes(contract)
    (tmp_path / "cert.der").write_bytes(issued.der)
    (tmp_path / "key.pem").write_bytes(issued.key_path.read_bytes())
    for i, der in enumerate(chain):
        (tmp_path / f"chain-{i}.der").write_bytes(der)
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    done = subprocess.run(
        [sys.executable, "-c", _SIGN, str(tmp_path), BEFORE[before]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert pdfsig.all_valid((tmp_path / "out.pdf").read_bytes())
