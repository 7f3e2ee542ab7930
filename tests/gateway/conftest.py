"""Fixtures for the gateway tests: certificates of one test unit, and running gateways."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gateway_support import UNIT

from bhxh.gateway import GatewayClient
from sandbox.audit import AuditLog
from sandbox.gateway import GatewayConfig, GatewayCore, UnitConfig, create_gateway_app
from sandbox.pki import IssuedCertificate, TestPKI
from sandbox.serve import ServerThread

API_KEY = "gw-test-key-0123456789"


@dataclass
class Certs:
    token: IssuedCertificate  # the unit's registered USB-token certificate
    remote: IssuedCertificate  # its new remote-signing certificate
    revoked: IssuedCertificate
    expired: IssuedCertificate
    other_mst: IssuedCertificate
    vnpt: IssuedCertificate
    rogue: IssuedCertificate  # same names, issued by another (untrusted) PKI


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


class Clock:
    """A clock the test moves by hand (no sleeping, no timing assertions)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclass
class Gateway:
    url: str
    core: GatewayCore
    audit: AuditLog
    client: GatewayClient
    clock: Clock
    extra: list[Any] = field(default_factory=list)

    def events(self, event: str, **match: Any) -> list[dict[str, Any]]:
        return [
            r
            for r in self.audit.read()
            if r["service"] == "gateway"
            and r["event"] == event
            and all(r.get(k) == v for k, v in match.items())
        ]

    def submitted(self, dossier_id: str) -> int:
        return len(self.events("submitted", dossier_id=dossier_id))


def registered_unit(cert: IssuedCertificate) -> UnitConfig:
    return UnitConfig(
        unit_code=UNIT.code,
        tax_code=UNIT.tax_code,
        name=UNIT.name,
        agency_code=UNIT.agency_code,
        certificate=cert.name,
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
