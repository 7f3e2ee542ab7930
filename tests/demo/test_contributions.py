"""The demo's closed month: Bình Minh pays one worker's contribution short, the others in
full; the export unit's dropped notice is the portal's shape and counts its dossier."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bhxh.contributions import parse_c12
from demo.contributions import SHORT_UNIT, drop_notice, inbox_dues, plan_payments
from demo.scenario import Scenario, demo_units, export_demo_unit

PERIOD = "01/2026"
DAY = dt.date(2026, 1, 20)


def _scenario(tmp_path: Path, pki_dir: Path) -> Scenario:
    scenario = Scenario([*demo_units(), export_demo_unit()], data_dir=tmp_path, pki_dir=pki_dir)
    scenario.fill_inbox(PERIOD, dossiers=1, workers=4, with_tk1=False, workbooks=0)
    return scenario


def test_the_short_unit_pays_exactly_one_workers_contribution_less(
    tmp_path: Path, pki_dir: Path
) -> None:
    scenario = _scenario(tmp_path, pki_dir)
    dues = inbox_dues(scenario, PERIOD)
    short = plan_payments(scenario, dues, DAY)
    by_block = {u.block: u.unit.code for u in scenario.units}
    code = by_block[SHORT_UNIT]
    worker = dues[code].workers[-1]
    assert short[code] == worker.column("cong") > 0
    paid = sum(t["soTien"] for t in scenario.payments[code])
    assert paid == dues[code].due["cong"] - worker.column("cong")
    for block in ("an-phat", "cuu-long"):
        other = by_block[block]
        assert short[other] == 0
        assert sum(t["soTien"] for t in scenario.payments[other]) == dues[other].due["cong"]
    assert len(scenario.payments[by_block["cuu-long"]]) == 2  # two transfers
    assert by_block["dong-a"] not in scenario.payments  # the export unit pays outside
    gateway = scenario.sandbox_config().gateway
    assert gateway is not None
    units = {u.unit_code: u for u in gateway.units}
    assert [p.model_dump() for p in units[code].payments] == scenario.payments[code]


def test_the_export_units_dropped_notice_is_the_portals_answer(
    tmp_path: Path, pki_dir: Path
) -> None:
    scenario = _scenario(tmp_path, pki_dir)
    dues = inbox_dues(scenario, PERIOD)
    unit = next(u for u in scenario.units if u.route == "export")
    path = drop_notice(scenario, unit, PERIOD, dues[unit.unit.code], DAY)
    assert path == tmp_path / "outbox" / unit.unit.code / "01-2026" / "c12" / "C12-TS.json"
    notice = parse_c12(json.loads(path.read_text("utf-8")), period=PERIOD, unit=unit.unit.code)
    assert notice.due == notice.paid == dues[unit.unit.code].due["cong"]
    assert notice.headcount == dues[unit.unit.code].headcount == 4
    assert [p.ngay_nop for p in notice.payments] == [DAY]
