"""Loading a period's inbox into the store where the files are (``python -m
deployments.inbox``), so that a worker on another machine continues the dossiers."""

from __future__ import annotations

from bhxh.intake import write_dossier
from bhxh.pipeline import open_store
from bhxh.settings import Settings
from demo.scenario import demo_units
from deployments.inbox import load_period, main
from tests.flows.conftest import PERIOD, MakeWorld


async def test_the_inbox_is_loaded_once_and_a_refused_unit_stores_nothing(
    make_world: MakeWorld,
) -> None:
    an_phat, binh_minh, *_ = demo_units()
    world = await make_world([an_phat, binh_minh], dossiers=1, setup=False)
    settings = Settings()
    store = open_store(settings)

    first = await load_period(PERIOD, [an_phat.block, binh_minh.block], settings)
    assert [(r.unit, r.dossiers, r.refused) for r in first] == [
        (an_phat.block, 1, ""),
        (binh_minh.block, 1, ""),
    ]
    again = await load_period(PERIOD, [an_phat.block, binh_minh.block], settings)
    assert [r.dossiers for r in again] == [1, 1]
    assert len(store.list(an_phat.unit.code, PERIOD)) == 1  # nothing opened twice

    # A broken file in binh-minh's inbox: refused naming the unit, nothing more stored.
    write_dossier(
        world.scenario.data_dir / "inbox",
        binh_minh.unit.code,
        PERIOD,
        "hong",
        "600",
        {"D02-TS-595.xml": b"<D02-TS><broken"},
    )
    refused = await load_period(PERIOD, [binh_minh.block], settings)
    assert refused[0].dossiers == 0
    assert binh_minh.unit.code in refused[0].refused
    assert len(store.list(binh_minh.unit.code, PERIOD)) == 1


def test_a_wrong_period_is_one_sentence(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["2026-01"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Lỗi / error:") and "Traceback" not in err
