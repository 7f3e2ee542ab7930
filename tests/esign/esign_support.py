"""Helpers shared by the esign and sandbox provider tests: config, a running sandbox."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from esign import RetryPolicy, SignItem, Transaction
from sandbox.audit import AuditLog
from sandbox.pki import TestPKI
from sandbox.provider import ProviderConfig, create_provider_app
from sandbox.serve import ServerThread

CONTROL = "test-control-token-0123456789"
MISA_CLIENT = {"client_id": "cid-test", "client_key": "ckey-test-secret"}
VNPT_CLIENT = {"sp_id": "sp-test", "sp_password": "sp-test-secret"}
FAST = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05)
ACME_TAX = "0101234567"
BETA_TAX = "0109876543"


def base_config(**overrides: Any) -> dict[str, Any]:
    """A provider config (as data) with a MISA account, a 2FA account and a VNPT signer."""
    acme_certs = [
        {
            "pki_name": "esign-acme",
            "alias": "ACME-2025",
            "tax_code": ACME_TAX,
            "unit_name": "Công ty TNHH ACME",
        },
        {
            "pki_name": "esign-acme-old",
            "alias": "ACME-2022",
            "tax_code": ACME_TAX,
            "unit_name": "Công ty TNHH ACME",
            "variant": "expired",
        },
        {
            "pki_name": "esign-acme-paused",
            "alias": "ACME-PAUSED",
            "tax_code": ACME_TAX,
            "unit_name": "Công ty TNHH ACME",
            "key_status": "INACTIVE",
        },
    ]
    config: dict[str, Any] = {
        "clients": {"misa": [MISA_CLIENT], "vnpt": [VNPT_CLIENT]},
        "accounts": [
            {"username": "acme", "password": "pw-acme", "certificates": acme_certs},
            {
                "username": "acme2fa",
                "password": "pw-2fa",
                "two_factor_code": "246810",
                "certificates": acme_certs[:1],
            },
            {
                "user_id": BETA_TAX,
                "provider": "vnpt",
                "certificates": [
                    {
                        "pki_name": "esign-beta-vnpt",
                        "tax_code": BETA_TAX,
                        "unit_name": "Công ty CP Beta",
                        "ca": "vnpt",
                    },
                    {
                        "pki_name": "esign-beta-vnpt-paused",
                        "tax_code": BETA_TAX,
                        "unit_name": "Công ty CP Beta",
                        "ca": "vnpt",
                        "key_status": "INACTIVE",
                    },
                ],
            },
        ],
        "control_token": CONTROL,
    }
    config.update(overrides)
    return config


class Running:
    """A started provider sandbox."""

    def __init__(self, server: ServerThread, audit: AuditLog, pki: TestPKI) -> None:
        self.server = server
        self.audit = audit
        self.pki = pki
        self.url = server.url

    @property
    def misa_url(self) -> str:
        return self.url + "/"

    @property
    def vnpt_url(self) -> str:
        return self.url + "/sca/sp769"

    def events(self, event: str, user: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.audit.read()
            if r["event"] == event and (user is None or r.get("user") == user)
        ]


def items(n: int, prefix: str = "doc") -> list[SignItem]:
    return [
        SignItem(
            f"{prefix}-{i:02d}", f"Tờ khai {i}", hashlib.sha256(f"{prefix}{i}".encode()).digest()
        )
        for i in range(n)
    ]


async def wait_terminal(get: Callable[[], Any], *, limit: float = 15.0) -> Transaction:
    """Poll ``get()`` until the transaction is terminal (bounded, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while True:
        tx: Transaction = await get()
        if tx.status.terminal or loop.time() > end:
            return tx
        await asyncio.sleep(0.05)


async def until(check: Callable[[], Any], *, limit: float = 15.0) -> Any:
    """Wait until ``check()`` is truthy (bounded); returns its value."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while True:
        value = check()
        if value or loop.time() > end:
            return value
        await asyncio.sleep(0.05)


def assert_verifies(
    cert: x509.Certificate, batch: Sequence[SignItem], sigs: dict[str, bytes]
) -> None:
    """Independent check: each signature is PKCS#1 v1.5 over the digest with the unit key."""
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert list(sigs) == [i.document_id for i in batch]
    for item in batch:
        key.verify(
            sigs[item.document_id], item.digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())
        )


class ProviderFactory:
    """Starts provider sandboxes; ``close()`` stops them all."""

    def __init__(self, pki: TestPKI, directory: Path) -> None:
        self.pki = pki
        self.dir = directory
        self.servers: list[ServerThread] = []

    def __call__(self, **overrides: Any) -> Running:
        audit = AuditLog(self.dir / f"audit-{len(self.servers)}.jsonl")
        config = ProviderConfig.model_validate(base_config(**overrides))
        server = ServerThread(create_provider_app(config, self.pki, audit)).start()
        self.servers.append(server)
        return Running(server, audit, self.pki)

    def close(self) -> None:
        for server in self.servers:
            server.stop()


def provider_fixture(pki: TestPKI, tmp_path: Path) -> Iterator[ProviderFactory]:
    factory = ProviderFactory(pki, tmp_path)
    yield factory
    factory.close()
