"""The reports a person keeps (bhxh.overview): CSV with a BOM, .xlsx, no formula ever."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bhxh.overview import (
    Overview,
    UnitFacts,
    UnitState,
    WarningLedger,
    build_overview,
    neutralise,
    report_name,
    write_reports,
)
from tests.bhxh.overview.journal import business_steps, journal, vss

PERIOD = "01/2026"
NOW = dt.datetime(2026, 2, 10, 3, 0, tzinfo=dt.UTC)
HOSTILE_NAME = '=HYPERLINK("http://127.0.0.1/x","Công ty")'
HOSTILE_MESSAGE = "-2+3 @SUM(A1:A9) Sai mã số BHXH"


def _overview() -> Overview:
    unit = UnitFacts(
        "TA0001A",
        HOSTILE_NAME,
        ivan_code="00110",
        certificate_serial="5A3F",
        certificate_not_after=NOW + dt.timedelta(days=3),
    )
    refused = vss("rejected", outcome="rejected", messages=(HOSTILE_MESSAGE,))
    accepted = vss("accepted", outcome="accepted", messages=("Hồ sơ đã được giải quyết",))
    views = (
        journal("TA0001A", PERIOD, "600", *business_steps(result=refused)),
        journal("TA0001A", PERIOD, "602", *business_steps(result=accepted), name="+02-dieu-chinh"),
    )
    other = UnitFacts("TB0002B", "Công ty CP Bình Minh")
    return build_overview(PERIOD, [UnitState(unit, views=views), UnitState(other)], now=NOW)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+84901234567", "'+84901234567"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Công ty An Phát", "Công ty An Phát"),
        (3, 3),
    ],
)
def test_a_cell_that_would_start_a_formula_is_neutralised(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_csv_is_utf8_with_a_bom_and_every_dossier_on_a_line(tmp_path: Path) -> None:
    files = write_reports(_overview(), tmp_path / "reports")
    assert files.csv.name == f"{report_name(PERIOD)}.csv" == "tong-quan-01-2026.csv"
    raw = files.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["Thủ tục / procedure"] for r in rows] == ["600", "602"]
    refused, accepted = rows
    assert refused["Tên đơn vị / unit name"] == "'" + HOSTILE_NAME
    assert refused["Thông báo / message"] == "'" + HOSTILE_MESSAGE
    assert refused["next action"] == "refused: " + HOSTILE_MESSAGE
    assert accepted["Tên hồ sơ / dossier name"] == "'+02-dieu-chinh"
    assert accepted["next action"] == "nothing to do"
    assert accepted["Việc cần làm"] == "Không cần làm gì"
    assert accepted["Số hồ sơ / soHoSo"] == "00012/2026/07906"
    warnings = list(csv.DictReader(io.StringIO(files.warnings_csv.read_text("utf-8-sig"))))
    assert [w["Loại / kind"] for w in warnings] == ["certificate-expiring"]


def test_xlsx_holds_text_never_a_formula(tmp_path: Path) -> None:
    files = write_reports(_overview(), tmp_path)
    with zipfile.ZipFile(files.xlsx) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        assert len(sheets) == 3
        for name in sheets:
            assert b"<f>" not in book.read(name) and b"<f " not in book.read(name)
    workbook = load_workbook(files.xlsx)
    assert workbook.sheetnames == ["Hồ sơ", "Cảnh báo", "Đơn vị"]
    dossiers = workbook["Hồ sơ"]
    header = [c.value for c in dossiers[1]]
    name_cell = dossiers.cell(row=2, column=header.index("Tên đơn vị / unit name") + 1)
    assert name_cell.value == HOSTILE_NAME  # shown as typed, stored as text
    assert name_cell.data_type == "s" and name_cell.quotePrefix
    message = dossiers.cell(row=2, column=header.index("Thông báo / message") + 1)
    assert message.value == HOSTILE_MESSAGE and message.quotePrefix
    units = [row[0] for row in workbook["Đơn vị"].iter_rows(min_row=2, max_row=3, values_only=True)]
    # The units that need the accountant first: TB0002B has no certificate chosen.
    assert units == ["TB0002B", "TA0001A"]
    statuses = [r[2] for r in workbook["Đơn vị"].iter_rows(min_row=2, max_row=3, values_only=True)]
    assert statuses == ["Chưa chọn chứng thư / no certificate", "Bị từ chối / refused"]


def test_reports_are_replaced_whole_when_the_overview_changes(tmp_path: Path) -> None:
    first = write_reports(_overview(), tmp_path)
    smaller = dataclasses.replace(_overview(), rows=_overview().rows[:1])
    again = write_reports(smaller, tmp_path)
    assert first.csv == again.csv
    assert len(again.csv.read_text("utf-8-sig").strip().splitlines()) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_warning_is_announced_once_a_day(tmp_path: Path) -> None:
    warnings = _overview().warnings
    ledger = WarningLedger(tmp_path)
    today = dt.date(2026, 2, 10)
    assert ledger.due(warnings, today) == list(warnings)
    assert ledger.due(warnings, today) == []
    assert WarningLedger(tmp_path).due(warnings, today) == []  # kept on disk
    assert ledger.due(warnings, today + dt.timedelta(days=1)) == list(warnings)
