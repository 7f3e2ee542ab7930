"""Submission as it really is, through the flows: the I-VAN named per unit, a carrier
without idempotency keys or registration read, and the export route with its receipts."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from lxml import etree
from prefect.flow_runs import aresume_flow_run

from bhxh.errors import SubmissionError
from blocks import BhxhUnit
from demo.scenario import DemoUnit, many_units
from flows import setup_remote_signing, sign_and_submit, track_results
from tests.flows.conftest import PERIOD, MakeWorld, wait_for_paused

THAI_SON = ("00040", "Công ty Cổ phần Thái Sơn")


def _with_ivan(unit: DemoUnit, code: str, name: str) -> DemoUnit:
    return dataclasses.replace(
        unit, unit=dataclasses.replace(unit.unit, ivan_code=code, ivan_name=name)
    )


def _outbox_file(world_dir: object, unit: DemoUnit, dossier: str, name: str) -> bytes:
    from pathlib import Path

    return (
        Path(str(world_dir)) / "outbox" / unit.unit.code / "01-2026" / dossier / name
    ).read_bytes()


async def test_a_unit_registered_with_thai_son_submits_envelopes_naming_00040(
    make_world: MakeWorld,
) -> None:
    (unit,) = units = [_with_ivan(many_units(1, prefix="thaison")[0], *THAI_SON)]
    world = await make_world(units)
    (row,) = await sign_and_submit(unit.block, period=PERIOD)
    assert row.route == "gateway" and row.acknowledgement and row.so_ho_so
    envelope = etree.fromstring(
        _outbox_file(world.scenario.data_dir, unit, row.dossier, "BHXHDienTu.xml")
    )
    assert envelope.findtext("NoiDung/ThongTinIVAN/MaIVAN") == "00040"
    assert envelope.findtext("NoiDung/ThongTinIVAN/TenIVAN") == THAI_SON[1]


async def test_the_gateway_refuses_an_envelope_naming_another_ivan(make_world: MakeWorld) -> None:
    # VSS has the unit with Thái Sơn; the unit block (wrongly) names MISA.
    (unit,) = units = [_with_ivan(many_units(1, prefix="wrongivan")[0], *THAI_SON)]
    world = await make_world(units)
    block = await BhxhUnit.aload_unit(unit.block)
    block.ivan_code, block.ivan_name = "00110", None
    await block.asave(unit.block, overwrite=True)
    with pytest.raises(SubmissionError, match="I-VAN 00040, không phải I-VAN 00110"):
        await sign_and_submit(unit.block, period=PERIOD)
    assert world.submissions() == {}
    (view,) = world.records(unit)
    assert view.has(view.steps[-1].step) and view.steps[-1].step.value == "failed"


def test_an_unknown_ivan_code_is_refused_naming_the_known_ones() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"99999.*00040 Thái Sơn"):
        BhxhUnit(
            unit_code="TZ1234A",
            tax_code="0101234567",
            name="Công ty ACME",
            agency_code="07906",
            credentials_block="acme",
            ivan_code="99999",
        )


async def test_a_lost_answer_without_idempotency_keys_is_never_submitted_twice(
    make_world: MakeWorld,
) -> None:
    units = many_units(1, prefix="noidem")
    world = await make_world(
        units,
        dossiers=2,
        gateway={
            "idempotency_keys": False,
            "faults": {"lose_response_after_record": {"count": 2}},
        },
    )
    summary = await sign_and_submit(units[0].block, period=PERIOD)
    assert [bool(s.acknowledgement and s.so_ho_so) for s in summary] == [True, True]
    # The gateway's own record: every dossier received once, the lost answers found by
    # the lookup by natural key.
    assert sorted(world.submissions().values()) == [1, 1]
    assert world.count("lookup") >= 2
    assert world.count("fault") >= 2


async def test_without_a_registration_read_a_known_token_registration_leads_to_the_05(
    make_world: MakeWorld,
) -> None:
    from demo.scenario import demo_units

    an_phat = demo_units()[0]  # VSS has its USB token on file
    world = await make_world([an_phat], setup=False, gateway={"registration_read": False})
    # What a person recorded: registered before, with the token.
    block = await BhxhUnit.aload_unit(an_phat.block)
    block.registration_state = "registered"
    block.registered_serial = "0123ABCD"
    await block.asave(an_phat.block, overwrite=True)
    result = await setup_remote_signing(an_phat.block, interactive=False, confirm_wait_seconds=5)
    assert result.registration_dossier is not None
    assert result.registration_dossier.startswith("05-")
    assert world.submissions() == {result.registration_dossier: 1}


async def test_without_a_registration_read_an_unknown_registration_is_one_clear_sentence(
    make_world: MakeWorld,
) -> None:
    from demo.scenario import demo_units

    an_phat = demo_units()[0]
    world = await make_world([an_phat], setup=False, gateway={"registration_read": False})
    with pytest.raises(SubmissionError, match="registration_state"):
        await setup_remote_signing(an_phat.block, interactive=False)
    assert world.count("sign_request") == 0 and world.submissions() == {}


async def test_the_export_route_writes_files_and_follows_the_receipts_file(
    make_world: MakeWorld,
) -> None:
    (unit,) = units = [dataclasses.replace(many_units(1, prefix="export")[0], route="export")]
    world = await make_world(units)
    (row,) = await sign_and_submit(unit.block, period=PERIOD)
    assert (row.status, row.route) == ("exported", "export")
    assert world.submissions() == {}  # nothing went to the gateway
    assert world.count("approved", user=unit.username) == 2
    folder = world.scenario.data_dir / "outbox" / unit.unit.code / "01-2026" / row.dossier
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["ivan"]["code"] == "00110"
    assert {f["name"] for f in manifest["files"]} == {p.name for p in folder.iterdir()} - {
        "manifest.json"
    }
    assert len(manifest["approvals"]) == 2
    # The accountant submits in the I-VAN's software and writes the receipt.
    (world.scenario.data_dir / "outbox" / "receipts.csv").write_text(
        f"\ufeffdossier_id,so_ho_so,dot,status\n{row.dossier},01234/2026/07906,1,numbered\n",
        encoding="utf-8",
    )
    table = await track_results(units=[unit.block], max_wait_seconds=0, poll_seconds=0.1)
    assert [(t["dossier"], t["so_ho_so"], t["status"]) for t in table] == [
        (row.dossier, "01234/2026/07906", "numbered")
    ]
    (record,) = world.records(unit)
    assert record.has(record.steps[-1].step) and record.steps[-1].step.value == "receipt"


async def test_a_manual_export_run_asks_for_the_receipt_the_ivan_gave(
    make_world: MakeWorld,
) -> None:
    (unit,) = units = [dataclasses.replace(many_units(1, prefix="exphand")[0], route="export")]
    world = await make_world(units)
    run = asyncio.create_task(sign_and_submit(unit.block, period=PERIOD, interactive=True))
    flow_run_id = await wait_for_paused("sign_and_submit", within=90)
    await aresume_flow_run(flow_run_id, run_input={"so_ho_so": "04567/2026/07906", "dot": 2})
    (row,) = await asyncio.wait_for(run, 120)
    assert row.status == "receipt"
    (record,) = world.records(unit)
    receipt = record.last(record.steps[-1].step)
    assert receipt is not None and receipt.data["so_ho_so"] == "04567/2026/07906"
    assert receipt.data["dot"] == 2
