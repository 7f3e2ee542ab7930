"""Errors of the dossier domain: one base, leaves that also inherit the standard type
they resemble (``except ValueError`` still works), each naming what a person must fix.
"""

from __future__ import annotations

__all__ = [
    "BhxhError",
    "DossierInvalid",
    "GatewayError",
    "SignatureInvalid",
    "StoreError",
    "UnsafeXml",
]


class BhxhError(Exception):
    """Base of every error raised by ``bhxh``."""


class UnsafeXml(BhxhError, ValueError):
    """XML refused before it is used: DOCTYPE, entities, too large, too deep, malformed."""


class DossierInvalid(BhxhError, ValueError):
    """A dossier does not fit its procedure or its unit; the message names unit, dossier, field."""


class SignatureInvalid(BhxhError, ValueError):
    """A signature does not verify or does not follow the BHXH profile."""


class StoreError(BhxhError, OSError):
    """The dossier store cannot read or write a record."""


class GatewayError(BhxhError):
    """The submission gateway refused a request or could not be reached."""
