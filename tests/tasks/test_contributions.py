"""The C12-TS read task: from the carrier when it hands notices over, else from the file a
person dropped in the unit's c12 folder (the outbox, for a carrier without the read)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bhxh.submission import C12Document, Capabilities
from tasks.contributions import read_contribution_notice, reads_notices

DOC = {"maCqBhxh": "07906", "tenCqBhxh": "BHXH", "c12s": []}


class Carrier:
    """A carrier adapter with the notice call, offering it or not."""

    name = "gateway"

    def __init__(self, offers: bool) -> None:
        self.capabilities = Capabilities(True, True, True, notice_read=offers)
        self.asked = 0

    async def contribution_notice(self, unit_code: str, period: str) -> C12Document | None:
        self.asked += 1
        return C12Document(unit_code, period, DOC, "carrier", self.name)


def _session(port: Any, outbox: Path) -> Any:
    unit = SimpleNamespace(unit_code="TZ9001A", outbox_path=lambda settings=None: outbox)
    return SimpleNamespace(port=port, unit=unit, settings=None)


async def test_a_carrier_that_hands_notices_over_is_asked(tmp_path: Path) -> None:
    carrier = Carrier(offers=True)
    assert reads_notices(carrier)
    document = await read_contribution_notice.fn(_session(carrier, tmp_path), "01/2026")
    assert document is not None and document.origin == "carrier" and carrier.asked == 1


async def test_a_carrier_without_the_read_falls_back_to_the_dropped_file(tmp_path: Path) -> None:
    carrier = Carrier(offers=False)
    assert not reads_notices(carrier)
    session = _session(carrier, tmp_path)
    assert await read_contribution_notice.fn(session, "01/2026") is None
    folder = tmp_path / "TZ9001A" / "01-2026" / "c12"
    folder.mkdir(parents=True)
    (folder / "C12-TS.json").write_text(json.dumps(DOC), encoding="utf-8")
    document = await read_contribution_notice.fn(session, "01/2026")
    assert document is not None and document.origin == "file"
    assert document.source.endswith("TZ9001A/01-2026/c12/C12-TS.json")
    assert carrier.asked == 0
