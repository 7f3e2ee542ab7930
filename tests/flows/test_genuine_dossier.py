"""A dossier exported by other software, shaped like the files I-VANs really send (no unit
header, every field, .NET's namespaces and empty elements), put in the inbox by hand, goes
through sign_and_submit to a dossier VSS (the sandbox gateway) accepts."""

from __future__ import annotations

import asyncio
import json

from bhxh.documents import read_envelope
from bhxh.submission import GatewayClient
from demo.scenario import many_units
from flows import sign_and_submit
from tests.bhxh.intake.input_support import FIXTURES
from tests.flows.conftest import PERIOD, MakeWorld

GENUINE = FIXTURES / "genuine"


async def test_a_genuine_shaped_d02ts_from_the_inbox_is_accepted(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="genuine")
    world = await make_world(units, dossiers=0)
    folder = world.scenario.data_dir / "inbox" / unit.unit.code / "01-2026" / "01-tu-phan-mem"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"procedure": "600"}), encoding="utf-8")
    for form in ("D02-TS", "TK1-TS"):
        name = f"{form}-595.xml"
        (folder / name).write_bytes((GENUINE / name).read_bytes())

    # No wait for the receipt here: the test reads the gateway itself below.
    (summary,) = await sign_and_submit(unit.block, period=PERIOD, receipt_wait_seconds=0)
    assert summary.status == "submitted", summary
    assert world.count("approved", user=unit.username) == 2
    (dossier_id,) = world.submissions()

    assert world.sandbox.gateway_url
    async with GatewayClient(world.sandbox.gateway_url, world.scenario.gateway_key) as gateway:
        status = await gateway.status(dossier_id)
        for _ in range(50):
            if status.final:
                break
            await asyncio.sleep(0.1)
            status = await gateway.status(dossier_id)
    assert (status.status, status.outcome) == ("accepted", "accepted"), status
    assert status.so_ho_so

    outbox = world.scenario.data_dir / "outbox" / unit.unit.code / "01-2026" / dossier_id
    info = read_envelope((outbox / "BHXHDienTu.xml").read_bytes())
    assert (info.unit_code, info.tax_code, info.period) == (
        unit.unit.code,
        unit.unit.tax_code,
        PERIOD,
    )
    d02 = next(f for f in info.files if f.form == "D02-TS").content
    assert "Đoàn Thị Mỹ Duyên".encode() in d02 and b"<SignatureValue>" in d02
    assert b"<ThongTinKhac>" in d02 and b"KyKeKhai" not in d02
