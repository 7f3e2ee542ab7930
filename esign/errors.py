"""Errors of the remote-signing clients: one base, leaves that also inherit the standard
type they resemble. Messages name the provider, the account, the document or the provider
code; they never carry passwords, tokens, client keys or one-time codes.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "CertificateNotFound",
    "ESignError",
    "InvalidResponse",
    "ProviderError",
    "SignatureMismatch",
    "SigningBlocked",
    "TransportError",
    "TwoFactorFailed",
    "TwoFactorRequired",
]


class ESignError(Exception):
    """Base of every error raised by ``esign``."""


class AuthenticationFailed(ESignError, PermissionError):
    """The provider refused the credentials (wrong password, locked account, bad client)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TwoFactorRequired(AuthenticationFailed):
    """The provider asks for a one-time code and no callback was given to supply one."""


class TwoFactorFailed(AuthenticationFailed):
    """The one-time code was refused."""


class CertificateNotFound(ESignError, LookupError):
    """No usable certificate: none listed, none active, or the chosen one is gone."""


class ProviderError(ESignError, RuntimeError):
    """The provider answered with an error code; ``user_message`` is safe to show people."""

    def __init__(self, provider: str, code: str, user_message: str, *, status: int | None = None):
        super().__init__(f"{provider}: provider error {code}: {user_message}")
        self.provider = provider
        self.code = code
        self.user_message = user_message
        self.status = status


class SigningBlocked(ProviderError):
    """The provider refused to sign for a reason a new request cannot fix until a person
    acts (out of signing quota, certificate expired or revoked): the unit stops, with
    ``user_message`` (the provider's sentence for the accountant), instead of asking the
    phone again."""


class TransportError(ESignError, ConnectionError):
    """The provider could not be reached, timed out, or kept answering 429/5xx.

    ``maybe_sent`` is False when the request certainly never reached the provider
    (connection refused, 429), True when it may have been received.
    """

    def __init__(self, message: str, *, maybe_sent: bool = True) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class SignatureMismatch(ESignError, ValueError):
    """A returned signature does not verify against the certificate over the sent digest."""

    def __init__(self, document_id: str, message: str | None = None) -> None:
        super().__init__(
            message
            or f"the signature returned for document {document_id!r} does not verify "
            "against the certificate's public key"
        )
        self.document_id = document_id


class InvalidResponse(ESignError, ValueError):
    """The provider answered something that is not the documented JSON shape (e.g. HTML)."""
