"""The month view's contributions: due, paid, difference and deadline per unit, read from
what reconcile_contributions wrote down; the warnings (Vietnamese first); the reports;
the reconciliation over the store (a refused notice writes nothing)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bhxh.contributions import C12NoticeInvalid
from bhxh.overview import (
    ContributionStatus,
    ExplainedLine,
    Limits,
    UnitFacts,
    UnitState,
    build_overview,
    read_contribution_status,
    read_unit_state,
    reconcile_notice,
    reconciliation_path,
    write_contribution_status,
    write_reports,
)
from bhxh.pipeline import DossierStore, Pipeline
from bhxh.submission import C12Document

PERIOD = "01/2026"
UNIT = UnitFacts("TA0001A", "Công ty TNHH An Phát", ivan_code="00110")
OTHER = UnitFacts("TB0002B", "Công ty CP Bình Minh", ivan_code="00110")


def _status(unit: str, due: int, paid: int, *lines: ExplainedLine) -> ContributionStatus:
    return ContributionStatus(
        unit=unit,
        period=PERIOD,
        due=due,
        paid=paid,
        deadline=dt.date(2026, 2, 28),
        computed_due=due,
        headcount=3,
        computed_headcount=3,
        source="gateway",
        checked_at=dt.datetime(2026, 2, 1, 3, tzinfo=dt.UTC),
        lines=lines,
    )


SHORT = _status(
    UNIT.code,
    10_848_000,
    7_848_000,
    ExplainedLine(
        "Đơn vị TA0001A: phải nộp 10.848.000 đồng, đã nộp 7.848.000 đồng, còn thiếu 3.000.000 "
        "đồng; hạn nộp 28/02/2026.",
        "Unit TA0001A: 10,848,000 VND due, 7,848,000 VND paid, 3,000,000 VND short.",
        "C",
        -3_000_000,
    ),
)
PAID = _status(OTHER.code, 6_400_000, 6_400_000)


_PAYING = ("underpaid", "payment-due")


def _overview(now: dt.datetime) -> object:
    return build_overview(
        PERIOD,
        [UnitState(UNIT, contributions=SHORT), UnitState(OTHER, contributions=PAID)],
        now=now,
        limits=Limits(deadline_days=7),
    )


def test_the_month_view_shows_due_paid_difference_and_deadline_per_unit() -> None:
    overview = _overview(dt.datetime(2026, 2, 10, 3, tzinfo=dt.UTC))
    rows = {u.unit: u for u in overview.units}  # type: ignore[attr-defined]
    assert rows[UNIT.code].contributions == SHORT
    assert (SHORT.due, SHORT.paid, SHORT.difference) == (10_848_000, 7_848_000, -3_000_000)
    markdown = overview.to_markdown()  # type: ignore[attr-defined]
    section = markdown.split("## Đóng tiền · Contributions", 1)[1].split("## Hồ sơ", 1)[0]
    short = "| **TA0001A** | 10.848.000 đ | 7.848.000 đ | ❗ **thiếu / short 3.000.000 đ** |"
    assert short + " 28/02/2026 |" in section
    assert (
        "| **TB0002B** | 6.400.000 đ | 6.400.000 đ | 0 đ | 28/02/2026 | Khớp / all agree |"
        in section
    )
    assert "còn thiếu 3.000.000 đồng" in section


def test_an_under_paid_unit_is_warned_and_more_urgently_when_the_deadline_nears() -> None:
    early = _overview(dt.datetime(2026, 2, 10, 3, tzinfo=dt.UTC))
    (warning,) = [w for w in early.warnings if w.unit == UNIT.code and w.kind in _PAYING]  # type: ignore[attr-defined]
    assert (warning.kind, warning.days, warning.date) == ("underpaid", 18, "2026-02-28")
    assert warning.message_vi == (
        "TA0001A: kỳ 01/2026 còn thiếu 3.000.000 đ (phải đóng 10.848.000 đ, đã nộp 7.848.000 đ); "
        "hạn đóng 28/02/2026 (còn 18 ngày)"
    )
    assert warning.title_vi == "Đóng thiếu tiền BHXH"
    near = _overview(dt.datetime(2026, 2, 25, 3, tzinfo=dt.UTC))
    (warning,) = [w for w in near.warnings if w.unit == UNIT.code and w.kind in _PAYING]  # type: ignore[attr-defined]
    assert (warning.kind, warning.days) == ("payment-due", 3)
    late = _overview(dt.datetime(2026, 3, 2, 3, tzinfo=dt.UTC))
    (warning,) = [w for w in late.warnings if w.unit == UNIT.code and w.kind in _PAYING]  # type: ignore[attr-defined]
    assert warning.kind == "payment-due" and "đã quá hạn 2 ngày" in warning.message_vi
    assert warning.key == f"payment-due:{UNIT.code}:{PERIOD}"
    assert not [w for w in late.warnings if w.unit == OTHER.code and w.kind in _PAYING]  # type: ignore[attr-defined]


def test_a_unit_never_reconciled_has_no_amounts_and_the_view_says_how_to_get_them() -> None:
    overview = build_overview(
        PERIOD, [UnitState(UNIT)], now=dt.datetime(2026, 2, 10, 3, tzinfo=dt.UTC)
    )
    assert overview.units[0].contributions is None
    assert "chạy reconcile_contributions" in overview.to_markdown()
    assert not overview.warnings or all(w.kind != "underpaid" for w in overview.warnings)


def test_the_reports_carry_the_amounts(tmp_path: Path) -> None:
    files = write_reports(_overview(dt.datetime(2026, 2, 10, 3, tzinfo=dt.UTC)), tmp_path)  # type: ignore[arg-type]
    text = files.contributions_csv.read_text("utf-8-sig")
    lines = {r["Mã đơn vị / unit"]: r for r in csv.DictReader(io.StringIO(text))}
    short = lines[UNIT.code]
    assert (short["Phải đóng / due (VND)"], short["Đã nộp / paid (VND)"]) == ("10848000", "7848000")
    assert short["Chênh lệch / difference (VND)"] == "-3000000"  # a number, paid - due
    assert short["Hạn đóng / deadline"] == "2026-02-28"
    assert short["Giải thích"].startswith("Đơn vị TA0001A: phải nộp")
    book = load_workbook(files.xlsx)
    assert book.sheetnames[-1] == "Đóng tiền"
    sheet = book["Đóng tiền"]
    assert [c.value for c in sheet[2]][:7] == [
        PERIOD,
        UNIT.code,
        UNIT.name,
        10_848_000,
        7_848_000,
        -3_000_000,
        "2026-02-28",
    ]


def test_what_is_written_down_is_read_back_by_the_month_view(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    path = write_contribution_status(outbox, SHORT)
    assert path == reconciliation_path(outbox, UNIT.code, PERIOD)
    assert path == outbox / "TA0001A" / "01-2026" / "doi-chieu-c12.json"
    assert read_contribution_status(outbox, UNIT.code, PERIOD) == SHORT
    pipeline = Pipeline(DossierStore(tmp_path / "store"), outbox)
    state = read_unit_state(UNIT, pipeline, tmp_path / "inbox", PERIOD, outbox_dir=outbox)
    assert state.contributions == SHORT
    path.write_text("{not json", encoding="utf-8")  # a damaged file: no amounts, no failure
    assert read_contribution_status(outbox, UNIT.code, PERIOD) is None


def test_a_refused_notice_writes_nothing(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    write_contribution_status(outbox, SHORT)
    before = reconciliation_path(outbox, UNIT.code, PERIOD).read_bytes()
    pipeline = Pipeline(DossierStore(tmp_path / "store"), outbox)
    hostile = {
        "maCqBhxh": "07906",
        "tenCqBhxh": "BHXH",
        "c12s": [
            {"stt": "B.1", "noiDung": "Số lao động", "bhxh": "3"},
            {"stt": "B.2", "noiDung": "Quỹ lương", "bhxh": "30000000"},
            {"stt": "B.3", "noiDung": "Phải đóng", "cong": "9,600,000"},
        ],
    }
    document = C12Document(UNIT.code, PERIOD, hostile, "file", "TA0001A/01-2026/c12/C12-TS.json")
    with pytest.raises(C12NoticeInvalid, match=r"B\.3.*cong"):
        reconcile_notice(pipeline, document)
    assert reconciliation_path(outbox, UNIT.code, PERIOD).read_bytes() == before
    assert json.loads(before)["due"] == SHORT.due
