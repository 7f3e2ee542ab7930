"""The unit block's text fields: Unicode dựng sẵn whatever was typed; legacy mojibake and
control characters refused, naming the field."""

from __future__ import annotations

import unicodedata

import pytest
from pydantic import ValidationError

from bhxh.vntext import encode_legacy
from blocks import BhxhUnit

BASE = {
    "unit_code": "TA0001A",
    "tax_code": "0101234567",
    "agency_code": "07906",
    "credentials_block": "an-phat-misa",
}


def test_decomposed_text_is_stored_precomposed() -> None:
    unit = BhxhUnit(
        **BASE,
        name=unicodedata.normalize("NFD", "  Công ty TNHH An  Phát "),
        signer=unicodedata.normalize("NFD", "Nguyễn Thị Thu Hà"),
        address=unicodedata.normalize("NFD", "Số 1 Phố Huế, Hà Nội"),
        stamp_text=unicodedata.normalize("NFD", "Ngày ký: {time}\nNgười ký: {signer}"),
    )
    assert unit.name == "Công ty TNHH An Phát"
    assert unit.unit_info().signer == "Nguyễn Thị Thu Hà"
    assert unit.address == "Số 1 Phố Huế, Hà Nội"
    assert unit.stamp_text == "Ngày ký: {time}\nNgười ký: {signer}"  # line breaks kept


@pytest.mark.parametrize(("encoding", "shown"), [("tcvn3", "TCVN3 (ABC)"), ("vni", "VNI-Windows")])
def test_legacy_text_is_refused_naming_the_field(encoding: str, shown: str) -> None:
    typed = encode_legacy("Nguyễn Thị Thu Hà", encoding)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as refused:
        BhxhUnit(**BASE, name="Công ty TNHH An Phát", signer=typed)
    message = str(refused.value)
    assert f"trường signer được gõ bằng bảng mã cũ {shown}" in message
    assert "'Nguyễn Thị Thu Hà'" in message


def test_a_control_character_is_refused() -> None:
    with pytest.raises(ValidationError, match="field name holds the control character U\\+0001"):
        BhxhUnit(**BASE, name="Công ty\x01 An Phát")
