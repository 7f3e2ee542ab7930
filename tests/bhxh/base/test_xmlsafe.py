"""Hostile XML is refused with a clear error before anything uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bhxh.errors import UnsafeXml
from bhxh.xmlsafe import (
    field_text,
    find_text,
    own_text,
    parse_xml,
    parse_xml_file,
    remove_keeping_tail,
)
from tests.text_splits import SPLITS, Split, split_text

WHAT = "unit TZ1234A, dossier 01-bao-tang, file D02-TS-595.xml"


def refused(data: bytes, **kwargs: object) -> str:
    with pytest.raises(UnsafeXml) as exc:
        parse_xml(data, what=WHAT, **kwargs)  # type: ignore[arg-type]
    message = str(exc.value)
    assert message.startswith(WHAT + ": ")
    return message


def test_well_formed_declaration_is_parsed() -> None:
    root = parse_xml(
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<D02-TS><TenDonVi>Công ty</TenDonVi><Cky/></D02-TS>".encode(),
        expected_root="D02-TS",
    )
    assert root.findtext("TenDonVi") == "Công ty"


def test_utf8_byte_order_mark_is_allowed() -> None:
    assert parse_xml(b"\xef\xbb\xbf<D02-TS/>", expected_root="D02-TS").tag == "D02-TS"


def test_doctype_is_refused() -> None:
    assert "DOCTYPE" in refused(b"<!DOCTYPE D02-TS><D02-TS/>")


def test_external_entity_is_refused_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-0xC0FFEE")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<D02-TS><HoTen>&x;</HoTen></D02-TS>"
    ).encode()
    message = refused(data)
    assert "DOCTYPE" in message
    assert "TOP-SECRET" not in message


def test_billion_laughs_is_refused() -> None:
    lols = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    data = (f'<!DOCTYPE lolz [<!ENTITY lol0 "lol">{lols}]><D02-TS>&lol9;</D02-TS>').encode()
    assert "DOCTYPE" in refused(data)


def test_external_dtd_is_refused() -> None:
    data = b'<!DOCTYPE D02-TS SYSTEM "http://127.0.0.1:9/evil.dtd"><D02-TS/>'
    assert "DOCTYPE" in refused(data)


def test_entity_declaration_without_doctype_is_refused() -> None:
    # Not well-formed anyway, but refused by the markup scan before the parser sees it.
    assert "<!ENTITY" in refused(b'<D02-TS><!ENTITY x "y"></D02-TS>')


def test_undeclared_entity_reference_is_malformed() -> None:
    assert "malformed XML" in refused(b"<D02-TS>&x;</D02-TS>")


def test_oversized_input_is_refused_before_parsing() -> None:
    data = b"<D02-TS>" + b"a" * 2000 + b"</D02-TS>"
    assert "too large: 2017 bytes, limit 1000" in refused(data, max_bytes=1000)


def test_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "D02-TS-595.xml"
    path.write_bytes(b"<D02-TS>" + b"a" * 5000 + b"</D02-TS>")
    with pytest.raises(UnsafeXml, match=r"file D02-TS-595.xml: XML file too large: 5017 bytes"):
        parse_xml_file(path, max_bytes=1000)


def test_size_limit_defaults_to_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BHXH_MAX_XML_BYTES", "100")
    assert "limit 100" in refused(b"<D02-TS>" + b"a" * 200 + b"</D02-TS>")


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    data = b"<a>" * 5 + b"</a>" * 5
    assert parse_xml(data, max_depth=5).tag == "a"
    assert "deeper than the limit of 4 levels" in refused(data, max_depth=4)


def test_very_deep_nesting_is_refused_with_the_default_limit() -> None:
    data = b"<a>" * 10_000 + b"</a>" * 10_000
    assert "deeper than the limit of 64 levels" in refused(data)


def test_malformed_xml_names_line_and_column() -> None:
    message = refused(b"<D02-TS>\n<HoTen>x</D02-TS>")
    assert "malformed XML at line 2" in message


def test_empty_input_is_malformed() -> None:
    assert "empty" in refused(b"  \n")


def test_latin1_bytes_are_refused() -> None:
    message = refused("<D02-TS><HoTen>café</HoTen></D02-TS>".encode("latin-1"))
    assert "must be UTF-8" in message and "is not valid UTF-8" in message


def test_utf16_with_bom_is_refused() -> None:
    assert "UTF-16 byte order mark" in refused("<D02-TS/>".encode("utf-16"))


def test_utf16_without_bom_is_refused() -> None:
    assert "must be UTF-8" in refused("<D02-TS/>".encode("utf-16-le"))


def test_declaration_naming_windows_1258_is_refused() -> None:
    data = b'<?xml version="1.0" encoding="windows-1258"?><D02-TS/>'
    assert "names encoding 'windows-1258'" in refused(data)


def test_wrong_root_names_expected_and_found() -> None:
    message = refused(b"<TK1-TS/>", expected_root="D02-TS")
    assert "wrong root element: expected <D02-TS>, found <TK1-TS>" in message


def test_namespaced_root_is_not_the_plain_form() -> None:
    message = refused(b'<D02-TS xmlns="urn:x"/>', expected_root="D02-TS")
    assert "found <{urn:x}D02-TS>" in message


def test_text_instead_of_bytes_is_refused() -> None:
    assert "must be given as bytes" in refused("<D02-TS/>")  # type: ignore[arg-type]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UnsafeXml, match="cannot read XML file"):
        parse_xml_file(tmp_path / "nope.xml")


def test_parser_alone_refuses_doctype_when_the_byte_scan_is_bypassed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Defence in depth: with the raw-bytes scan disabled, the parser settings and the
    # docinfo check must still refuse the document without reading the entity's target.
    import re

    from bhxh import xmlsafe

    monkeypatch.setattr(xmlsafe, "_DTD_MARKUP", re.compile(rb"(?!)"))
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-0xBEEF")
    data = (
        f'<!DOCTYPE D02-TS [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<D02-TS><HoTen>&x;</HoTen></D02-TS>"
    ).encode()
    message = refused(data)
    assert "DOCTYPE / DTD is not allowed" in message
    assert "TOP-SECRET" not in message


# --- a field read as it was signed ------------------------------------------------------


@pytest.mark.parametrize("how", SPLITS)
def test_a_field_is_read_whole_whatever_splits_it(how: Split) -> None:
    xml = "<Hoso><TenDoiTuong>Công ty CP Bình Minh &amp; Cộng sự</TenDoiTuong></Hoso>".encode()
    root = parse_xml(split_text(xml, "TenDoiTuong", how))
    assert find_text(root, "TenDoiTuong") == "Công ty CP Bình Minh & Cộng sự"


def test_every_piece_counts_and_whitespace_is_kept() -> None:
    root = parse_xml(b"<a><v> 03<!--x-->09<?p q?>87<![CDATA[65]]><!--y-->43 </v></a>")
    el = root.find("v")
    assert el is not None
    assert field_text(el) == " 0309876543 "
    assert own_text(el) == field_text(el)
    assert find_text(root, "missing") is None


def test_an_element_inside_a_field_is_refused_naming_it() -> None:
    root = parse_xml(b"<a><MaSoThue>03098<b>76543</b></MaSoThue></a>")
    with pytest.raises(UnsafeXml) as exc:
        find_text(root, "MaSoThue", what=WHAT)
    assert str(exc.value) == (
        f"{WHAT}: <MaSoThue> holds an element <b>; a field must be plain text"
    )
    el = root.find("MaSoThue")
    assert el is not None
    assert own_text(el) == "03098"  # the text directly inside, for "holds no text" checks


def test_removing_an_element_keeps_the_text_after_it() -> None:
    root = parse_xml(b"<a>x<b/>y<c/>z</a>")
    for tag in ("b", "c"):
        el = root.find(tag)
        assert el is not None
        remove_keeping_tail(el)
    assert own_text(root) == "xyz" and len(root) == 0
