"""The gateway reads every field as it was signed, over real HTTP: a comment, a processing
instruction or a CDATA section splitting a field's text never changes what the gateway
reads, checks and records (its own helper, ``sandbox.xmldsig_check.text_as_signed``)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest

from bhxh.submission import SubmissionRefused
from sandbox.gateway import messages as m
from tests.sandbox.gateway.gateway_support import (
    PERIOD,
    UNIT,
    Certs,
    Gateway,
    declaration,
    envelope,
    registration,
)
from tests.text_splits import SPLITS, Split, pieces, split_text

Start = Callable[..., Gateway]

#: Every text field of the envelope the gateway reads or requires (the first FileToKhai's).
ENVELOPE_FIELDS = (
    "MaIVAN",
    "TenIVAN",
    "TenDoiTuong",
    "MaSoBHXH",
    "LoaiDoiTuong",
    "MaSoThue",
    "NguoiKy",
    "DienThoai",
    "CoQuanQuanLy",
    "TenThuTuc",
    "MaThuTuc",
    "KyKeKhai",
    "NgayLap",
    "SoLuongFile",
    "QuyTrinhISO",
    "MaToKhai",
    "MoTaToKhai",
    "TenFile",
    "LoaiFile",
    "DoDaiFile",
    "NoiDungFile",
)
#: The text fields of a 04 form the gateway reads or requires.
FORM_FIELDS = (
    "MaToKhai",
    "MaThuTuc",
    "TenThuTuc",
    "TenDonVi",
    "MaSoBHXH",
    "MaSoThue",
    "CoQuanQuanLy",
    "DienThoai",
    "NguoiKy",
    "MaIVAN",
    "SERIAL",
    "SUBJECT",
    "BEGIN",
    "END",
    "NgayLap",
)


def split_signed(signed: Callable[..., bytes], field: str, how: Split, **kw: Any) -> bytes:
    """A document with ``field`` split: after signing for a comment or CDATA (the signature
    made without them still verifies), before signing for a processing instruction (which
    canonicalisation keeps)."""
    if how == "pi":
        return signed(edit=lambda xml: split_text(xml, field, how), **kw)
    return split_text(signed(**kw), field, how)


async def outcome(gateway: Gateway, dossier_id: str, kind: str, content: bytes) -> str:
    try:
        await gateway.client.submit(dossier_id, UNIT.code, kind, content)  # type: ignore[arg-type]
    except SubmissionRefused as refused:
        return f"refused: {refused.message}"
    return "accepted"


@pytest.mark.parametrize("how", SPLITS)
async def test_every_envelope_field_split_is_read_as_signed(
    start_gateway: Start, certs: Certs, how: Split
) -> None:
    gateway = start_gateway()
    wrong: dict[str, object] = {}
    for field in ENVELOPE_FIELDS:
        content = split_signed(lambda **kw: envelope(certs.token, **kw), field, how)
        dossier_id = f"TZ9001A-600-{field}"
        result = await outcome(gateway, dossier_id, "envelope", content)
        if result != "accepted":
            wrong[field] = result
            continue
        (event,) = gateway.events("submitted", dossier_id=dossier_id)
        read = {k: event[k] for k in ("procedure", "unit_name", "tax_code", "period")}
        if read != {
            "procedure": "600",
            "unit_name": UNIT.name,
            "tax_code": UNIT.tax_code,
            "period": PERIOD,
        }:
            wrong[field] = read
    assert wrong == {}


def _split_every_value(how: Split) -> Callable[[bytes], bytes]:
    """Every value of the declaration's rows put after a comment or a PI, or in CDATA."""

    def edit(xml: bytes) -> bytes:
        text = xml.decode()
        start, end = text.index("<NoiDung>"), text.index("</NoiDung>")
        rows = re.sub(
            r"<(\w+)>([^<]+)</\1>",
            lambda m: f"<{m[1]}>{pieces('', m[2], how)}</{m[1]}>",
            text[start:end],
        )
        return (text[:start] + rows + text[end:]).encode()

    return edit


@pytest.mark.parametrize("how", SPLITS)
async def test_declaration_values_after_a_split_are_read(
    start_gateway: Start, certs: Certs, how: Split
) -> None:
    if how == "pi":
        decl = declaration(certs.token, edit=_split_every_value(how))
    else:  # after signing: the declaration's signature still verifies
        signed = declaration(certs.token)
        decl = dataclasses.replace(signed, content=_split_every_value(how)(signed.content))
    assert "<HoTen>Trần".encode() not in decl.content  # every value starts after the split
    content = envelope(certs.token, [decl])
    assert await outcome(start_gateway(), "TZ9001A-600-d", "envelope", content) == "accepted"


@pytest.mark.parametrize("how", SPLITS)
async def test_every_registration_field_split_is_read_as_signed(
    start_gateway: Start, certs: Certs, how: Split
) -> None:
    gateway = start_gateway(units=[])
    wrong: dict[str, object] = {}
    for number, field in enumerate(FORM_FIELDS, start=1):
        unit = dataclasses.replace(UNIT, code=f"TZ9{number:03d}A")
        content = split_signed(
            lambda unit=unit, **kw: registration("04", certs.token, unit=unit, **kw), field, how
        )
        try:
            await gateway.client.submit(f"reg-{field}", unit.code, "registration", content)
        except SubmissionRefused as refused:
            wrong[field] = f"refused: {refused.message}"
            continue
        reg = await gateway.client.registration(unit.code)
        (event,) = gateway.events("registration", unit_code=unit.code)
        read = (reg.state, reg.tax_code, reg.certificate and reg.certificate.serial, event["name"])
        serial = format(certs.token.certificate.serial_number, "X")
        if read != ("registered", UNIT.tax_code, serial, UNIT.name):
            wrong[field] = read
    assert wrong == {}


async def test_an_element_inside_a_text_field_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    def nest(xml: bytes) -> bytes:
        return xml.replace(
            f"<TenDoiTuong>{UNIT.name}</TenDoiTuong>".encode(),
            "<TenDoiTuong>Công ty <b>Mạo Danh</b></TenDoiTuong>".encode(),
        )

    content = envelope(certs.token, edit=nest)
    assert b"<b>" in content
    assert await outcome(start_gateway(), "TZ9001A-600-n", "envelope", content) == (
        "refused: "
        + m.FIELD_NOT_TEXT(
            document="BHXHDienTu.xml", path="Hoso/NoiDung/ThongTinDonVi/TenDoiTuong", child="b"
        ).message
    )
