"""The demo builds a dossier from an Excel workbook it writes with Vietnamese names."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import openpyxl

from bhxh.hrdata import build_d02ts, read_workers_csv, write_demo_csv
from demo.scenario import Scenario, demo_units


def test_the_first_units_dossier_comes_from_a_workbook(tmp_path: Path) -> None:
    scenario = Scenario(demo_units(), data_dir=tmp_path)
    folders = scenario.fill_inbox("01/2026", workers=6)
    first = scenario.units[0]
    workbook = tmp_path / "csv" / f"{first.block}-1.xlsx"
    assert workbook.exists()
    others = [".csv"] * (len(scenario.units) - 1)  # the other units' HR files are CSV
    assert sorted(p.suffix for p in (tmp_path / "csv").iterdir()) == [*others, ".xlsx"]
    sheet = openpyxl.load_workbook(workbook).active
    assert sheet is not None
    names = [sheet.cell(r, 2).value for r in range(5, 11)]
    assert any(unicodedata.is_normalized("NFD", n) and not n.isascii() for n in names)  # type: ignore[arg-type]
    d02 = (folders[0] / "D02-TS-595.xml").read_bytes()
    for name in names:
        assert f"<HoTen>{unicodedata.normalize('NFC', str(name))}</HoTen>".encode() in d02
    # The same rows as the CSV route with the same seed: the workbook changes nothing else.
    csv = read_workers_csv(write_demo_csv(tmp_path / "same.csv", 6, seed=0, period="01/2026"))
    assert d02 == build_d02ts(first.unit, "01/2026", csv)
