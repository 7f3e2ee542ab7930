"""Which signatures the gateway believes: its trust anchors (the test PKI's root and the
chosen intermediates, CRLs read fresh) and the one judgement of a signer's certificate
(chain, validity at receipt, revocation, the ``UID=MST:`` of the unit). Both the XML
checks (:mod:`sandbox.gateway.documents`) and the PDF check
(:mod:`sandbox.gateway.pdf_check`) end here.

Validity is judged at receipt, on the gateway's clock, never at the signing time the
document claims. The XML profile's ``SigningTime`` sits in an ``Object`` that the one
``Reference URI=""`` with its enveloped transform leaves out (the verifier accepts no
other reference), so anyone can write any time there after signing; a PDF's CMS
``signingTime`` is signed, but by whoever holds the key, so the holder of an expired
certificate's key can backdate it as well. Only a time-stamp from a trusted authority
would prove when a signature was made, and neither profile carries one. The claimed time
is still checked for plausibility (not older than ``max_signing_age_days``, not ahead of
the clock by more than five minutes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509

from sandbox import pki as test_pki
from sandbox.gateway import messages as m
from sandbox.gateway.config import TrustConfig

__all__ = ["Signer", "Trust"]

#: A SigningTime may run this far ahead of the gateway's clock.
_CLOCK_SKEW = dt.timedelta(minutes=5)
_VN = dt.timezone(dt.timedelta(hours=7))  # Vietnam: UTC+7, no daylight saving


@dataclass(frozen=True)
class Signer:
    """One verified signature: the document, its certificate, the time it was judged at
    (the receipt)."""

    document: str
    certificate: x509.Certificate
    at: dt.datetime


class Trust:
    """The trust anchors: the test PKI's root and chosen intermediates, CRLs read fresh."""

    def __init__(self, pki: test_pki.TestPKI, config: TrustConfig) -> None:
        self._pki = pki
        self._config = config

    @property
    def config(self) -> TrustConfig:
        return self._config

    def problems(self, cert: x509.Certificate, at: dt.datetime) -> list[str]:
        names = self._config.intermediates
        intermediates = (
            self._pki.intermediates()
            if names is None
            else [self._pki.ca_certificate(name) for name in names]
        )
        crls = self._pki.crls() if self._config.check_revocation else []
        return test_pki.check_certificate(
            cert, roots=[self._pki.root], intermediates=intermediates, crls=crls, at=at
        )

    def check(
        self,
        document: str,
        cert: x509.Certificate,
        signing_time: dt.datetime | None,
        now: dt.datetime,
        tax_code: str,
    ) -> Signer:
        """Chain, validity at receipt (``now``), revocation, and UID ``MST:`` ==
        ``tax_code``; a claimed ``signing_time`` only within the plausible window."""
        serial = format(cert.serial_number, "X")
        oldest = now - dt.timedelta(days=self._config.max_signing_age_days)
        if signing_time is not None and not (oldest <= signing_time <= now + _CLOCK_SKEW):
            # Times a person reads are Vietnam's, whatever zone the signer wrote.
            raise m.SIGNING_TIME(document=document, at=signing_time.astimezone(_VN).isoformat())
        at = now  # never the claimed time: see the module's docstring
        problems = self.problems(cert, at)
        if any(p.startswith(("expired", "not yet valid")) for p in problems):
            raise m.CERTIFICATE_EXPIRED(
                document=document,
                at=at.astimezone(_VN).isoformat(timespec="seconds"),
                serial=serial,
            )
        if any(p.startswith("revoked") for p in problems):
            raise m.CERTIFICATE_REVOKED(document=document, serial=serial)
        if problems:  # chain or CRL-signature problems
            raise m.CERTIFICATE_UNTRUSTED(document=document, serial=serial)
        mst = test_pki.mst_of(cert)
        if mst != tax_code:
            raise m.CERTIFICATE_MST(
                document=document,
                certificate=f"MST:{mst}" if mst else "không có",
                declared=tax_code,
            )
        return Signer(document=document, certificate=cert, at=at)
