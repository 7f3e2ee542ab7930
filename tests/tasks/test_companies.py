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
