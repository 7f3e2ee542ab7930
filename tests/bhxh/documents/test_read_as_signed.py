"""The envelope reader reads every field as it was signed: a comment, a processing
instruction or a CDATA section splitting a field's text never changes the value read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bhxh.documents import EnvelopeInfo, build_envelope, read_envelope
from bhxh.errors import UnsafeXml
from bhxh.models import Declaration, Dossier
from bhxh.signing import verify_signature
from tests.text_splits import SPLITS, Split, split_text

#: Every text field read_envelope reads (the first FileToKhai's for the file fields).
FIELDS = (
    "MaIVAN",
    "TenIVAN",
    "TenDoiTuong",
    "MaSoBHXH",
    "MaSoThue",
    "NguoiKy",
    "DienThoai",
    "CoQuanQuanLy",
    "TenThuTuc",
    "MaThuTuc",
    "KyKeKhai",
    "NgayLap",
    "SoLuongFile",
    "MaToKhai",
    "MoTaToKhai",
    "TenFile",
    "LoaiFile",
    "DoDaiFile",
    "NoiDungFile",
)


@pytest.fixture
def signed_envelope(
    dossier: Dossier,
    make_d02: Callable[..., bytes],
    remote_sign: Callable[[bytes], bytes],
) -> tuple[bytes, bytes]:
    """(unsigned, signed) envelope of one signed D02-TS and the dossier's PDF."""
    d02 = Declaration("D02-TS", "D02-TS-595.xml", remote_sign(make_d02(workers=2)))
    unsigned = build_envelope(dossier, [d02], created=dt.date(2026, 2, 5))
    return unsigned, remote_sign(unsigned)


@pytest.mark.parametrize("how", SPLITS)
@pytest.mark.parametrize("field", FIELDS)
def test_a_split_field_is_read_as_signed(
    signed_envelope: tuple[bytes, bytes],
    remote_sign: Callable[[bytes], bytes],
    field: str,
    how: Split,
) -> None:
    unsigned, signed = signed_envelope
    expected = read_envelope(signed)
    if how == "pi":
        # A processing instruction stays in the canonical form: signed with it.
        split = remote_sign(split_text(unsigned, field, how))
    else:
        # Canonicalisation drops a comment and writes CDATA as text: the signature that
        # was made without the split still verifies with it.
        split = split_text(signed, field, how)
    assert split != signed
    verify_signature(split)
    assert read_envelope(split) == expected


def test_the_tax_code_split_by_a_comment_is_the_signed_one(
    signed_envelope: tuple[bytes, bytes],
) -> None:
    _, signed = signed_envelope
    split = signed.replace(b"<MaSoThue>0109876543<", b"<MaSoThue>01098<!---->76543<", 1)
    verify_signature(split)
    info: EnvelopeInfo = read_envelope(split)
    assert info.tax_code == "0109876543"


def test_an_element_inside_a_text_field_is_refused(
    signed_envelope: tuple[bytes, bytes], remote_sign: Callable[[bytes], bytes]
) -> None:
    unsigned, _ = signed_envelope
    mixed = unsigned.replace(
        b"<MaSoThue>0109876543</MaSoThue>", b"<MaSoThue>01098<b>76543</b></MaSoThue>", 1
    )
    with pytest.raises(UnsafeXml, match=r"MaSoThue.*holds an element <b>"):
        read_envelope(remote_sign(mixed))
