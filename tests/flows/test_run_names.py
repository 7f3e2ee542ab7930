"""Runs a person can find: named by unit and period, tagged by unit and period."""

from __future__ import annotations

from prefect import flow, get_client

from demo.scenario import many_units
from flows import track_results
from flows._naming import name_this_run, run_name, run_tags
from tests.flows.conftest import PERIOD, MakeWorld


def test_names_and_tags_say_unit_and_period() -> None:
    assert run_name(["an-phat"], "12/2026") == "an-phat-12-2026"
    assert run_name(["an-phat", "binh-minh"], "12/2026") == "2-don-vi-12-2026"
    assert run_name(["an-phat"], None) == "an-phat-moi-ky"
    assert run_tags(["an-phat"], "12/2026") == ["unit:an-phat", "period:12-2026"]


async def test_a_run_renames_and_tags_itself_keeping_its_tags() -> None:
    @flow(name="named_run_probe")
    async def probe() -> str:
        from prefect.runtime import flow_run

        await name_this_run(["an-phat"], "12/2026")
        return str(flow_run.id)

    run_id = await probe()
    async with get_client() as client:
        run = await client.read_flow_run(run_id)
    assert run.name == "an-phat-12-2026"
    assert {"unit:an-phat", "period:12-2026"} <= set(run.tags)


async def test_track_results_is_named_by_its_unit_and_period(make_world: MakeWorld) -> None:
    (unit,) = units = many_units(1, prefix="runname")
    await make_world(units, setup=False)
    state = await track_results(
        period=PERIOD, units=[unit.block], max_wait_seconds=0, return_state=True
    )
    async with get_client() as client:
        run = await client.read_flow_run(state.state_details.flow_run_id)
    month, year = PERIOD.split("/")
    assert run.name == f"{unit.block}-{month}-{year}"
    assert {f"unit:{unit.block}", f"period:{month}-{year}"} <= set(run.tags)
