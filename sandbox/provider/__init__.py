"""The provider sandbox (MISA eSign and VNPT SmartCA with a virtual phone): the package face.

Code outside this package imports from here only, never from its modules.
"""

from __future__ import annotations

from sandbox.provider.app import create_provider_app
from sandbox.provider.config import (
    AccountConfig,
    CertificateSpec,
    ClientsConfig,
    FaultsConfig,
    MisaClientConfig,
    PhonePolicy,
    ProviderConfig,
    VnptClientConfig,
)
from sandbox.provider.phone import ALLOWED_TAGS, phone_routes, sanitize_html
from sandbox.provider.state import ProviderState

__all__ = [
    "ALLOWED_TAGS",
    "AccountConfig",
    "CertificateSpec",
    "ClientsConfig",
    "FaultsConfig",
    "MisaClientConfig",
    "PhonePolicy",
    "ProviderConfig",
    "ProviderState",
    "VnptClientConfig",
    "create_provider_app",
    "phone_routes",
    "sanitize_html",
]
