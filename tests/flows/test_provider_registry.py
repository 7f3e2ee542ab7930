"""Providers by registry: a third provider is one client, one block, one registry entry.

The throwaway provider here signs with a key file of the test PKI (what a provider does
behind the phone, without the phone): its client implements ``RemoteSigningClient``, its
block subclasses ``SigningCredentials``, and ``@register_provider`` adds it. It then goes
through the same flows (setup, sign_and_submit) to the same sandbox gateway, which
verifies every signature with its own code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

import pytest
from pydantic import Field, ValidationError

from blocks import BhxhUnit
from blocks.providers import (
    SigningCredentials,
    UnknownProvider,
    credentials_type,
    provider_names,
    register_provider,
    unregister_provider,
)
from demo.scenario import many_units
from esign.base import OtpCallback
from esign.models import Certificate, SignItem, Transaction, TxStatus, certificate_from_der
from flows import setup_remote_signing, sign_and_submit
from sandbox.pki import TestPKI, sign_digest
from tests.flows.conftest import PERIOD, MakeWorld


class LocalKeyClient:
    """Signs with a local key file: every request is approved at once."""

    provider = "localkey"

    def __init__(self, pki_dir: str, name: str, account: str) -> None:
        self._issued = TestPKI.load_or_create(Path(pki_dir)).get(name)
        self._account = account
        self._requests: dict[str, Sequence[SignItem]] = {}

    @property
    def account(self) -> str:
        return self._account

    async def login(self, otp: OtpCallback | None = None) -> None:
        return None

    async def list_certificates(self) -> list[Certificate]:
        return [certificate_from_der(self.provider, "LOCAL-1", self._issued.der, "active")]

    async def request_signatures(
        self,
        certificate: Certificate,
        items: Sequence[SignItem],
        display_text: str,
        client_transaction_id: str,
    ) -> Transaction:
        self._requests[client_transaction_id] = list(items)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        return Transaction(
            client_transaction_id, self.provider, TxStatus.PENDING, expires_at=expires
        )

    async def get_transaction(
        self, transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction:
        key = self._issued.private_key
        signatures = {i.document_id: sign_digest(key, i.digest) for i in items}
        return Transaction(transaction_id, self.provider, TxStatus.SUCCEEDED, signatures)

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class LocalKeyCredentials(SigningCredentials):
    """A provider that signs with a key of the test PKI (tests only)."""

    provider: ClassVar[str] = "localkey"
    _block_type_name: ClassVar[str] = "Local Key Test Credentials"
    _block_type_slug: ClassVar[str] = "local-key-test-credentials"

    pki_dir: str = Field(description="The test PKI directory.")
    certificate_name: str = Field(description="The test-PKI name of the certificate.")
    user: str = Field(description="The account name.")

    @property
    def account(self) -> str:
        return self.user

    def get_client(self) -> LocalKeyClient:
        return LocalKeyClient(self.pki_dir, self.certificate_name, self.user)


@pytest.fixture
def localkey() -> Iterator[type[LocalKeyCredentials]]:
    register_provider(LocalKeyCredentials)
    yield LocalKeyCredentials
    unregister_provider("localkey")


async def test_a_registered_third_provider_signs_through_the_same_flows(
    make_world: MakeWorld, pki_dir: Path, localkey: type[LocalKeyCredentials]
) -> None:
    (unit,) = units = many_units(1, prefix="third")
    world = await make_world(units, setup=False)
    assert "localkey" in provider_names()
    await localkey(
        pki_dir=str(pki_dir), certificate_name=unit.remote_cert.pki_name, user="ketoan"
    ).asave(f"{unit.block}-local", overwrite=True)
    block = await BhxhUnit.aload_unit(unit.block)
    block.provider = "localkey"
    block.credentials_block = f"{unit.block}-local"
    await block.asave(unit.block, overwrite=True)

    setup = await setup_remote_signing(unit.block, interactive=False)
    assert setup.registration_state == "registered"
    summary = await sign_and_submit(unit.block, period=PERIOD)

    # Submitted, and the run waited for the receipt VSS gave.
    assert [(s.route, bool(s.acknowledgement), bool(s.so_ho_so)) for s in summary] == [
        ("gateway", True, True)
    ]
    assert sum(world.submissions().values()) == 1
    # Nothing went through the MISA sandbox: the third provider signed.
    assert world.count("sign_request") == 0


def test_the_block_type_of_a_registered_provider_is_a_prefect_block(
    localkey: type[LocalKeyCredentials],
) -> None:
    assert credentials_type("localkey") is LocalKeyCredentials
    assert LocalKeyCredentials.get_block_type_slug() == "local-key-test-credentials"
    schema = BhxhUnit.model_json_schema()["properties"]["provider"]
    assert "localkey" in schema["enum"]


def test_an_unknown_provider_name_is_refused_naming_it_and_the_known_ones() -> None:
    with pytest.raises(UnknownProvider, match=r"'acme'.*known providers: ca2, misa, mysign, vnpt"):
        credentials_type("acme")
    with pytest.raises(ValidationError, match="acme"):
        BhxhUnit(
            unit_code="TZ1234A",
            tax_code="0101234567",
            name="Công ty ACME",
            agency_code="07906",
            provider="acme",
            credentials_block="acme-creds",
        )


def test_the_provider_interface_is_not_a_registrable_block_type() -> None:
    from prefect.blocks.core import InvalidBlockRegistration

    with pytest.raises(InvalidBlockRegistration):
        SigningCredentials.register_type_and_schema()
