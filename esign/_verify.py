"""Check returned signatures before anyone uses them."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from esign.errors import InvalidResponse, SignatureMismatch
from esign.models import Certificate, SignItem

__all__ = ["verify_signatures"]


def verify_signatures(
    provider: str,
    certificate: Certificate,
    items: Sequence[SignItem],
    returned: Sequence[tuple[str, bytes]],
) -> dict[str, bytes]:
    """Map returned ``(document id, signature)`` pairs by document id, in request order.

    Each signature must be RSA PKCS#1 v1.5 over the item's SHA-256 digest with the
    certificate's key.

    Raises:
        InvalidResponse: a document is missing, unknown or returned twice.
        SignatureMismatch: a signature does not verify (names the document).
    """
    by_id: dict[str, bytes] = {}
    wanted = {item.document_id for item in items}
    for doc_id, sig in returned:
        if doc_id not in wanted:
            raise InvalidResponse(f"{provider}: signature for unknown document {doc_id!r}")
        if doc_id in by_id:
            raise InvalidResponse(f"{provider}: two signatures for document {doc_id!r}")
        by_id[doc_id] = sig
    key = x509.load_der_x509_certificate(certificate.der).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidResponse(f"{provider}: certificate {certificate.serial} has no RSA key")
    result: dict[str, bytes] = {}
    for item in items:
        found = by_id.get(item.document_id)
        if found is None:
            raise InvalidResponse(f"{provider}: no signature for document {item.document_id!r}")
        try:
            key.verify(found, item.digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        except InvalidSignature:
            raise SignatureMismatch(item.document_id) from None
        result[item.document_id] = found
    return result
