"""Hostile and odd PDF attachments, end to end: each dossier is refused before any
approval, naming unit, dossier and file; nothing is stored or sent."""

from __future__ import annotations

import json

import pytest

from bhxh.errors import DossierInvalid
from demo.scenario import many_units
from flows import sign_and_submit
from tests.bhxh.signing.pdf.test_pdf_hostile import HOSTILE
from tests.reliability.conftest import PERIOD, MakeWorld

CASES = ["cut in half", "password protected", "cross-reference table garbage",
         "an HTML page named .pdf", "50 000 nested arrays"]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
async def test_a_hostile_pdf_in_the_inbox_is_refused_before_any_approval(
    make_world: MakeWorld, case: str
) -> None:
    (unit,) = units = many_units(1, prefix="hpdf")
    world = await make_world(units, with_pdf=True)
    (folder,) = (world.scenario.data_dir / "inbox" / unit.unit.code / "01-2026").iterdir()
    make, _ = HOSTILE[case]
    (folder / "hop-dong-lao-dong.pdf").write_bytes(make())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["attachments"] == ["hop-dong-lao-dong.pdf"]
    with pytest.raises(DossierInvalid) as info:
        await sign_and_submit(unit.block, period=PERIOD)
    message = str(info.value)
    assert f"Đơn vị {unit.unit.code}, hồ sơ {folder.name}, tệp hop-dong-lao-dong.pdf" in message
    assert "Traceback" not in message
    assert world.count("sign_request") == 0
    assert world.submissions() == {}
    assert world.records(unit) == []
    assert not (world.scenario.data_dir / "outbox" / unit.unit.code / "01-2026").exists()
    print(f"\nHOSTILE-PDF {case}: {message.splitlines()[-1][:160]}")
