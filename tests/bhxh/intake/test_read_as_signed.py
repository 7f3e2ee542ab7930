"""The inbox and the validation read each field of another program's declaration as it
will be signed: a comment, a processing instruction or a CDATA section splitting a value
never changes the value checked, located, compared or converted."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bhxh.errors import InputRefused
from bhxh.intake import (
    DossierProblems,
    load_dossiers,
    normalize_declaration,
    validate_dossier,
    write_dossier,
)
from bhxh.models import UnitInfo
from bhxh.vntext import encode_legacy
from tests.bhxh.intake.input_support import D02_ORDER, VALID_ROW, raw_d02, row
from tests.text_splits import SPLITS, Split, pieces

MakeDossier = Callable[..., object]
NAME = "Nguyễn Văn An"


def split(xml: bytes, how: Split) -> bytes:
    """Each ``head@@tail`` in a text field becomes ``head`` and ``tail`` split by ``how``."""
    text = re.sub(r"([^<>@]*)@@([^<>]*)", lambda m: pieces(m[1], m[2], how), xml.decode())
    assert "@@" not in text
    return text.encode()


def problems(make_dossier: MakeDossier, xml: bytes, today: dt.date) -> tuple[str, ...]:
    with pytest.raises(DossierProblems) as refused:
        validate_dossier(make_dossier([("D02-TS", xml)]), today=today)  # type: ignore[arg-type]
    return refused.value.problems


@pytest.mark.parametrize("how", SPLITS)
@pytest.mark.parametrize("field", [f for f in D02_ORDER if len(VALID_ROW.get(f, "")) > 1])
def test_a_valid_value_split_anywhere_stays_valid(
    make_dossier: MakeDossier, today: dt.date, field: str, how: Split
) -> None:
    value = VALID_ROW[field]
    half = len(value) // 2
    xml = split(raw_d02(row(**{field: f"{value[:half]}@@{value[half:]}"})), how)
    validate_dossier(make_dossier([("D02-TS", xml)]), today=today)  # type: ignore[arg-type]


@pytest.mark.parametrize("how", SPLITS)
@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("TienLuong", "9000000@@x", "'9000000x' is not a whole number of VND above 0"),
        ("NgaySinh", "01/02/1990@@0", "'01/02/19900' must be dd/MM/yyyy, MM/yyyy or yyyy"),
        ("MasoBHXH", "0123456789@@0", "'01234567890' must be digits only, at most 10 digits"),
        ("TuThang", "01/2026@@6", "'01/20266' must be MM/yyyy with a month 01-12, e.g. 01/2026"),
    ],
)
def test_the_whole_value_is_checked_not_its_first_piece(
    make_dossier: MakeDossier,
    today: dt.date,
    field: str,
    value: str,
    problem: str,
    how: Split,
) -> None:
    xml = split(raw_d02(row(STT="1@@2", **{field: value})), how)
    found = problems(make_dossier, xml, today)
    assert found == (f"file D02-TS-595.xml, row 1 (STT 12), field {field}: {problem}",)


@pytest.mark.parametrize("how", SPLITS)
def test_a_worker_split_in_two_pieces_is_still_the_same_worker(
    make_dossier: MakeDossier, today: dt.date, how: Split
) -> None:
    first = row(STT="1")
    second = row(STT="2", MasoBHXH="01234@@56789", CMND="001190000002", HoTen="Lê Văn Cường")
    found = problems(make_dossier, split(raw_d02(first, second), how), today)
    assert found == (
        "file D02-TS-595.xml, row 2 (STT 2), field MasoBHXH: worker 0123456789 appears "
        "twice (already in row 1)",
    )


@pytest.mark.parametrize("how", SPLITS)
def test_an_unknown_pa_code_is_named_whole(
    make_dossier: MakeDossier, today: dt.date, how: Split
) -> None:
    found = problems(make_dossier, split(raw_d02(row(PA="T@@MX")), how), today)
    assert any("field PA: unknown code 'TMX'" in p for p in found), found


def test_an_element_inside_a_value_is_refused(make_dossier: MakeDossier, today: dt.date) -> None:
    xml = raw_d02(row(HoTen="Trần Thị @@")).replace(b"@@", b"<b>B\xc3\xacnh</b>")
    found = problems(make_dossier, xml, today)
    assert found == (
        "file D02-TS-595.xml, row 1 (STT 1), field HoTen: holds elements, expected a value",
    )


# --- the inbox: a person's text in a legacy encoding ------------------------------------


def legacy_d02(how: Split) -> bytes:
    legacy = encode_legacy(NAME, "tcvn3")
    return split(raw_d02(row(HoTen=f"{legacy[:3]}@@{legacy[3:]}")), how)


@pytest.mark.parametrize("how", SPLITS)
def test_legacy_text_split_in_two_pieces_is_still_found(how: Split) -> None:
    with pytest.raises(InputRefused) as refused:
        normalize_declaration(legacy_d02(how), unit="TZ1234A", filename="D02-TS-595.xml")
    message = str(refused.value)
    assert "LaoDong 1 (STT 1), phần tử HoTen: 1 giá trị được gõ bằng bảng mã cũ" in message
    assert f"{encode_legacy(NAME, 'tcvn3')!r} — có lẽ là / probably {NAME!r}" in message


@pytest.mark.parametrize("how", SPLITS)
def test_legacy_text_in_pieces_is_refused_not_converted_in_part(
    tmp_path: Path, unit: UnitInfo, how: Split
) -> None:
    """A conversion replaces a value in the file's text; a value in pieces is refused
    (naming where) rather than reported converted and left as it was."""
    write_dossier(
        tmp_path / "inbox", unit.code, "01/2026", "01", "600", {"D02-TS-595.xml": legacy_d02(how)}
    )
    with pytest.raises(InputRefused) as refused:
        load_dossiers(tmp_path / "inbox", unit, "01/2026", convert_legacy=True)
    message = str(refused.value)
    assert "LaoDong 1 (STT 1), phần tử HoTen" in message
    assert "split by a comment, a processing instruction or a CDATA section" in message
