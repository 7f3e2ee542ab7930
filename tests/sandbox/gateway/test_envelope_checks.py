"""One refusal per envelope check, over real HTTP, each with its exact message."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest
from lxml import etree

from bhxh.models import Attachment
from bhxh.submission import SubmissionRefused
from sandbox.gateway import messages as m
from tests.sandbox.gateway.gateway_support import (
    API_KEY,
    UNIT,
    Certs,
    Gateway,
    declaration,
    envelope,
    remove,
    set_text,
)

Start = Callable[..., Gateway]
FILES = "NoiDung/ThongTinHoSo/ToKhais/FileToKhai"


async def refused(gateway: Gateway, content: bytes, *, kind: str = "envelope") -> m.Refusal:
    with pytest.raises(SubmissionRefused) as info:
        await gateway.client.submit("TZ9001A-600-x", UNIT.code, kind, content)  # type: ignore[arg-type]
    assert info.value.dossier_id == "TZ9001A-600-x"
    assert gateway.submitted("TZ9001A-600-x") == 0, "a refusal records nothing"
    return m.Refusal(info.value.code, info.value.message)


def same(refusal: m.Refusal, expected: m.Refusal) -> None:
    assert (refusal.code, refusal.message) == (expected.code, expected.message)


async def test_a_well_formed_signed_envelope_is_received(
    start_gateway: Start, certs: Certs
) -> None:
    gateway = start_gateway()
    ack = await gateway.client.submit("TZ9001A-600-1", UNIT.code, "envelope", envelope(certs.token))
    assert ack.dossier_id == "TZ9001A-600-1" and not ack.duplicate
    assert gateway.submitted("TZ9001A-600-1") == 1


async def test_attachments_other_than_pdf_ride_along_unsigned(
    start_gateway: Start, certs: Certs
) -> None:
    # A PDF must be signed by the unit (tests/sandbox/gateway/test_pdf_attachments.py); an image is
    # covered by the envelope's signature only.
    gateway = start_gateway()
    scan = Attachment("giay-kham.jpg", b"\xff\xd8\xff\xe0 invented scan")
    content = envelope(certs.token, attachments=(scan,))
    ack = await gateway.client.submit("TZ9001A-600-2", UNIT.code, "envelope", content)
    assert not ack.duplicate


async def test_root_other_than_hoso_is_refused(start_gateway: Start, certs: Certs) -> None:
    content = declaration(certs.token).content
    got = await refused(start_gateway(), content)
    same(got, m.ROOT(document="BHXHDienTu.xml", expected="Hoso", actual="D02-TS"))


async def test_missing_required_field_is_refused(start_gateway: Start, certs: Certs) -> None:
    content = envelope(certs.token, mutate=remove("NoiDung/ThongTinHoSo/QuyTrinhISO"))
    got = await refused(start_gateway(), content)
    same(
        got,
        m.FIELD_MISSING(document="BHXHDienTu.xml", path="Hoso/NoiDung/ThongTinHoSo/QuyTrinhISO"),
    )


async def test_file_count_must_match(start_gateway: Start, certs: Certs) -> None:
    content = envelope(certs.token, mutate=set_text("NoiDung/ThongTinHoSo/SoLuongFile", "3"))
    same(await refused(start_gateway(), content), m.FILE_COUNT(declared="3", actual=1))


async def test_file_content_must_be_base64(start_gateway: Start, certs: Certs) -> None:
    def garble(root: etree._Element) -> None:
        item = root.find(FILES)
        assert item is not None
        item.find("NoiDungFile").text = "@@@@"  # type: ignore[union-attr]
        item.find("DoDaiFile").text = "4"  # type: ignore[union-attr]

    content = envelope(certs.token, mutate=garble)
    same(await refused(start_gateway(), content), m.FILE_BASE64(name="D02-TS-595.xml"))


async def test_file_length_must_be_the_base64_length(start_gateway: Start, certs: Certs) -> None:
    decl = declaration(certs.token)
    actual = len(base64.b64encode(decl.content))
    content = envelope(
        certs.token, [decl], mutate=set_text(f"{FILES}/DoDaiFile", str(len(decl.content)))
    )
    same(
        await refused(start_gateway(), content),
        m.FILE_LENGTH(name="D02-TS-595.xml", declared=len(decl.content), actual=actual),
    )


async def test_file_type_must_be_the_extension(start_gateway: Start, certs: Certs) -> None:
    content = envelope(certs.token, mutate=set_text(f"{FILES}/LoaiFile", ".pdf"))
    same(
        await refused(start_gateway(), content),
        m.FILE_TYPE(name="D02-TS-595.xml", declared=".pdf", actual=".xml"),
    )


async def test_a_required_form_missing_is_refused(start_gateway: Start, certs: Certs) -> None:
    content = envelope(certs.token, [declaration(certs.token, "D05-TS")], procedure="602")
    got = await refused(start_gateway(), content)
    same(got, m.FORM_MISSING(procedure="602", form="TK1-TS"))
    assert got.message == "Thủ tục 602 thiếu tờ khai TK1-TS"


async def test_a_form_not_allowed_is_refused(start_gateway: Start, certs: Certs) -> None:
    decls = [declaration(certs.token), declaration(certs.token, "D05-TS")]
    got = await refused(start_gateway(), envelope(certs.token, decls, procedure="600"))
    same(got, m.FORM_NOT_ALLOWED(procedure="600", form="D05-TS"))
    assert got.message == "Thủ tục 600 không cho phép nộp tờ khai D05-TS"


async def test_an_unknown_procedure_is_refused(start_gateway: Start, certs: Certs) -> None:
    got = await refused(start_gateway(), envelope(certs.token, procedure="999"))
    assert (got.code, got.message) == (
        "catalogue",
        "Code 1: Thông tin không map được theo danh mục",
    )


async def test_a_registration_procedure_in_an_envelope_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    content = envelope(certs.token, mutate=set_text("NoiDung/ThongTinHoSo/MaThuTuc", "05"))
    same(
        await refused(start_gateway(), content),
        m.WRONG_KIND(procedure="05", expected="registration", actual="envelope"),
    )


async def test_the_envelope_must_name_the_submitting_unit(
    start_gateway: Start, certs: Certs
) -> None:
    content = envelope(certs.token, mutate=set_text("NoiDung/ThongTinDonVi/MaSoBHXH", "TZ0000Z"))
    same(
        await refused(start_gateway(), content),
        m.UNIT_MISMATCH(document="BHXHDienTu.xml", declared="TZ0000Z", unit=UNIT.code),
    )


async def test_a_declaration_whose_root_is_not_its_form_is_refused(
    start_gateway: Start, certs: Certs
) -> None:
    decls = [declaration(certs.token), declaration(certs.token, "TK1-TS")]
    content = envelope(certs.token, decls, mutate=set_text(f"{FILES}[2]/MaToKhai", "D01-TS"))
    same(
        await refused(start_gateway(), content),
        m.DECLARATION_ROOT(name="TK1-TS-595.xml", actual="TK1-TS", form="D01-TS"),
    )


async def test_a_dtd_is_refused_before_parsing(start_gateway: Start) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE Hoso [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Hoso>&b;</Hoso>'
    )
    got = await refused(start_gateway(), bomb)
    same(
        got,
        m.XML_UNSAFE(document="BHXHDienTu.xml", reason="không được có DOCTYPE hay khai báo ENTITY"),
    )


async def test_content_that_is_not_base64_is_refused(start_gateway: Start) -> None:
    gateway = start_gateway()
    body = {"dossier_id": "d-1", "unit_code": UNIT.code, "kind": "envelope", "content_base64": "%%"}
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        response = await http.post(
            "/api/v1/dossiers", json=body, headers={"Authorization": f"Bearer {API_KEY}"}
        )
    assert response.status_code == 422
    expected = m.BASE64_CONTENT()
    assert response.json() == {
        "error": expected.code,
        "message": expected.message,
        "dossier_id": "d-1",
    }


async def test_an_unknown_unit_is_refused(start_gateway: Start, certs: Certs) -> None:
    got = await refused(start_gateway(units=[]), envelope(certs.token))
    same(got, m.UNIT_UNKNOWN(unit=UNIT.code))
