"""reconcile_contributions on Prefect's test harness against the sandbox over real HTTP:
two gateway units (one paid in full, one a worker's contribution short) and an export
unit whose notice the accountant drops as a file; the month view, the reports, the
warnings and their events; a hostile dropped file refused, naming the cell, nothing
written for its unit."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import pytest
from prefect.artifacts import Artifact

from bhxh.overview import read_contribution_status, reconciliation_path
from bhxh.settings import Settings
from bhxh.submission import NOTICE_JSON, NOTICE_XLSX
from demo.contributions import drop_notice, inbox_dues
from demo.scenario import many_units
from flows import build_period_overview, monthly_submission, reconcile_contributions
from flows.errors import NoticesRefused
from sandbox.gateway import PaymentConfig
from tests.flows.conftest import PERIOD, MakeWorld
from tests.flows.test_overview import bhxh_events, overview_markdown


@pytest.mark.flaky(reruns=1)  # the warning event is read back from the API's event stream
async def test_a_month_reconciled_shows_due_paid_difference_and_warns_the_short_unit(
    make_world: MakeWorld,
) -> None:
    paid_unit, short_unit = many_units(2, prefix="rec")
    export_unit = dataclasses.replace(many_units(1, prefix="recexp", start=2)[0], route="export")
    units = [paid_unit, short_unit, export_unit]
    world = await make_world(units)
    dues = inbox_dues(world.scenario, PERIOD)
    await monthly_submission(period=PERIOD, units=[u.block for u in units])
    gateway = world.sandbox.gateway_app.state.gateway
    full = dues[paid_unit.unit.code].due["cong"]
    gateway.record_payment(
        paid_unit.unit.code, PaymentConfig(soUnc="1", ngayNop="20/01/2026", soTien=full)
    )
    worker = dues[short_unit.unit.code].workers[-1]
    owed = dues[short_unit.unit.code].due["cong"]
    gateway.record_payment(
        short_unit.unit.code,
        PaymentConfig(soUnc="2", ngayNop="21/01/2026", soTien=owed - worker.column("cong")),
    )
    # The export unit's accountant drops a workbook with a formula in it first.
    folder = world.scenario.data_dir / "outbox" / export_unit.unit.code / "01-2026" / "c12"
    folder.mkdir(parents=True)
    (folder / NOTICE_XLSX).write_bytes(_workbook_with_a_formula())
    outbox = Settings().outbox_dir
    since = dt.datetime.now(dt.UTC)

    with pytest.raises(NoticesRefused) as refused:
        await reconcile_contributions(period=PERIOD, units=[u.block for u in units])
    assert f"{export_unit.unit.code}: Đơn vị {export_unit.unit.code}, tệp " in str(refused.value)
    assert "dòng 9, cột G" in str(refused.value) and "công thức" in str(refused.value)
    assert not reconciliation_path(outbox, export_unit.unit.code, PERIOD).exists()
    # The other units were reconciled all the same.
    assert read_contribution_status(outbox, paid_unit.unit.code, PERIOD) is not None

    (folder / NOTICE_XLSX).unlink()
    drop_notice(
        world.scenario, export_unit, PERIOD, dues[export_unit.unit.code], dt.date(2026, 1, 25)
    )
    assert (folder / NOTICE_JSON).exists()
    outcomes = await reconcile_contributions(period=PERIOD, units=[u.block for u in units])
    by_unit = {o.unit: o for o in outcomes}
    assert by_unit[paid_unit.unit.code].outcome == "matched"
    assert by_unit[paid_unit.unit.code].difference == 0
    short = by_unit[short_unit.unit.code]
    assert (short.outcome, short.due, short.difference) == ("short", owed, -worker.column("cong"))
    assert short.deadline == "2026-02-28"
    assert by_unit[export_unit.unit.code].outcome == "matched"

    status = read_contribution_status(outbox, short_unit.unit.code, PERIOD)
    assert status is not None and status.source == "gateway"
    exported = read_contribution_status(outbox, export_unit.unit.code, PERIOD)
    assert exported is not None and exported.source.endswith("01-2026/c12/C12-TS.json")

    # The unit's artifact: due / paid / difference, the explained lines, Vietnamese first.
    artifact = await Artifact.aget(f"doi-chieu-{short_unit.unit.code.lower()}-01-2026")
    assert artifact is not None and isinstance(artifact.data, str)
    assert "| Phải đóng / due | Đã nộp / paid | Chênh lệch / difference |" in artifact.data
    assert "còn thiếu" in artifact.data and "short" in artifact.data

    # The month view reads what was written down, without calling anyone.
    overview = await build_period_overview(PERIOD)
    rows = {u.unit: u for u in overview.units}
    assert rows[short_unit.unit.code].contributions == status
    (warning,) = [
        w for w in overview.warnings if w.unit == short_unit.unit.code and w.kind == "payment-due"
    ]
    assert warning.message_vi.startswith(f"{short_unit.unit.code}: kỳ {PERIOD} còn thiếu ")
    assert "hạn đóng 28/02/2026" in warning.message_vi
    markdown = await overview_markdown(PERIOD)
    assert "## Đóng tiền · Contributions" in markdown
    assert "thiếu / short" in markdown

    # The reports carry the amounts; the warning became an event.
    reports = Settings().reports_dir
    text = (reports / "tong-quan-01-2026-dong-tien.csv").read_text("utf-8-sig")
    lines = {r["Mã đơn vị / unit"]: r for r in csv.DictReader(io.StringIO(text))}
    assert lines[short_unit.unit.code]["Chênh lệch / difference (VND)"] == str(
        -worker.column("cong")
    )
    assert lines[paid_unit.unit.code]["Phải đóng / due (VND)"] == str(full)
    events = await bhxh_events(since, until={"bhxh.warning.payment-due"})
    assert any(
        e.event == "bhxh.warning.payment-due"
        and e.resource.get("bhxh.unit") == short_unit.unit.code
        for e in events
    )


def _workbook_with_a_formula() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["maCqBhxh", "07906"])
    sheet.append(["tenCqBhxh", "Bảo hiểm xã hội cơ sở"])
    sheet.append([])
    sheet.append(["stt", "noiDung", "bhxh", "bhyt", "bhtn", "bhtnld", "cong"])
    for stt in ("A", "B", "B.1", "B.2"):
        sheet.append([stt, "...", 1, 1, 1, 1, None])
    sheet.append(["B.3", "Phải đóng", 100, 18, 8, 2, "=C9+D9+E9+F9"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
