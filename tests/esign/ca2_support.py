"""Helpers shared by the CA2 client and sandbox tests: a CA2 integrator and signer."""

from __future__ import annotations

from typing import Any

from tests.esign.esign_support import base_config

__all__ = ["CA2_CLIENT", "GAMMA_TAX", "ca2_config"]

GAMMA_TAX = "0201234568"
CA2_CLIENT = {"sp_id": "ca2-sp-test", "sp_password": "ca2-sp-secret"}


def ca2_config() -> dict[str, Any]:
    """base_config with a CA2 integrator and a CA2 signer (two certificates, one paused)."""
    config = base_config()
    certs = [
        {"pki_name": "esign-gamma-ca2", "tax_code": GAMMA_TAX, "unit_name": "Công ty Gamma"},
        {
            "pki_name": "esign-gamma-ca2-paused",
            "tax_code": GAMMA_TAX,
            "unit_name": "Công ty Gamma",
            "key_status": "INACTIVE",
        },
    ]
    account = {
        "user_id": GAMMA_TAX,
        "provider": "ca2",
        "certificates": [{**c, "ca": "ca2"} for c in certs],
    }
    return {
        "clients": {**config["clients"], "ca2": [CA2_CLIENT]},
        "accounts": [*config["accounts"], account],
    }
