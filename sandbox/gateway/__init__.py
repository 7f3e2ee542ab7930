"""The sandbox submission gateway: plays VSS behind the project's submission contract.

See :mod:`sandbox.gateway.app` for the HTTP contract, :mod:`sandbox.gateway.documents`
for what is checked (:mod:`sandbox.gateway.pdf_check` for signed PDF attachments),
:mod:`sandbox.gateway.trust` for which certificates are believed,
:mod:`sandbox.gateway.core` for state, numbering and lifecycles,
:mod:`sandbox.gateway.notices` for the C12-TS contribution notices, and
:mod:`sandbox.gateway.messages` for every refusal text.
"""

from __future__ import annotations

from sandbox.gateway.app import create_gateway_app
from sandbox.gateway.config import (
    FaultsConfig,
    GatewayConfig,
    LoseResponseConfig,
    OutcomesConfig,
    PaymentConfig,
    TrustConfig,
    UnitConfig,
)
from sandbox.gateway.core import GatewayCore
from sandbox.gateway.messages import Refusal

__all__ = [
    "FaultsConfig",
    "GatewayConfig",
    "GatewayCore",
    "LoseResponseConfig",
    "OutcomesConfig",
    "PaymentConfig",
    "Refusal",
    "TrustConfig",
    "UnitConfig",
    "create_gateway_app",
]
