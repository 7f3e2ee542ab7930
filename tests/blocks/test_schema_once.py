"""A block's JSON schema is built once per class, not once per field of every save.

Prefect's save serialises a block with its secrets, and asks for the class's whole JSON
schema once per field to learn whether that field holds a secret: 0.5 s of CPU for one
unit saved before, every company of a firm and every test world paying it.
"""

from __future__ import annotations

from typing import Any

import pytest
from prefect.blocks.core import Block
from pydantic import SecretStr
from pydantic.json_schema import GenerateJsonSchema

from blocks import BhxhGatewayCredentials, BhxhUnit, MisaESignCredentials


def _unit() -> BhxhUnit:
    return BhxhUnit(
        unit_code="TS00001",
        tax_code="0100000001",
        name="Công ty Thử",
        agency_code="01",
        signer="Nguyễn Văn A",
        phone="0900000000",
        address="Hà Nội",
        email="ketoan@example.vn",
        provider="misa",
        credentials_block="ts-misa",
        gateway_block="ts-gateway",
    )


def _misa() -> MisaESignCredentials:
    return MisaESignCredentials(
        client_id="c", client_key=SecretStr("khoa-bi-mat"), username="u", password=SecretStr("mk")
    )


def _schema_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    generate = GenerateJsonSchema.generate

    def counted(self: GenerateJsonSchema, *args: Any, **kwargs: Any) -> Any:
        built.append("schema")
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(GenerateJsonSchema, "generate", counted)
    return built


@pytest.mark.parametrize("make", [_unit, _misa], ids=["unit", "misa"])
def test_serialising_a_block_for_its_save_builds_its_schema_at_most_once(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = make()
    built = _schema_builds(monkeypatch)
    # What Block._save sends: the block serialised with its secrets.
    block.model_dump(context={"include_secrets": True})
    block.model_dump(context={"include_secrets": True})
    assert len(built) <= 1, f"{len(built)} schema builds for two serialisations"


@pytest.mark.parametrize("cls", [BhxhUnit, MisaESignCredentials, BhxhGatewayCredentials])
def test_the_schema_is_prefects_and_a_caller_editing_it_changes_nothing(cls: Any) -> None:
    prefects = Block.model_json_schema.__func__(cls)  # type: ignore[attr-defined]
    first = cls.model_json_schema()
    assert first == prefects
    first["properties"].clear()
    first["secret_fields"] = []
    assert cls.model_json_schema() == prefects


def test_secrets_are_still_hidden_and_still_saved() -> None:
    misa = _misa()
    assert misa.model_dump()["client_key"] != "khoa-bi-mat"
    assert misa.model_dump(context={"include_secrets": True})["client_key"] == "khoa-bi-mat"
    assert misa.model_dump(context={"include_secrets": True})["password"] == "mk"


def test_a_carrier_registered_after_the_schema_was_built_is_in_the_route_drop_down() -> None:
    from blocks.carriers import register_carrier, unregister_carrier

    def routes() -> list[str]:
        return list(BhxhUnit.model_json_schema()["properties"]["route"]["enum"])

    before = routes()
    assert "ivan-thu" not in before

    @register_carrier("ivan-thu", block_type=None)
    async def open_ivan(unit: Any, settings: Any) -> Any:  # never opened here
        raise AssertionError

    try:
        assert set(routes()) == {*before, "ivan-thu"}
    finally:
        unregister_carrier("ivan-thu")
    assert routes() == before
