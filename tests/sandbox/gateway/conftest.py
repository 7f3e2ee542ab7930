"""Fixtures for the gateway tests: certificates of one test unit, and running gateways."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bhxh.submission import GatewayClient
from sandbox.audit import AuditLog
from sandbox.gateway import GatewayConfig, create_gateway_app
from sandbox.pki import TestPKI
from sandbox.serve import ServerThread
from tests.sandbox.gateway.gateway_support import (
    API_KEY,
    UNIT,
    Certs,
    Clock,
    Gateway,
    registered_unit,
)


@pytest.fixture(scope="session")
def certs(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Certs:
    tax, name = UNIT.tax_code, UNIT.name
    rogue_pki = TestPKI.load_or_create(tmp_path_factory.mktemp("rogue-pki"))
    return Certs(
        token=pki.issue("gw-unit-token", tax_code=tax, unit_name=name, ca="token"),
        remote=pki.issue("gw-unit-misa", tax_code=tax, unit_name=name, ca="misa"),
        revoked=pki.issue(
            "gw-unit-revoked", tax_code=tax, unit_name=name, ca="misa", variant="revoked"
        ),
        expired=pki.issue(
            "gw-unit-expired", tax_code=tax, unit_name=name, ca="misa", variant="expired"
        ),
        other_mst=pki.issue("gw-other-mst", tax_code="0109000999", unit_name=name, ca="misa"),
        vnpt=pki.issue("gw-unit-vnpt", tax_code=tax, unit_name=name, ca="vnpt"),
        rogue=rogue_pki.issue("gw-unit-rogue", tax_code=tax, unit_name=name, ca="misa"),
    )


@pytest.fixture
async def start_gateway(
    pki: TestPKI, certs: Certs, tmp_path: Path
) -> AsyncIterator[Callable[..., Gateway]]:
    """Start gateways on loopback; default: the unit registered with its token certificate."""
    running: list[tuple[ServerThread, GatewayClient]] = []

    def start(*, client_attempts: int = 4, **overrides: Any) -> Gateway:
        settings: dict[str, Any] = {"api_keys": [API_KEY], "units": [registered_unit(certs.token)]}
        settings.update(overrides)
        config = GatewayConfig.model_validate(settings)
        audit = AuditLog(tmp_path / f"audit-{len(running)}.jsonl")
        clock = Clock()
        app = create_gateway_app(config, pki, audit, clock=clock)
        server = ServerThread(app).start()
        client = GatewayClient(server.url, API_KEY, attempts=client_attempts, backoff=0.01)
        running.append((server, client))
        return Gateway(server.url, app.state.gateway, audit, client, clock)

    yield start
    for server, client in running:
        await client.aclose()
        server.stop()
