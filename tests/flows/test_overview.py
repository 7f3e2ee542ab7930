"""The period overview through the flows: the artifact per period, the reports, the events.

On Prefect's test harness (a temporary API that stores events and runs the event
services) against the sandbox over real HTTP: the demo's own run, then a month with one
refusal, one supplement request and one certificate about to expire.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from typing import Any

from prefect import get_client
from prefect.artifacts import Artifact
from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter

from bhxh.periods import VN_TZ, today_vn
from bhxh.pipeline import Step
from blocks import BhxhUnit
from demo.__main__ import _run as run_demo
from demo.scenario import demo_units, export_demo_unit, many_units
from flows import (
    build_period_overview,
    monthly_submission,
    overview_key,
    sign_and_submit,
    track_results,
)
from tests.flows.conftest import PERIOD, MakeWorld


async def overview_markdown(period: str) -> str:
    artifact = await Artifact.aget(overview_key(period))
    assert artifact is not None, f"no overview artifact for {period}"
    assert isinstance(artifact.data, str)
    return artifact.data


async def bhxh_events(
    since: dt.datetime, *, until: set[str] | None = None, within: float = 30
) -> list[Any]:
    """The ``bhxh.*`` events stored since ``since`` (waiting until every name of
    ``until`` is among them: the events travel through a queue and a persister)."""
    deadline = asyncio.get_running_loop().time() + within
    async with get_client() as client:
        while True:
            event_filter = EventFilter(
                occurred=EventOccurredFilter(
                    since=since,
                    until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1),
                ),
                event=EventNameFilter(prefix=["bhxh."]),
            )
            page = await client.read_events(filter=event_filter, limit=50)
            events = list(page.events)
            while page.next_page:
                page = await client.read_events_page(page.next_page)
                events += page.events
            names = {e.event for e in events}
            if not until or until <= names or asyncio.get_running_loop().time() > deadline:
                return events
            await asyncio.sleep(0.5)


def _on_the_phone(records: list[Any]) -> bool:
    """A round's request journalled with the provider's transaction id."""
    for record in records:
        entry = record.last(Step.ROUND1_REQUESTED)
        if entry is not None and entry.data.get("transaction_id"):
            return True
    return False


def _rows_of(markdown: str, needle: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|") and needle in line]


async def test_after_the_demo_each_period_has_one_overview_with_every_dossier_done(
    make_world: MakeWorld,
) -> None:
    units = [*demo_units(), export_demo_unit()]
    started = dt.datetime.now(dt.UTC)
    world = await make_world(units, setup=False)
    await run_demo(world.scenario, world.sandbox.misa_url, world.sandbox.gateway_url, PERIOD)

    store_views = {
        u.unit.code: world.records(u) for u in units
    }  # the period's dossiers, one 600 per unit
    assert all(len(v) == 1 for v in store_views.values())
    markdown = await overview_markdown(PERIOD)
    for unit in units:
        (record,) = store_views[unit.unit.code]
        (line,) = _rows_of(markdown, record.id)
        receipt = record.last(record.steps[-1].step)
        assert receipt is not None
        assert "Không cần làm gì** / nothing to do" in line, line
        so_ho_so = next(
            e.data["so_ho_so"] for e in reversed(record.steps) if e.data.get("so_ho_so")
        )
        assert so_ho_so.replace("/", "") in line.replace("\\", "").replace("/", "")
        assert unit.unit.code in line
    assert f"Đã được chấp nhận | accepted | {len(units)} |" in markdown
    # The 05 change An Phát's setup submitted lives in its own month: its own overview.
    (an_phat, *_) = units
    (change,) = [r for r in world.records(an_phat, _this_month()) if r.procedure == "05"]
    this_month = await overview_markdown(_this_month())
    (line,) = _rows_of(this_month, change.id)
    assert "nothing to do" in line
    for unit in units:
        assert f"**{unit.unit.code}**" in markdown and f"**{unit.unit.code}**" in this_month
    demo_codes = {u.unit.code for u in units}
    assert not [w for w in _warning_lines(markdown) if any(c in w for c in demo_codes)]

    # The reports next to the outbox say the same.
    reports = world.scenario.data_dir / "reports"
    text = (reports / "tong-quan-01-2026.csv").read_text(encoding="utf-8-sig")
    lines = [r for r in csv.DictReader(io.StringIO(text)) if r["Mã đơn vị / unit"] in demo_codes]
    assert len(lines) == len(units) and {r["next action"] for r in lines} == {"nothing to do"}
    assert all(r["Số hồ sơ / soHoSo"] for r in lines)
    assert (reports / "tong-quan-01-2026.xlsx").stat().st_size > 0

    # An event for every state the demo's dossiers passed through.
    events = await bhxh_events(started, until=_DEMO_EVENTS)
    names = {e.event for e in events if e.resource.get("bhxh.unit") in demo_codes}
    assert names >= _DEMO_EVENTS


_DEMO_EVENTS = {
    "bhxh.approval.requested",
    "bhxh.approval.approved",
    "bhxh.dossier.signed",
    "bhxh.dossier.submitted",
    "bhxh.dossier.exported",
    "bhxh.dossier.numbered",
    "bhxh.dossier.accepted",
}


def _this_month() -> str:
    today = dt.date.today()
    return f"{today.month:02d}/{today.year}"


def _warning_lines(markdown: str) -> list[str]:
    section = markdown.split("## Cảnh báo · Warnings", 1)[1].split("## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("- ")]


async def test_a_refusal_a_supplement_and_an_expiring_certificate_show_what_to_do(
    make_world: MakeWorld,
) -> None:
    refused, supplement, expiring = units = many_units(3, prefix="ovw", approve_after=0.2)
    codes = [u.unit.code for u in units]
    started = dt.datetime.now(dt.UTC)
    world = await make_world(
        units,
        gateway={"outcomes": {"by_unit": {codes[0]: "rejected", codes[1]: "supplement"}}},
    )
    # setup recorded the certificate; this one's ends in 12 calendar days in Vietnam (the
    # warning counts days there): at noon, Vietnam time, so that the count does not
    # depend on when the test runs (now + 12 days + 1 hour was 13 days after 23:00 there).
    block = await BhxhUnit.aload_unit(expiring.block)
    day = today_vn() + dt.timedelta(days=12)
    ends = dt.datetime.combine(day, dt.time(12, 0), tzinfo=VN_TZ).astimezone(dt.UTC)
    block.certificate_not_after = ends
    await block.asave(expiring.block, overwrite=True)

    await monthly_submission(period=PERIOD, units=[u.block for u in units])
    await track_results(
        period=PERIOD, units=[u.block for u in units], max_wait_seconds=10, poll_seconds=0.3
    )

    markdown = await overview_markdown(PERIOD)
    (refused_row,) = world.records(refused)
    (supplement_row,) = world.records(supplement)
    (line,) = _rows_of(markdown, refused_row.id)
    assert "refused: Hồ sơ bị từ chối sau khi xử lý" in line, line
    (line,) = _rows_of(markdown, supplement_row.id)
    assert "supplement requested: Đề nghị đơn vị bổ sung hồ sơ" in line, line
    warnings = _warning_lines(markdown)
    (expiry,) = [w for w in warnings if codes[2] in w]
    assert "Chứng thư số sắp hết hạn / certificate expiring" in expiry
    assert "(12 day(s) left)" in expiry
    local_end = ends.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert f"{local_end:%d/%m/%Y}" in expiry
    # 01/2026 was due on 28/02/2026: the two units whose dossiers are not accepted are late.
    overdue = [w for w in warnings if "contributions overdue" in w]
    assert sorted(c for c in codes if any(c in w for w in overdue)) == codes[:2]

    events = await bhxh_events(
        started,
        until={
            "bhxh.dossier.rejected",
            "bhxh.dossier.supplement-requested",
            "bhxh.warning.certificate-expiring",
        },
    )
    by_name: dict[str, list[Any]] = {}
    for event in events:
        by_name.setdefault(event.event, []).append(event)
    (rejection,) = [
        e for e in by_name["bhxh.dossier.rejected"] if e.resource["bhxh.dossier"] == refused_row.id
    ]
    assert rejection.resource["bhxh.dossier"] == refused_row.id
    assert rejection.resource["bhxh.period"] == PERIOD
    assert rejection.resource["bhxh.procedure"] == "600"
    assert rejection.payload["next_action"] == "refused: Hồ sơ bị từ chối sau khi xử lý"
    assert any(r.role == "flow-run" for r in rejection.related)
    (request,) = [
        e
        for e in by_name["bhxh.dossier.supplement-requested"]
        if e.resource["bhxh.dossier"] == supplement_row.id
    ]
    assert request.payload["message"] == "Đề nghị đơn vị bổ sung hồ sơ"
    # Announced once today, though monthly_submission and track_results both published.
    (expiry_event,) = [
        e
        for e in by_name["bhxh.warning.certificate-expiring"]
        if e.resource["bhxh.unit"] == codes[2]
    ]
    assert expiry_event.payload["days"] == 12
    ours = {r.id for u in units for r in world.records(u)}
    approvals = [e for e in by_name["bhxh.approval.approved"] if e.resource["bhxh.dossier"] in ours]
    assert len(approvals) == 6  # two per unit


async def test_a_unit_waiting_for_the_phone_is_told_whose_phone(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="ovwphone", approve_after=3.0)
    world = await make_world(units)
    run = asyncio.create_task(
        sign_and_submit(unit.block, period=PERIOD, interactive=False, receipt_wait_seconds=0)
    )
    deadline = asyncio.get_running_loop().time() + 60
    while not _on_the_phone(world.records(unit)):
        assert asyncio.get_running_loop().time() < deadline, "no signing request was sent"
        await asyncio.sleep(0.1)
    overview = await build_period_overview(PERIOD)
    (row,) = [r for r in overview.rows if r.unit == unit.unit.code]
    assert row.status == "waiting_approval"
    assert row.action_en == f"approve on the phone of {unit.username}"
    await asyncio.wait_for(run, 120)
    markdown = await overview_markdown(PERIOD)
    (line,) = _rows_of(markdown, row.dossier)
    assert "waiting for VSS" in line, line  # submitted; its receipt comes with track_results
