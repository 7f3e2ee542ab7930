"""Prefect blocks: provider credentials, the unit profile, gateway settings.

May import Prefect, ``esign`` and ``bhxh``. Registered through the
``prefect.collections`` entry point (``prefect block register -m blocks``).
"""

from blocks.credentials import BhxhGatewayCredentials, MisaESignCredentials, VnptSmartCACredentials
from blocks.unit import BhxhUnit

__all__ = ["BhxhGatewayCredentials", "BhxhUnit", "MisaESignCredentials", "VnptSmartCACredentials"]
