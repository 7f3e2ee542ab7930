"""The provider sandbox (MISA eSign, VNPT SmartCA, Viettel MySign, CA2 RemoteSigning, a
virtual phone): the face.

Code outside this package imports from here only, never from its modules. Inside, the
arrows go one way: :mod:`~sandbox.provider.app` assembles the routes of
:mod:`~sandbox.provider.misa`, :mod:`~sandbox.provider.vnpt`,
:mod:`~sandbox.provider.mysign`, :mod:`~sandbox.provider.ca2` and
:mod:`~sandbox.provider.phone`; the wires share :mod:`~sandbox.provider.common`; all of
them work on :mod:`~sandbox.provider.state`, built from :mod:`~sandbox.provider.config`.
The modules import each other, never this face.
"""

from __future__ import annotations

from sandbox.provider.app import create_provider_app
from sandbox.provider.config import (
    AccountConfig,
    Ca2ClientConfig,
    CertificateSpec,
    ClientsConfig,
    FaultsConfig,
    MisaClientConfig,
    MySignClientConfig,
    PhonePolicy,
    ProviderConfig,
    VnptClientConfig,
)
from sandbox.provider.phone import ALLOWED_TAGS, phone_routes, sanitize_html
from sandbox.provider.state import ProviderState

__all__ = [
    "ALLOWED_TAGS",
    "AccountConfig",
    "Ca2ClientConfig",
    "CertificateSpec",
    "ClientsConfig",
    "FaultsConfig",
    "MisaClientConfig",
    "MySignClientConfig",
    "PhonePolicy",
    "ProviderConfig",
    "ProviderState",
    "VnptClientConfig",
    "create_provider_app",
    "phone_routes",
    "sanitize_html",
]
