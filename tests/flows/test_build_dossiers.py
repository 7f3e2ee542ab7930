"""build_dossiers: the HR files a firm drops in a unit's folder become dossiers in the
unit's inbox, by the command's builders; a refused cell is named, Vietnamese first, in
the run's state, its log and its artifact, and the other files are still built."""

from __future__ import annotations

import json

from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from bhxh.hrdata.fake import write_demo_csv, write_demo_workbook
from demo.scenario import many_units
from flows import build_dossiers
from tests.flows.conftest import PERIOD, MakeWorld


async def test_hr_files_become_dossiers_and_a_refused_cell_is_named(
    make_world: MakeWorld,
) -> None:
    (unit,) = many_units(1, prefix="hrfiles")
    world = await make_world([unit], setup=False, dossiers=0)
    data = world.scenario.data_dir
    folder = data / "hr" / unit.unit.code / "01-2026"
    folder.mkdir(parents=True)
    write_demo_workbook(folder / "Lương tháng 01.xlsx", 3, seed=7, period=PERIOD)
    bad = write_demo_csv(folder / "bo-sung.csv", 2, seed=8, period=PERIOD)
    lines = bad.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[2].split(",")
    cells[5] = "ba mươi triệu"  # TienLuong of the second worker: not a number
    lines[2] = ",".join(cells)
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    state = await build_dossiers(unit.block, period=PERIOD, return_state=True)
    assert state.is_failed()
    message = state.message or ""
    assert message.startswith(f"{unit.unit.code}: Có tệp nhân sự bị từ chối"), message
    assert "bo-sung.csv" in message and "TienLuong" in message and "1/2 tệp đã lập" in message
    inbox = data / "inbox" / unit.unit.code / "01-2026"
    manifest = json.loads((inbox / "luong-thang-01" / "manifest.json").read_text("utf-8"))
    assert manifest["procedure"] == "600" and manifest["unit"] == unit.unit.code
    assert not (inbox / "bo-sung").exists()  # nothing of a refused file is written
    run_id = state.state_details.flow_run_id
    async with get_client() as client:
        (report,) = [
            a
            for a in await client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
            )
            if (a.key or "").startswith("lap-ho-so")
        ]
    shown = str(report.data)
    assert "✅ Đã lập / built" in shown and "⛔ Bị từ chối / refused" in shown
    assert "TienLuong" in shown

    # Fixed (the file taken away), the run completes and says what it built.
    bad.unlink()
    state = await build_dossiers(unit.block, period=PERIOD, return_state=True)
    assert state.is_completed()
    assert (state.message or "").startswith(
        f"{unit.unit.code} kỳ 01/2026: đã lập 1 hồ sơ vào hộp thư (luong-thang-01)"
    )
