"""The block forms: no "str | None" toggles, setup's fields marked, old saved blocks load."""

from __future__ import annotations

from typing import Any

import pytest

from blocks import (
    BhxhGatewayCredentials,
    BhxhUnit,
    CA2RemoteSigningCredentials,
    MisaESignCredentials,
    ViettelMySignCredentials,
    VnptSmartCACredentials,
)

SETUP_FIELDS = (
    "certificate_alias",
    "certificate_serial",
    "certificate_subject",
    "certificate_not_before",
    "certificate_not_after",
)


@pytest.mark.parametrize(
    "block",
    [
        BhxhUnit,
        MisaESignCredentials,
        VnptSmartCACredentials,
        ViettelMySignCredentials,
        CA2RemoteSigningCredentials,
        BhxhGatewayCredentials,
    ],
)
def test_block_form_has_no_nullable_toggle(block: Any) -> None:
    properties = block.model_json_schema()["properties"]
    toggles = [
        name
        for name, field in properties.items()
        if any(branch.get("type") == "null" for branch in field.get("anyOf", []))
    ]
    assert toggles == []


def test_fields_setup_writes_are_marked_read_only_and_titled() -> None:
    properties = BhxhUnit.model_json_schema()["properties"]
    for name in SETUP_FIELDS:
        assert properties[name]["readOnly"] is True
        assert "do thiết lập ghi / written by setup" in properties[name]["title"]
    assert properties["certificate_not_after"]["format"] == "date-time"
    assert "readOnly" not in properties["unit_code"]


def test_unit_form_titles_are_vietnamese_first() -> None:
    properties = BhxhUnit.model_json_schema()["properties"]
    assert properties["tax_code"]["title"] == "Mã số thuế / Tax code"
    assert properties["gateway_block"]["default"] == ""  # no more "default"


def test_a_unit_saved_with_none_values_still_loads() -> None:
    # The data of a block document saved before the typed defaults.
    old: dict[str, Any] = {
        "unit_code": "TA0001A",
        "tax_code": "0101234567",
        "name": "Công ty TNHH An Phát",
        "agency_code": "07906",
        "credentials_block": "an-phat-misa",
        "gateway_block": "sandbox-gateway",
        "export_block": None,
        "ivan_name": None,
        "certificate_alias": None,
        "certificate_serial": None,
        "certificate_subject": None,
        "certificate_not_before": None,
        "certificate_not_after": None,
        "registered_serial": None,
        "stamp_place": None,
        "stamp_text": None,
        "inbox_dir": None,
        "outbox_dir": None,
    }
    unit = BhxhUnit.model_validate(old)
    assert unit.certificate_serial == "" and unit.certificate_not_after is None
    assert unit.unit_info().ivan_name  # "" reads as unset: the I-VAN list's name
    assert unit.stamp_spec() is not None
    assert unit.gateway_block == "sandbox-gateway"


def test_credentials_saved_with_none_values_still_load() -> None:
    misa = MisaESignCredentials.model_validate(
        {
            "client_id": "c",
            "client_key": "k",
            "username": "u",
            "password": "p",
            "auth_prefix": None,
            "ca_bundle": None,
        }
    )
    assert misa.auth_prefix == "" and misa.ca_bundle == ""
    vnpt = VnptSmartCACredentials.model_validate(
        {"sp_id": "s", "sp_password": "p", "user_id": "u", "ca_bundle": None}
    )
    assert vnpt.ca_bundle == ""


async def test_a_credentials_block_waiting_for_its_password_is_refused_before_a_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import SecretStr

    from esign.errors import AuthenticationFailed

    waiting = MisaESignCredentials(
        client_id="c", client_key=SecretStr("k"), username="u", password=SecretStr("")
    )

    async def aload(name: str) -> MisaESignCredentials:
        return waiting

    monkeypatch.setattr(MisaESignCredentials, "aload", aload)
    unit = BhxhUnit(
        unit_code="TK0001K",
        tax_code="0100000001",
        name="Công ty",
        agency_code="07906",
        credentials_block="thu-nghiem-misa",
    )
    with pytest.raises(AuthenticationFailed) as refused:
        await unit.aload_credentials()
    assert "chưa có Mật khẩu người ký" in str(refused.value)
    assert "Blocks > MISA eSign Credentials > thu-nghiem-misa > Edit" in str(refused.value)


@pytest.mark.parametrize("block", [ViettelMySignCredentials, CA2RemoteSigningCredentials])
def test_the_new_providers_ask_add_company_for_the_signer_only(block: Any) -> None:
    # add_company copies the firm's integrator account and asks a person for these.
    assert block.signer_fields == ("user_id",)
