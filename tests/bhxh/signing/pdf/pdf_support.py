"""Shared by the PDF signing tests and the gateway's PDF tests: the independent verifier
(poppler's ``pdfsig`` trusting only the test PKI root through a throwaway NSS database),
the provider played by a test key, and hostile PDFs."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bhxh.signing import (
    StampSpec,
    SubFilter,
    finish_pdf_signature,
    prepare_pdf_signature,
    pyhanko_ready,
)
from sandbox.pki import IssuedCertificate, TestPKI, sign_digest

#: Now (a minute ago): the test certificates are valid from the day they were issued, and
#: pdfsig judges them at the signing time.
SIGNING_TIME = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1)


@dataclass(frozen=True)
class PdfsigSignature:
    """One ``Signature #N`` block of pdfsig's report."""

    fields: dict[str, str]
    whole_document: bool

    @property
    def valid(self) -> bool:
        return self.fields.get("Signature Validation") == "Signature is Valid."

    @property
    def trusted(self) -> bool:
        return self.fields.get("Certificate Validation") == "Certificate is Trusted."


class Pdfsig:
    """``pdfsig -nssdir sql:<tmp> file.pdf``; the NSS database trusts only the test root.

    Without ``-no-ocsp``: poppler 22.12 (Debian 12) then answers "Unknown issue with
    Certificate" for a good chain. The test certificates name no OCSP responder (no AIA
    extension), so nothing is fetched from the network either way.
    """

    def __init__(self, binary: str, nssdir: Path, workdir: Path) -> None:
        self.binary = binary
        self.nssdir = nssdir
        self.workdir = workdir
        self._n = 0

    @classmethod
    def create(cls, pki: TestPKI, folder: Path) -> Pdfsig:
        binary, certutil = shutil.which("pdfsig"), shutil.which("certutil")
        if binary is None or certutil is None:
            pytest.skip("pdfsig / certutil missing (Debian packages poppler-utils, libnss3-tools)")
        nssdir = folder / "nss"
        nssdir.mkdir()
        db = f"sql:{nssdir}"
        subprocess.run([certutil, "-N", "-d", db, "--empty-password"], check=True)
        subprocess.run(
            [
                certutil,
                "-A",
                "-d",
                db,
                "-n",
                "bhxh-test-root",
                "-t",
                "C,C,C",
                "-i",
                str(pki.root_pem_path),
            ],
            check=True,
        )
        return cls(binary, nssdir, folder)

    def report(self, pdf: bytes) -> list[PdfsigSignature]:
        self._n += 1
        path = self.workdir / f"doc{self._n}.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(
            [self.binary, "-nssdir", f"sql:{self.nssdir}", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        blocks = re.split(r"^Signature #\d+:\s*$", done.stdout, flags=re.MULTILINE)[1:]
        signatures = []
        for block in blocks:
            fields: dict[str, str] = {}
            for line in block.splitlines():
                key, sep, value = line.strip().removeprefix("- ").partition(": ")
                if sep:
                    fields[key] = value
            signatures.append(PdfsigSignature(fields, "Total document signed" in block))
        return signatures

    def all_valid(self, pdf: bytes) -> bool:
        """Every signature valid and trusted, and the last one covers the whole file."""
        signatures = self.report(pdf)
        return (
            bool(signatures)
            and all(s.valid and s.trusted for s in signatures)
            and signatures[-1].whole_document
        )


def remote_sign(
    pdf: bytes,
    cert: IssuedCertificate,
    chain: Sequence[bytes],
    *,
    stamp: StampSpec | None = None,
    subfilter: SubFilter = "adbe.pkcs7.detached",
    signing_time: dt.datetime = SIGNING_TIME,
) -> bytes:
    """Both phases, the provider played by the test key (RSA over the digest)."""
    prepared = prepare_pdf_signature(
        pdf, cert.der, chain, signing_time=signing_time, stamp=stamp, subfilter=subfilter
    )
    return finish_pdf_signature(prepared, sign_digest(cert.private_key, prepared.digest), cert.der)


def flip_byte(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def encrypted_pdf() -> bytes:
    """A PDF protected by a user password (AES-256)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    writer = PdfFileWriter()
    empty = writer.add_object(generic.StreamObject(stream_data=b""))
    writer.insert_page(PageObject(contents=empty, media_box=(0, 0, 595, 842)))
    writer.encrypt("owner-secret", "user-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def certified_pdf(pdf: bytes, cert: IssuedCertificate, pki: TestPKI, *, no_changes: bool) -> bytes:
    """``pdf`` certified (DocMDP) by ``cert`` with a local key: P=1 (no change) or P=2."""
    pyhanko_ready()  # pyHanko signs here directly: its names in asn1crypto's tables first
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm

    signer = signers.SimpleSigner.load(
        str(cert.key_path), str(cert.cert_path), ca_chain_files=(str(pki.intermediates_pem_path),)
    )
    assert signer is not None
    meta = signers.PdfSignatureMetadata(
        field_name="ChungThuc",
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES if no_changes else MDPPerm.FILL_FORMS,
        md_algorithm="sha256",
    )
    out = signers.PdfSigner(meta, signer).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)))
    return out.getvalue()
