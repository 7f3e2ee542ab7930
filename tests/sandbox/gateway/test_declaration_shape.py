"""The gateway checks each declaration against the real files' content model (the
catalogue's layouts, read as data): fields in order, none unknown, required ones there and
filled, with the portal's words; and the envelope's period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from lxml import etree

from bhxh.models import Declaration
from bhxh.submission import SubmissionRefused
from sandbox.gateway import messages as m
from tests.bhxh.intake.input_support import FIXTURES
from tests.sandbox.gateway.gateway_support import (
    UNIT,
    VN,
    Certs,
    Gateway,
    declaration,
    envelope,
    remove,
    set_text,
    sign,
)

Start = Callable[..., Gateway]
GENUINE = FIXTURES / "genuine"
D02 = "D02-TS-595.xml"


async def refusal(gateway: Gateway, content: bytes) -> tuple[str, str]:
    with pytest.raises(SubmissionRefused) as info:
        await gateway.client.submit("TZ9001A-600-shape", UNIT.code, "envelope", content)
    assert gateway.submitted("TZ9001A-600-shape") == 0
    return info.value.code, info.value.message


def expect(refused: m.Refusal) -> tuple[str, str]:
    return refused.code, refused.message


async def test_declarations_from_other_software_are_received(
    start_gateway: Start, certs: Certs
) -> None:
    decls = [
        Declaration(
            form, f"{form}-595.xml", sign((GENUINE / f"{form}-595.xml").read_bytes(), certs.token)
        )
        for form in ("D02-TS", "TK1-TS")
    ]
    gateway = start_gateway()
    ack = await gateway.client.submit(
        "TZ9001A-600-g", UNIT.code, "envelope", envelope(certs.token, decls)
    )
    assert not ack.duplicate and gateway.submitted("TZ9001A-600-g") == 1


def _swap(first: str, second: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        row = root.find("NoiDung/LaoDong")
        assert row is not None
        a, b = row.find(first), row.find(second)
        assert a is not None and b is not None
        b.addnext(a)

    return mutate


async def test_a_field_out_of_order_is_refused(start_gateway: Start, certs: Certs) -> None:
    decl = declaration(certs.token, mutate=_swap("MavungLTT", "ID"))
    assert await refusal(start_gateway(), envelope(certs.token, [decl])) == expect(
        m.DECLARATION_ORDER(name=D02, where="dòng 1", field="MavungLTT", before="ID")
    )


async def test_a_required_field_missing_is_refused_with_the_portals_words(
    start_gateway: Start, certs: Certs
) -> None:
    decl = declaration(certs.token, mutate=remove("NoiDung/LaoDong/TinhLai"))
    got = await refusal(start_gateway(), envelope(certs.token, [decl]))
    assert got == expect(m.DECLARATION_REQUIRED(name=D02, where="dòng 1", field="TinhLai"))
    assert got[1] == "Tệp D02-TS-595.xml, dòng 1: TinhLai Không được để trống"


async def test_a_required_field_left_empty_is_refused(start_gateway: Start, certs: Certs) -> None:
    decl = declaration(certs.token, mutate=set_text("NoiDung/LaoDong/ChucVu", ""))
    assert await refusal(start_gateway(), envelope(certs.token, [decl])) == expect(
        m.DECLARATION_REQUIRED(name=D02, where="dòng 1", field="ChucVu")
    )


async def test_the_invented_unit_header_is_refused(start_gateway: Start, certs: Certs) -> None:
    def add_header(root: etree._Element) -> None:
        header = etree.Element("MaSoThue")
        header.text = UNIT.tax_code
        root.insert(0, header)

    decl = declaration(certs.token, mutate=add_header)
    assert await refusal(start_gateway(), envelope(certs.token, [decl])) == expect(
        m.DECLARATION_UNKNOWN(name=D02, where="thẻ gốc <D02-TS>", field="MaSoThue", form="D02-TS")
    )


async def test_thong_tin_khac_missing_is_refused(start_gateway: Start, certs: Certs) -> None:
    decl = declaration(certs.token, mutate=remove("ThongTinKhac"))
    assert await refusal(start_gateway(), envelope(certs.token, [decl])) == expect(
        m.DECLARATION_REQUIRED(name=D02, where="thẻ gốc <D02-TS>", field="ThongTinKhac")
    )


async def test_a_declaration_without_rows_is_refused(start_gateway: Start, certs: Certs) -> None:
    decl = declaration(certs.token, mutate=remove("NoiDung/LaoDong"))
    assert await refusal(start_gateway(), envelope(certs.token, [decl])) == expect(
        m.DECLARATION_NO_ROWS(name=D02, path="NoiDung/LaoDong")
    )


async def test_an_envelope_period_in_the_future_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    here = dt.datetime.now(VN)
    future = f"{here.month:02d}/{here.year + 1}"
    content = envelope(certs.token, mutate=set_text("NoiDung/ThongTinHoSo/KyKeKhai", future))
    assert await refusal(start_gateway(), content) == expect(
        m.PERIOD_FUTURE(
            period=future, document="BHXHDienTu.xml", current=f"{here.month:02d}/{here.year}"
        )
    )


async def test_an_envelope_period_that_is_not_mm_yyyy_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    content = envelope(certs.token, mutate=set_text("NoiDung/ThongTinHoSo/KyKeKhai", "2026-01"))
    assert await refusal(start_gateway(), content) == expect(
        m.PERIOD_FORMAT(period="2026-01", document="BHXHDienTu.xml")
    )
