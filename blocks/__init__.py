"""Prefect blocks: provider credentials, the unit profile, gateway settings, carriers.

``providers``: the provider registry and ``SigningCredentials``, the interface every
provider's credentials block implements; ``credentials``: the blocks (MISA eSign, VNPT
SmartCA, Viettel MySign, the gateway); ``carriers``: the carrier registry (a unit's
``route`` -> the block it reads -> its submission port); ``export``: the export carrier's
file-system sink; ``unit``: ``BhxhUnit``; ``SchemaOnce``, mixed in by every block (its JSON
schema built once, not once per field of every save). May import Prefect, ``esign`` and ``bhxh``.
Registered through the ``prefect.collections`` entry point (``prefect block register -m
blocks``).
"""

from blocks._schema import SchemaOnce
from blocks.carriers import carrier_names, get_carrier
from blocks.credentials import (
    BhxhGatewayCredentials,
    CA2RemoteSigningCredentials,
    MisaESignCredentials,
    ViettelMySignCredentials,
    VnptSmartCACredentials,
)
from blocks.providers import SigningCredentials, credentials_type, provider_names
from blocks.unit import BhxhUnit

__all__ = [
    "BhxhGatewayCredentials",
    "BhxhUnit",
    "CA2RemoteSigningCredentials",
    "MisaESignCredentials",
    "SchemaOnce",
    "SigningCredentials",
    "ViettelMySignCredentials",
    "VnptSmartCACredentials",
    "carrier_names",
    "credentials_type",
    "get_carrier",
    "provider_names",
]
