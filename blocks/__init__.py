"""Prefect blocks: provider credentials, the unit profile, gateway settings.

``providers``: the provider registry and ``SigningCredentials``, the interface every
provider's credentials block implements; ``credentials``: the blocks (MISA eSign, VNPT
SmartCA, the gateway); ``unit``: ``BhxhUnit``. May import Prefect, ``esign`` and ``bhxh``.
Registered through the ``prefect.collections`` entry point (``prefect block register -m
blocks``).
"""

from blocks.credentials import BhxhGatewayCredentials, MisaESignCredentials, VnptSmartCACredentials
from blocks.providers import SigningCredentials, credentials_type, provider_names
from blocks.unit import BhxhUnit

__all__ = [
    "BhxhGatewayCredentials",
    "BhxhUnit",
    "MisaESignCredentials",
    "SigningCredentials",
    "VnptSmartCACredentials",
    "credentials_type",
    "provider_names",
]
