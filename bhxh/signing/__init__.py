"""Signatures in two phases for a remote key.

XMLDSig (``xmldsig``): template -> SignedInfo digest -> fill the SignatureValue -> verify.
PDF attachments (``pdf``): prepare -> digest -> finish with the remote signature.
Imports the base layer and the catalogue.
"""

from __future__ import annotations

from bhxh.signing._asn1 import pyhanko_ready
from bhxh.signing.pdf import (
    DEFAULT_FIELD_NAME,
    STATE_FORMAT,
    PreparedPdf,
    SubFilter,
    finish_pdf_signature,
    prepare_pdf_signature,
)
from bhxh.signing.pdf_checks import (
    AttachmentAction,
    attachment_policy,
    check_pdf,
)
from bhxh.signing.pdf_stamp import (
    DEFAULT_STAMP_TEMPLATE,
    StampSpec,
    stamp_font,
    vietnamese_font,
)
from bhxh.signing.xmldsig import (
    C14N10,
    DIGEST_SHA256,
    DSIG_NS,
    ENVELOPED,
    PROFILES,
    RSA_SHA256,
    SIGNATURE_ID,
    SIGNATURE_PROFILE,
    SIGNATURE_SLOTS,
    SIGNING_TIME_NS,
    PreparedSignature,
    SignatureProfile,
    VerifiedSignature,
    apply_signature,
    get_profile,
    parse_document,
    prepare_signature,
    signed_info_digest,
    verify_signature,
)

__all__ = [
    "C14N10",
    "DEFAULT_FIELD_NAME",
    "DEFAULT_STAMP_TEMPLATE",
    "DIGEST_SHA256",
    "DSIG_NS",
    "ENVELOPED",
    "PROFILES",
    "RSA_SHA256",
    "SIGNATURE_ID",
    "SIGNATURE_PROFILE",
    "SIGNATURE_SLOTS",
    "SIGNING_TIME_NS",
    "STATE_FORMAT",
    "AttachmentAction",
    "PreparedPdf",
    "PreparedSignature",
    "SignatureProfile",
    "StampSpec",
    "SubFilter",
    "VerifiedSignature",
    "apply_signature",
    "attachment_policy",
    "check_pdf",
    "finish_pdf_signature",
    "get_profile",
    "parse_document",
    "prepare_pdf_signature",
    "prepare_signature",
    "pyhanko_ready",
    "signed_info_digest",
    "stamp_font",
    "verify_signature",
    "vietnamese_font",
]
