"""A new company's block name never takes a saved unit's, nor a credentials block a saved
unit uses."""

from __future__ import annotations

from blocks import BhxhUnit
from tasks.companies import find_saved, taken_names


def _unit(code: str, tax: str, credentials: str, provider: str = "misa") -> BhxhUnit:
    return BhxhUnit(
        unit_code=code,
        tax_code=tax,
        name="Công ty",
        agency_code="07906",
        provider=provider,
        credentials_block=credentials,
    )


def test_a_credentials_block_in_use_reserves_its_name() -> None:
    units = [("an-phat", _unit("TA0001A", "0101234567", "hoa-sen-misa"))]
    assert taken_names(units) == ["an-phat", "hoa-sen"]


def test_a_saved_unit_is_found_by_unit_code_or_tax_code() -> None:
    units = [("an-phat", _unit("TA0001A", "0101234567-001", "an-phat-misa"))]
    assert find_saved(units, "ta0001a", "0000000000") == ("an-phat", units[0][1], "unit_code")
    assert find_saved(units, "TX0001X", "0101234567001") == ("an-phat", units[0][1], "tax_code")
    assert find_saved(units, "TX0001X", "0101234567") is None


def test_a_new_company_never_takes_another_companys_signer_from_the_template() -> None:
    from pydantic import SecretStr

    from blocks import MisaESignCredentials
    from tasks.companies import build_credentials

    template = MisaESignCredentials(
        base_url="https://esign.example.vn",
        client_id="firm-client",
        client_key=SecretStr("firm-key"),
        username="other.signer",
        password=SecretStr("other-signers-password"),
    )
    block, empty = build_credentials("misa", template, {"username": "new.signer"})
    assert isinstance(block, MisaESignCredentials)
    assert (block.client_id, block.client_key.get_secret_value()) == ("firm-client", "firm-key")
    assert block.username == "new.signer"
    assert block.password.get_secret_value() == ""  # waits for this company's own password
    assert "password" in empty
