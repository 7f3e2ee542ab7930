"""Remote-signing clients (MISA eSign RemoteSigning V2, VNPT SmartCA sp769, Viettel MySign,
CA2 RemoteSigning).

Plain Python over async httpx. May import: the standard library, httpx, cryptography,
pydantic. Never imports Prefect, ``bhxh`` or ``sandbox``.
"""

from esign._http import RetryPolicy
from esign.base import FindsRequests, OtpCallback, RemoteSigningClient
from esign.ca2 import Ca2RemoteSigningClient
from esign.errors import (
    AuthenticationFailed,
    CertificateNotFound,
    ESignError,
    InvalidResponse,
    ProviderError,
    SignatureMismatch,
    SigningBlocked,
    TransportError,
    TwoFactorFailed,
    TwoFactorRequired,
)
from esign.misa import MISA_FAILED_CODES, MisaESignClient
from esign.models import Certificate, SignItem, Transaction, TxStatus, certificate_from_der
from esign.mysign import ViettelMySignClient
from esign.vnpt import VnptSmartCAClient

__all__ = [
    "MISA_FAILED_CODES",
    "AuthenticationFailed",
    "Ca2RemoteSigningClient",
    "Certificate",
    "CertificateNotFound",
    "ESignError",
    "FindsRequests",
    "InvalidResponse",
    "MisaESignClient",
    "OtpCallback",
    "ProviderError",
    "RemoteSigningClient",
    "RetryPolicy",
    "SignItem",
    "SignatureMismatch",
    "SigningBlocked",
    "Transaction",
    "TransportError",
    "TwoFactorFailed",
    "TwoFactorRequired",
    "TxStatus",
    "ViettelMySignClient",
    "VnptSmartCAClient",
    "certificate_from_der",
]
