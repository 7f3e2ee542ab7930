"""PDF attachments signed with the unit's remote key (PAdES family), in two phases.

A dossier's supporting documents (chứng từ kèm theo, form code ``CT-DK``) are PDF files
that the unit signs in the same approval as its declarations (round 1), as the I-VAN
software does, before they are embedded in ``BHXHDienTu.xml``. The key stays at the
provider, so signing has two phases, exactly like the XML side:

```python
prepared = prepare_pdf_signature(pdf, cert_der, chain_der, signing_time=now, stamp=stamp)
journal(prepared.to_state(), prepared.pdf)  # JSON-able state + the prepared PDF bytes
value = provider_signs(prepared.digest)  # RSA PKCS#1 v1.5 over SHA-256(signed attributes)
signed = finish_pdf_signature(prepared, value, cert_der)  # checked, then embedded
```

Phase one writes the signature dictionary (and the visible stamp) as an incremental
update with a reserved ``/Contents`` region, computes the SHA-256 of the byte range
(the whole file but that region), builds the CMS signed attributes and returns their
SHA-256: the digest the provider signs. Phase two checks the returned value against the
certificate, wraps it in a CMS ``SignedData`` (signer certificate and chain, the signed
attributes unchanged) and writes it into the reserved region. Nothing else in the file
changes between the phases, so the state journalled after phase one is enough to finish
in another process after a crash, without asking the phone again.

**SubFilter.** The default is ``adbe.pkcs7.detached``: it is what the I-VAN's remote
signing service puts in the PDFs VSS already accepts (its public test dossier), and it
lets the signing time travel as a *signed* attribute, which the issue asks for. The CMS
carries what CAdES baseline B-B requires besides (content-type, message-digest,
signing-certificate-v2, signing-time), so the signature is PAdES Part 2 ("PAdES Basic",
ETSI TS 102 778-2, built on ISO 32000-1) with a CAdES-B-B signer info. Strict PAdES
baseline B-B (ETSI EN 319 142-1) requires SubFilter ``ETSI.CAdES.detached`` and
*forbids* the signing-time attribute (the time goes in the dictionary's ``/M``); pass
``subfilter="ETSI.CAdES.detached"`` to get exactly that. Both verify with poppler's
``pdfsig``; the gateway's checker accepts both.

**Policies** (each refusal happens before any approval, as :class:`AttachmentInvalid`):

* not a PDF (no ``%PDF-`` header), truncated (no ``%%EOF`` / ``startxref`` at the end),
  encrypted (a password or certificate protects it: it cannot be signed without it), or
  too large (``BHXH_MAX_PDF_BYTES``, 10 MiB by default): refused;
* a broken cross-reference table: refused, never repaired. pyHanko's ``strict=False``
  would rebuild it by guessing where objects start; a viewer guessing differently would
  show a different document from the one the unit signed, and the incremental update we
  append would point into a table nobody can trust. Saving the file again from the
  software that made it (or "print to PDF") repairs it honestly;
* already signed (a hospital's discharge paper, an earlier approval): signed again as an
  incremental update, so the earlier signature stays valid and the unit's signature,
  covering the whole file, comes last. A certification signature that forbids any change
  (DocMDP P=1) cannot be kept valid: refused;
* other attachment types: see :func:`attachment_policy` (images and Office files are
  embedded as they are, covered by the envelope's signature; anything else is refused).

**The stamp** (optional, :class:`StampSpec`) is drawn bottom left on page 1, where the
I-VAN puts it, with an embedded subset of DejaVu Sans (Debian ``fonts-dejavu-core``,
``BHXH_STAMP_FONT``), so the Vietnamese diacritics render in every viewer.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import hashlib
import hmac
import io
import json
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from asn1crypto import algos, cms  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bhxh.errors import SignatureInvalid
from bhxh.settings import get_settings
from bhxh.signing._asn1 import pyhanko_ready
from bhxh.signing.pdf_checks import (
    _READ_ERRORS_BASE,
    _ctx,
    _damaged,
    _refuse,
    _short,
    check_pdf,
)
from bhxh.signing.pdf_stamp import (
    StampSpec,
    _stamp_box,
    _stamp_style,
    stamp_font,
)

__all__ = [
    "DEFAULT_FIELD_NAME",
    "STATE_FORMAT",
    "PreparedPdf",
    "SubFilter",
    "finish_pdf_signature",
    "prepare_pdf_signature",
]

SubFilter = Literal["adbe.pkcs7.detached", "ETSI.CAdES.detached"]

#: Version tag of :meth:`PreparedPdf.to_state`; a journal with another tag is refused.
STATE_FORMAT = "bhxh-pdf-signature/1"
DEFAULT_FIELD_NAME = "ChuKyDonVi"  # "the unit's signature"
_T = TypeVar("_T")


# ===================================================================== prepared state
@dataclass(frozen=True)
class PreparedPdf:
    """Phase one's result: the PDF with its reserved signature region and what phase two
    needs. ``digest`` is what the provider signs.

    ``to_state()`` is JSON-able and small (no PDF bytes: journal ``pdf`` as a file beside
    it); ``from_state(state, pdf)`` restores it, checking the PDF is the same one.
    ``to_bytes()`` / ``from_bytes()`` hold both in one blob.
    """

    pdf: bytes
    byte_range: tuple[int, int, int, int]
    signed_attributes: bytes  # DER, as a SET OF (what the signature value covers)
    digest: bytes  # SHA-256 of signed_attributes: what the provider signs
    document_digest: bytes  # SHA-256 over byte_range: the messageDigest attribute
    certificate_der: bytes
    chain_der: tuple[bytes, ...]
    signing_time: dt.datetime
    field_name: str
    subfilter: SubFilter

    @property
    def reserved_region(self) -> tuple[int, int]:
        """[start, end) of ``/Contents <...>`` in :attr:`pdf` (both angle brackets)."""
        return self.byte_range[1], self.byte_range[2]

    def to_state(self) -> dict[str, Any]:
        """The journal entry (JSON-able; the PDF itself is referenced by its SHA-256)."""
        return {
            "format": STATE_FORMAT,
            "pdf_sha256": hashlib.sha256(self.pdf).hexdigest(),
            "pdf_length": len(self.pdf),
            "byte_range": list(self.byte_range),
            "signed_attributes": _b64(self.signed_attributes),
            "digest": _b64(self.digest),
            "document_digest": _b64(self.document_digest),
            "certificate": _b64(self.certificate_der),
            "chain": [_b64(der) for der in self.chain_der],
            "signing_time": self.signing_time.isoformat(),
            "field_name": self.field_name,
            "subfilter": self.subfilter,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], pdf: bytes) -> PreparedPdf:
        """Restore phase one's result from :meth:`to_state` and the journalled PDF.

        Raises:
            SignatureInvalid: another format, or ``pdf`` is not the prepared PDF.
        """
        if state.get("format") != STATE_FORMAT:
            raise SignatureInvalid(
                f"prepared PDF signature: unknown journal format {state.get('format')!r}"
            )
        if len(pdf) != state["pdf_length"] or not hmac.compare_digest(
            hashlib.sha256(pdf).hexdigest(), str(state["pdf_sha256"])
        ):
            raise SignatureInvalid(
                "prepared PDF signature: the journalled PDF is not the one prepared "
                "(its SHA-256 differs); prepare it again"
            )
        subfilter = state["subfilter"]
        if subfilter not in ("adbe.pkcs7.detached", "ETSI.CAdES.detached"):
            raise SignatureInvalid(f"prepared PDF signature: unknown SubFilter {subfilter!r}")
        a, b, c, d = (int(x) for x in state["byte_range"])
        return cls(
            pdf=pdf,
            byte_range=(a, b, c, d),
            signed_attributes=_unb64(state["signed_attributes"]),
            digest=_unb64(state["digest"]),
            document_digest=_unb64(state["document_digest"]),
            certificate_der=_unb64(state["certificate"]),
            chain_der=tuple(_unb64(x) for x in state["chain"]),
            signing_time=dt.datetime.fromisoformat(state["signing_time"]),
            field_name=str(state["field_name"]),
            subfilter=cast(SubFilter, subfilter),
        )

    def to_bytes(self) -> bytes:
        """One self-contained blob (JSON, the PDF in base64)."""
        return json.dumps({**self.to_state(), "pdf": _b64(self.pdf)}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> PreparedPdf:
        state = json.loads(data)
        return cls.from_state(state, _unb64(state.pop("pdf")))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


# ==================================================================== the two phases
def prepare_pdf_signature(
    pdf: bytes,
    certificate_der: bytes,
    chain_der: Sequence[bytes],
    *,
    signing_time: dt.datetime,
    stamp: StampSpec | None,
    field_name: str = DEFAULT_FIELD_NAME,
    subfilter: SubFilter = "adbe.pkcs7.detached",
    limit: int | None = None,
    unit: str = "",
    dossier: str = "",
    filename: str = "",
) -> PreparedPdf:
    """Phase one: reserve the signature in an incremental update, return what to sign.

    Args:
        pdf: the attachment as the unit gave it.
        certificate_der: the unit's signing certificate (RSA).
        chain_der: the certificates above it (intermediate(s), root), embedded in the CMS.
        signing_time: timezone-aware; the signed signing-time attribute (adbe) and the
            dictionary's ``/M``, and the time the stamp shows.
        stamp: the visible stamp, or None for an invisible signature.
        field_name: the signature field's name (made unique if the PDF has it already).
        subfilter: ``adbe.pkcs7.detached`` (default, as the I-VAN) or
            ``ETSI.CAdES.detached`` (PAdES baseline B-B, no signing-time attribute).
        limit: largest PDF accepted (``BHXH_MAX_PDF_BYTES`` by default).
        unit, dossier, filename: named in refusals.

    Raises:
        AttachmentInvalid: the PDF is refused (see :func:`check_pdf`).
        StampFontMissing: a stamp is asked for and its font is not installed.
        ValueError: a naive ``signing_time`` or a certificate that is not RSA.
    """
    if signing_time.tzinfo is None or signing_time.utcoffset() is None:
        raise ValueError("signing_time must be timezone-aware")
    signing_time = signing_time.astimezone(dt.UTC).replace(microsecond=0)
    ctx = _ctx(unit, dossier, filename)
    check_pdf(pdf, limit=get_settings().max_pdf_bytes if limit is None else limit, **ctx)
    public_key = x509.load_der_x509_certificate(certificate_der).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("the signing certificate must hold an RSA key (PKCS#1 v1.5)")
    font = stamp_font() if stamp is not None else None
    return _run(
        _prepare(
            pdf,
            certificate_der,
            tuple(chain_der),
            signing_time,
            stamp,
            font,
            field_name,
            subfilter,
            public_key.key_size,
            ctx,
        )
    )


async def _prepare(
    pdf: bytes,
    certificate_der: bytes,
    chain_der: tuple[bytes, ...],
    signing_time: dt.datetime,
    stamp: StampSpec | None,
    font: Path | None,
    field_name: str,
    subfilter: SubFilter,
    key_bits: int,
    ctx: dict[str, str],
) -> PreparedPdf:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    read_errors: tuple[type[BaseException], ...] = (PdfError, *_READ_ERRORS_BASE)

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
    name = _unique_field_name(writer.prev, field_name)
    lines = stamp.text(signing_time) if stamp is not None else ""
    spec = fields.SigFieldSpec(
        sig_field_name=name,
        on_page=0,
        box=_stamp_box(writer.prev, lines) if stamp is not None else None,
    )
    signer = _external_signer(certificate_der, chain_der, bytes(key_bits // 8))
    pades = subfilter == "ETSI.CAdES.detached"
    meta = signers.PdfSignatureMetadata(
        field_name=name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES
        if pades
        else fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
        location=stamp.place if stamp is not None else None,
        name=stamp.signer if stamp is not None else None,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        stamp_style=_stamp_style(lines, font) if stamp is not None and font else None,
        new_field_spec=spec,
    )
    try:
        session = pdf_signer.init_signing_session(writer)
        # The dictionary's /M, the stamp and the signed attribute tell the same time.
        session.system_time = signing_time
        validation = await session.perform_presign_validation(writer)
        reserved = await session.estimate_signature_container_size(validation, tight=False)
        tbs = session.prepare_tbs_document(validation, bytes_reserved=reserved)
        prepared_digest, output = tbs.digest_tbs_document(output=io.BytesIO())
        signed_attrs = await signer.signed_attrs(
            prepared_digest.document_digest,
            "sha256",
            attr_settings=PdfCMSSignedAttributes(signing_time=signing_time),
            use_pades=pades,
        )
    except SigningError as exc:
        raise _refuse(
            "locked",
            f"không ký thêm được vào tệp PDF này: {_short(exc)}",
            f"this PDF cannot take another signature: {_short(exc)}",
            ctx,
        ) from None
    except read_errors as exc:
        raise _damaged(ctx, _short(exc)) from None
    output.seek(0)
    prepared = output.read()
    start, end = prepared_digest.reserved_region_start, prepared_digest.reserved_region_end
    signed_der = signed_attrs.dump()
    return PreparedPdf(
        pdf=prepared,
        byte_range=(0, start, end, len(prepared) - end),
        signed_attributes=signed_der,
        digest=hashlib.sha256(signed_der).digest(),
        document_digest=prepared_digest.document_digest,
        certificate_der=certificate_der,
        chain_der=chain_der,
        signing_time=signing_time,
        field_name=name,
        subfilter=subfilter,
    )


def finish_pdf_signature(
    prepared: PreparedPdf, signature_value: bytes, certificate_der: bytes
) -> bytes:
    """Phase two: check the provider's value, embed the CMS, return the signed PDF.

    ``signature_value`` is the raw RSA PKCS#1 v1.5 signature the provider returned for
    :attr:`PreparedPdf.digest`. Deterministic: the same inputs give the same bytes.

    Raises:
        SignatureInvalid: another certificate than the prepared one, a value that does not
            verify with the certificate's key, or a prepared PDF whose byte range no longer
            has the digest that was signed.
    """
    if not hmac.compare_digest(certificate_der, prepared.certificate_der):
        raise SignatureInvalid(
            "PDF signature: the certificate is not the one the PDF was prepared for"
        )
    public_key = x509.load_der_x509_certificate(certificate_der).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    try:
        public_key.verify(
            signature_value, prepared.signed_attributes, padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        raise SignatureInvalid(
            "PDF signature: the value returned by the provider does not verify with the "
            "certificate's public key (wrong key or wrong digest)"
        ) from None
    pdf = prepared.pdf
    a, b, c, d = prepared.byte_range
    covered = hashlib.sha256()
    covered.update(pdf[a : a + b])
    covered.update(pdf[c : c + d])
    if not hmac.compare_digest(covered.digest(), prepared.document_digest):
        raise SignatureInvalid("PDF signature: the prepared PDF changed after phase one")
    return _run(_finish(prepared, signature_value))


async def _finish(prepared: PreparedPdf, signature_value: bytes) -> bytes:
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko.sign.signers.pdf_signer import PdfTBSDocument

    signer = _external_signer(prepared.certificate_der, prepared.chain_der, signature_value)
    signed_attrs = cms.CMSAttributes.load(prepared.signed_attributes)
    container = await signer.async_sign_prescribed_attributes("sha256", signed_attrs)
    output = io.BytesIO(prepared.pdf)
    start, end = prepared.reserved_region
    await PdfTBSDocument.async_finish_signing(
        output,
        PreparedByteRangeDigest(
            document_digest=prepared.document_digest,
            reserved_region_start=start,
            reserved_region_end=end,
        ),
        container,
    )
    return output.getvalue()


def _external_signer(certificate_der: bytes, chain_der: Sequence[bytes], value: bytes) -> Any:
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert = asn1_x509.Certificate.load(certificate_der)
    chain = [asn1_x509.Certificate.load(der) for der in chain_der]
    return signers.ExternalSigner(
        signing_cert=cert,
        cert_registry=cast(Any, SimpleCertificateStore).from_certs([cert, *chain]),
        signature_value=value,
        signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
    )


def _unique_field_name(reader: Any, wanted: str) -> str:
    from pyhanko.sign.fields import enumerate_sig_fields

    taken = {name for name, _, _ in enumerate_sig_fields(reader, filled_status=None)}
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}_{n}" in taken:
        n += 1
    return f"{wanted}_{n}"


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run pyHanko's coroutine from sync code, also when this thread has a running loop."""
    pyhanko_ready()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
