"""Prefect's block standards suite over every block, and secret hygiene of blocks."""

from __future__ import annotations

import pytest
from prefect.blocks.core import Block
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from pydantic import SecretStr

from blocks import (
    BhxhGatewayCredentials,
    BhxhUnit,
    CA2RemoteSigningCredentials,
    MisaESignCredentials,
    ViettelMySignCredentials,
    VnptSmartCACredentials,
)

ALL_BLOCKS = [
    BhxhGatewayCredentials,
    BhxhUnit,
    MisaESignCredentials,
    VnptSmartCACredentials,
    CA2RemoteSigningCredentials,
    ViettelMySignCredentials,
]


@pytest.mark.parametrize("block", ALL_BLOCKS)
class TestAllBlocksAdhereToStandards(BlockStandardTestSuite):
    @pytest.fixture
    def block(self, block: type[Block]) -> type[Block]:
        return block


def test_blocks_are_registered_through_the_collections_entry_point() -> None:
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="prefect.collections") if e.name == "prefect_bhxh"]
    module = ep.load()
    for block in ALL_BLOCKS:
        assert getattr(module, block.__name__) is block


def test_secrets_are_masked_in_repr_and_dumps() -> None:
    creds = MisaESignCredentials(
        base_url="http://127.0.0.1:1/",
        client_id="cid",
        client_key=SecretStr("very-secret-client-key"),
        username="someone",
        password=SecretStr("very-secret-password"),
    )
    assert "very-secret" not in repr(creds)
    assert "very-secret" not in creds.model_dump_json()
    client = creds.get_client()
    assert "very-secret" not in repr(client)


async def test_a_saved_block_keeps_the_secret_for_get_client_only() -> None:
    await VnptSmartCACredentials(
        sp_id="sp", sp_password=SecretStr("sp-secret-value"), user_id="0101234567"
    ).asave("vnpt-standards", overwrite=True)
    loaded = await VnptSmartCACredentials.aload("vnpt-standards")
    assert loaded.sp_password.get_secret_value() == "sp-secret-value"
    assert "sp-secret-value" not in repr(loaded)


async def test_the_mysign_block_keeps_its_secret_out_of_reprs_and_asks_for_callbacks() -> None:
    creds = ViettelMySignCredentials(
        base_url="http://127.0.0.1:1",
        client_id="ke_toan_client",
        client_secret=SecretStr("very-secret-mysign"),
        user_id="MST_0201234567",
        callback=True,
    )
    assert creds.provider == "mysign" and creds.account == "MST_0201234567"
    assert "very-secret" not in repr(creds) and "very-secret" not in creds.model_dump_json()
    client = creds.get_client()
    assert "very-secret" not in repr(client) and client.async_mode == 3
    await creds.asave("mysign-standards", overwrite=True)
    loaded = await ViettelMySignCredentials.aload("mysign-standards")
    assert loaded.client_secret.get_secret_value() == "very-secret-mysign"


async def test_a_saved_ca2_block_keeps_the_secret_for_get_client_only() -> None:
    await CA2RemoteSigningCredentials(
        sp_id="sp", sp_password=SecretStr("ca2-secret-value"), user_id="0201234568"
    ).asave("ca2-standards", overwrite=True)
    loaded = await CA2RemoteSigningCredentials.aload("ca2-standards")
    assert loaded.sp_password.get_secret_value() == "ca2-secret-value"
    assert loaded.base_url.endswith("/api/data")
    assert "ca2-secret-value" not in repr(loaded) + loaded.model_dump_json()
    client = loaded.get_client()
    assert client.account == "0201234568" and "ca2-secret-value" not in repr(client)
    await client.aclose()
