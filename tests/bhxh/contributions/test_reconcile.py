"""Computed contributions reconciled with the C12-TS notice, each difference explained."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from bhxh.contributions import (
    UnitContributions,
    compute_unit,
    format_vnd,
    parse_c12,
    reconcile,
)
from tests.bhxh.contributions.notices import notice_json, row, split, standard_rows, worker

_PERIOD = "01/2026"
# Three workers in region I, 01/2026: 32% of each salary.
_WORKERS = [
    worker(1, 10_000_000, name="Lê Thị Hoa"),  # 2,500,000 / 450,000 / 200,000 / 50,000
    worker(2, 6_000_000, name="Trần Văn Nam"),  # 1,500,000 / 270,000 / 120,000 / 30,000
    worker(3, 8_000_000, name="Phạm Minh Châu"),  # 2,000,000 / 360,000 / 160,000 / 40,000
]
_DUE = (6_000_000, 1_080_000, 480_000, 120_000)  # cong 7,680,000


@pytest.fixture(scope="module")
def computed() -> UnitContributions:
    return compute_unit("TZH490L", _PERIOD, _WORKERS)


def _notice(
    *,
    headcount: int = 3,
    salary_fund: int = 24_000_000,
    due: Sequence[int] = _DUE,
    payments: Sequence[tuple[str, str, Sequence[int]]] | None = None,
    extra: Sequence[dict[str, Any]] = (),
    paid_total: int | None = None,
    period: str = _PERIOD,
) -> Any:
    if payments is None:
        payments = [("01043", "25/02/2026", due)]
    rows = standard_rows(
        headcount=headcount,
        salary_fund=salary_fund,
        due=(*due, sum(due)),
        payments=payments,
        extra=extra,
        paid_total=paid_total,
    )
    return parse_c12(notice_json(rows), period=period, unit="TZH490L")


def test_an_exact_match_has_no_findings(computed: UnitContributions) -> None:
    result = reconcile(computed, _notice())
    assert result.matched and result.findings == ()
    assert (result.due, result.paid, result.difference) == (7_680_000, 7_680_000, 0)
    assert result.deadline == dt.date(2026, 2, 28)
    assert all(line.difference == 0 for line in result.funds)


def test_a_notice_short_by_one_worker_names_the_worker(computed: UnitContributions) -> None:
    without_nam = (4_500_000, 810_000, 360_000, 90_000)
    result = reconcile(computed, _notice(headcount=2, salary_fund=18_000_000, due=without_nam))
    assert result.kinds() == ("headcount", "missing_worker")
    missing = result.findings[1]
    assert missing.amount == -1_920_000
    assert missing.vi.startswith(
        "Đơn vị TZH490L, dòng B.3: thông báo không tính Trần Văn Nam (STT 2"
    )
    assert "1.920.000 đồng" in missing.vi and "1,920,000 VND" in missing.en
    assert result.funds[-1].difference == -1_920_000


def test_a_payment_short_by_one_worker_s_contribution_says_whose(
    computed: UnitContributions,
) -> None:
    paid = (4_500_000, 810_000, 360_000, 90_000)
    result = reconcile(computed, _notice(payments=[("01043", "25/02/2026", paid)]))
    assert result.kinds() == ("under_paid",)
    assert result.difference == -1_920_000
    text = result.findings[0].text
    assert "còn thiếu 1.920.000 đồng, đúng bằng phần đóng một tháng của Trần Văn Nam" in text
    assert "hạn nộp 28/02/2026" in text
    assert "UNC số 01043 ngày 25/02/2026" in text


def test_a_salary_that_differs_is_explained_on_b2_and_each_column(
    computed: UnitContributions,
) -> None:
    # VSS recorded 9,000,000 for Lê Thị Hoa instead of 10,000,000: 320,000 less in B.3.
    due = (5_750_000, 1_035_000, 460_000, 115_000)
    result = reconcile(
        computed, _notice(salary_fund=23_000_000, due=due, payments=[("9", "20/02/2026", due)])
    )
    assert result.kinds() == ("salary_fund", "due", "due", "due", "due", "due")
    assert result.findings[0].amount == -1_000_000
    assert "mức lương đã khai khác" in result.findings[0].vi
    assert [f.column for f in result.findings[1:]] == ["bhxh", "bhyt", "bhtn", "bhtnld", "cong"]
    assert result.findings[-1].amount == -320_000
    assert result.difference == 0  # what was asked was paid


def test_an_adjustment_of_earlier_periods_adds_to_what_is_due(computed: UnitContributions) -> None:
    adjustment = [
        row("B.4", "Điều chỉnh phải đóng kỳ trước"),
        row("B.4.1", "Tăng", *split((250_000, 45_000, 20_000, 5_000))),
        row("B.4.1.1", "Trong đó: năm trước", *split((250_000, 45_000, 20_000, 5_000))),
        row("B.4.3", "Điều chỉnh", *split((250_000, 45_000, 20_000, 5_000))),
    ]
    result = reconcile(computed, _notice(extra=adjustment))
    assert result.due == 7_680_000 + 320_000
    assert result.kinds() == ("adjustment", "under_paid")
    assert "dòng B.4: điều chỉnh phải đóng của các kỳ trước 320.000 đồng" in result.findings[0].vi
    assert "trong đó năm trước 320.000 đồng" in result.findings[0].vi


def test_interest_owed_is_shown_with_its_rate(computed: UnitContributions) -> None:
    interest = [
        row("B.5", "Lãi"),
        row("B.5.1", "Số tiền tính lãi", *split((1_000_000, 0, 0, 0))),
        row("B.5.2", "Tỷ lệ tính lãi", "", "", "", "", "0.9"),
        row("B.5.3", "Tổng tiền lãi", *split((9_000, 0, 0, 0))),
    ]
    due_with_interest = (6_009_000, 1_080_000, 480_000, 120_000)
    result = reconcile(
        computed, _notice(extra=interest, payments=[("1", "27/02/2026", due_with_interest)])
    )
    assert result.due == 7_689_000 and result.difference == 0
    assert result.kinds() == ("interest",)
    finding = result.findings[0]
    assert finding.vi == (
        "Đơn vị TZH490L, dòng B.5: tiền lãi chậm đóng 9.000 đồng trên 1.000.000 đồng, "
        "lãi suất 0,9%, phải nộp thêm."
    )
    assert finding.en.endswith("rate 0.9%, to be paid as well.")


def test_an_under_payment_carried_over_and_forward_is_explained(
    computed: UnitContributions,
) -> None:
    carried = [
        row("A.2.2", "Thiếu", *split((500_000, 0, 0, 0))),
        row("Đ.2", "Phải đóng", *split((500_000, 0, 0, 0))),
        row("Đ.2.2", "Thiếu", *split((500_000, 0, 0, 0))),
    ]
    result = reconcile(computed, _notice(extra=carried))
    assert result.due == 8_180_000 and result.difference == -500_000
    assert result.kinds() == ("carried_over", "under_paid", "carried_forward")
    assert "kỳ trước còn thiếu 500.000 đồng" in result.findings[0].vi
    assert "dòng Đ.2.2: cơ quan BHXH chuyển sang kỳ sau số còn thiếu 500.000 đồng" in (
        result.findings[2].vi
    )


def test_payments_in_two_transfers_add_up(computed: UnitContributions) -> None:
    first = (3_000_000, 540_000, 240_000, 60_000)
    second = (3_000_000, 540_000, 240_000, 60_000)
    notice = _notice(payments=[("01043", "10/02/2026", first), ("01077", "26/02/2026", second)])
    assert [(p.stt, p.so_unc) for p in notice.payments] == [("C.1", "01043"), ("C.2", "01077")]
    result = reconcile(computed, notice)
    assert result.matched and result.paid == 7_680_000


def test_a_total_paid_that_is_not_the_sum_of_its_transfers_is_shown(
    computed: UnitContributions,
) -> None:
    result = reconcile(computed, _notice(paid_total=7_000_000))
    assert result.kinds()[0] == "payment_lines"
    assert "khác tổng các lần chuyển tiền 7.680.000 đồng" in result.findings[0].vi


def test_the_deadline_of_december_is_the_end_of_january(computed: UnitContributions) -> None:
    december = compute_unit("TZH490L", "12/2026", _WORKERS)
    result = reconcile(december, _notice(period="12/2026"))
    assert result.deadline == dt.date(2027, 1, 31)


def test_rows_in_another_order_reconcile_the_same(computed: UnitContributions) -> None:
    rows = standard_rows(
        headcount=3,
        salary_fund=24_000_000,
        due=(*_DUE, sum(_DUE)),
        payments=[("1", "25/02/2026", _DUE)],
    )
    reversed_notice = parse_c12(notice_json(rows[::-1]), period=_PERIOD, unit="TZH490L")
    assert reconcile(computed, reversed_notice) == reconcile(
        computed, _notice(payments=[("1", "25/02/2026", _DUE)])
    )


def test_every_finding_is_vietnamese_first_with_english_beside(computed: UnitContributions) -> None:
    result = reconcile(computed, _notice(headcount=2, salary_fund=18_000_000, due=(1, 1, 1, 1)))
    assert result.findings
    for finding in result.findings:
        assert finding.text.startswith("Đơn vị TZH490L") and " — Unit TZH490L" in finding.text


def test_a_notice_of_another_period_is_not_paired(computed: UnitContributions) -> None:
    with pytest.raises(ValueError, match="02/2026"):
        reconcile(computed, _notice(period="02/2026"))


def test_amounts_are_written_as_people_read_them() -> None:
    assert format_vnd(3_398_400) == "3.398.400 đồng"
    assert format_vnd(-1_920_000, "en") == "-1,920,000 VND"


def test_a_worker_the_notice_counts_but_the_declarations_do_not_is_explained(
    computed: UnitContributions,
) -> None:
    result = reconcile(computed, _notice(headcount=4))
    assert result.kinds() == ("headcount",)
    assert "chưa báo giảm" in result.findings[0].vi


def test_salary_funds_that_differ_by_column_as_the_caps_say_are_not_a_difference() -> None:
    dues = compute_unit("TZH490L", _PERIOD, [worker(1, 60_000_000), worker(2, 6_000_000)])
    rows = standard_rows(
        headcount=2,
        salary_fund=0,
        due=(*dues.due.values(),),
        payments=[("1", "25/02/2026", [dues.due[c] for c in ("bhxh", "bhyt", "bhtn", "bhtnld")])],
    )
    for item in rows:
        if item["stt"] == "B.2":
            item.update(bhxh="52800000", bhyt="52800000", bhtn="66000000", bhtnld="52800000")
    result = reconcile(dues, parse_c12(notice_json(rows), period=_PERIOD, unit="TZH490L"))
    assert result.matched, [f.text for f in result.findings]


def test_a_bhtn_salary_fund_alone_that_differs_is_named_by_column() -> None:
    dues = compute_unit("TZH490L", _PERIOD, [worker(1, 60_000_000), worker(2, 6_000_000)])
    rows = standard_rows(headcount=2, salary_fund=52_800_000, due=(*dues.due.values(),))
    result = reconcile(dues, parse_c12(notice_json(rows), period=_PERIOD, unit="TZH490L"))
    salary = [f for f in result.findings if f.kind == "salary_fund"]
    assert [(f.column, f.amount) for f in salary] == [("bhtn", -13_200_000)]
    assert "dòng B.2, cột BHTN" in salary[0].vi


def test_a_notice_short_by_two_workers_names_both(computed: UnitContributions) -> None:
    only_nam = (1_500_000, 270_000, 120_000, 30_000)
    result = reconcile(computed, _notice(headcount=1, salary_fund=6_000_000, due=only_nam))
    assert result.kinds() == ("headcount", "missing_worker", "missing_worker")
    named = {f.vi.split("không tính ")[1].split(" (")[0] for f in result.findings[1:]}
    assert named == {"Lê Thị Hoa", "Phạm Minh Châu"}


def test_a_missing_worker_is_not_named_when_two_have_the_same_contributions() -> None:
    twins = [worker(1, 6_000_000, name="An"), worker(2, 6_000_000, name="Bình")]
    dues = compute_unit("TZH490L", _PERIOD, twins)
    one = (1_500_000, 270_000, 120_000, 30_000)
    rows = standard_rows(headcount=1, salary_fund=6_000_000, due=(*one, sum(one)))
    result = reconcile(dues, parse_c12(notice_json(rows), period=_PERIOD, unit="TZH490L"))
    assert "missing_worker" not in result.kinds()
    assert result.kinds()[:2] == ("headcount", "salary_fund")


def test_a_part_kept_by_the_employer_is_questioned_under_the_2024_law(
    computed: UnitContributions,
) -> None:
    kept = [row("B.6", "2% bắt buộc để lại", *split((480_000, 0, 0, 0)))]
    result = reconcile(computed, _notice(extra=kept))
    assert computed.kept == 0
    assert result.due == 7_680_000 - 480_000
    assert result.kinds() == ("kept", "over_paid")
    assert "Luật BHXH 2024 (Điều 34) không còn khoản để lại này" in result.findings[0].vi


def test_an_over_payment_is_shown(computed: UnitContributions) -> None:
    more = (6_100_000, 1_080_000, 480_000, 120_000)
    result = reconcile(computed, _notice(payments=[("01043", "25/02/2026", more)]))
    assert result.kinds() == ("over_paid",) and result.difference == 100_000
    assert "thừa 100.000 đồng" in result.findings[0].vi
