"""Contributions computed from D02-TS rows: worked examples for each fund, the floor and
the caps, each with its source (see tests/bhxh/contributions/test_rates.py for the
articles and decrees behind each figure).

The first example is the C12-TS sample published in ``finizi-app/bhxh-proxy-worker``
(``api-docs/code-137.md``): 01/2026, two workers, B.3 = 3,398,400 of which BHXH 2,655,000,
BHYT 477,900, BHTN 212,400, BHTNLĐ 53,100: exactly 25% / 4.5% / 2% / 0.5% of two salaries
at the region I minimum of Nghị định 293/2025/NĐ-CP (5,310,000).
"""

from __future__ import annotations

import pytest

from bhxh.contributions import (
    Share,
    compute_unit,
    compute_worker,
    worker_from_row,
    workers_from_d02ts,
)
from bhxh.errors import DossierInvalid
from bhxh.hrdata import WorkerRow, build_d02ts
from bhxh.models import UnitInfo
from tests.bhxh.contributions.notices import SAMPLE_DUE, UNIT, worker

_UNIT = UnitInfo(code=UNIT, tax_code="0312345678", name="Công ty TNHH Ví Dụ", agency_code="07906")


def test_the_published_sample_notice_is_two_workers_at_the_region_i_minimum() -> None:
    d02 = build_d02ts(
        _UNIT,
        "01/2026",
        [
            WorkerRow(
                HoTen="Lê Thị Hoa", ChucVu="Kế toán", TienLuong=5_310_000, PA="TM", MavungLTT=1
            ),
            WorkerRow(
                HoTen="Trần Văn Nam", ChucVu="Thủ kho", TienLuong=5_310_000, PA="TM", MavungLTT=1
            ),
        ],
    )
    dues = compute_unit(UNIT, "01/2026", workers_from_d02ts(d02))
    assert dues.headcount == 2
    assert dues.salary_fund == 10_620_000
    assert tuple(dues.due.values()) == SAMPLE_DUE


def test_each_fund_s_shares_on_ten_million_in_region_i() -> None:
    # Luật BHXH 2024 Điều 33-34; NĐ 146/2018 Điều 7; Luật Việc làm; NĐ 58/2020 Điều 4.
    result = compute_worker(worker(1, 10_000_000), "01/2026")
    assert result.shares["om_dau_thai_san"] == Share(employer=300_000, employee=0)
    assert result.shares["huu_tri_tu_tuat"] == Share(employer=1_400_000, employee=800_000)
    assert result.shares["bhyt"] == Share(employer=300_000, employee=150_000)
    assert result.shares["bhtn"] == Share(employer=100_000, employee=100_000)
    assert result.shares["bhtnld_bnn"] == Share(employer=50_000, employee=0)
    assert (result.employer, result.employee) == (2_150_000, 1_050_000)  # 21.5% and 10.5%
    assert result.column("bhxh") == 2_500_000
    assert result.column("cong") == 3_200_000
    assert result.notes == ()


def test_allowances_are_part_of_the_salary_contributions_are_computed_on() -> None:
    # Luật BHXH 2024 Điều 31 khoản 1 điểm b: salary, allowances and regular additions.
    result = compute_worker(worker(1, 9_000_000, allowances=1_000_000), "01/2026")
    assert result.bases["bhxh"] == 10_000_000
    assert result.column("cong") == 3_200_000


@pytest.mark.parametrize(
    ("region", "floor"), [(1, 5_310_000), (2, 4_730_000), (3, 4_140_000), (4, 3_700_000)]
)
def test_a_salary_under_the_region_s_minimum_is_raised_to_it(region: int, floor: int) -> None:
    # NĐ 293/2025/NĐ-CP Điều 3: the 2026 regional minimums.
    result = compute_worker(worker(1, 3_000_000, region=region), "02/2026")
    assert set(result.bases.values()) == {floor}
    assert result.column("cong") == floor * 32 // 100
    assert "thấp hơn lương tối thiểu vùng" in result.notes[0]


def test_a_salary_at_the_region_iv_minimum_is_not_raised() -> None:
    result = compute_worker(worker(1, 4_000_000, region=4), "02/2026")
    assert result.bases["bhxh"] == 4_000_000 and result.notes == ()


def test_a_salary_over_the_cap_pays_on_20_times_the_reference_level_but_bhtn_on_its_own_cap() -> (
    None
):
    # Luật BHXH 2024 Điều 31 khoản 1 điểm đ: 20 × 2,340,000 = 46,800,000 in 01/2026;
    # BHTN: 20 × 5,310,000 = 106,200,000 (region I).
    result = compute_worker(worker(1, 60_000_000), "01/2026")
    assert result.bases == {
        "bhxh": 46_800_000,
        "bhyt": 46_800_000,
        "bhtn": 60_000_000,
        "bhtnld": 46_800_000,
    }
    assert result.shares["huu_tri_tu_tuat"] == Share(employer=6_552_000, employee=3_744_000)
    assert result.shares["bhtn"] == Share(employer=600_000, employee=600_000)
    assert any("46800000" in note for note in result.notes)


def test_the_bhtn_cap_depends_on_the_region() -> None:
    result = compute_worker(worker(1, 80_000_000, region=4), "01/2026")
    assert result.bases["bhtn"] == 74_000_000  # 20 × 3,700,000


def test_the_cap_rises_with_the_reference_level_in_july_2026() -> None:
    # Nghị định 161/2026/NĐ-CP: 2,530,000 from 01/07/2026, cap 50,600,000.
    june = compute_worker(worker(1, 60_000_000), "06/2026")
    july = compute_worker(worker(1, 60_000_000), "07/2026")
    assert (june.bases["bhxh"], july.bases["bhxh"]) == (46_800_000, 50_600_000)


def test_a_change_of_law_by_date_applies_to_the_period_it_starts_in() -> None:
    # 5,000,000 is above the 2025 region I minimum (4,960,000, NĐ 74/2024) and below the
    # 2026 one (5,310,000, NĐ 293/2025).
    december = compute_worker(worker(1, 5_000_000), "12/2025")
    january = compute_worker(worker(1, 5_000_000), "01/2026")
    assert december.bases["bhxh"] == 5_000_000
    assert january.bases["bhxh"] == 5_310_000


def test_each_share_is_rounded_half_up_to_the_dong() -> None:
    # 1.5% of 5,310,100 is 79,651.5: our choice, half up, gives 79,652.
    result = compute_worker(worker(1, 5_310_100), "01/2026")
    assert result.shares["bhyt"].employee == 79_652


def test_workers_leaving_or_on_unpaid_leave_or_outside_the_period_do_not_contribute() -> None:
    workers = [
        worker(1, 6_000_000),
        worker(2, 6_000_000, action="GH"),
        worker(3, 6_000_000, action="KL"),
        worker(4, 6_000_000, from_month="02/2026"),
        worker(5, 6_000_000, from_month="10/2025", to_month="12/2025"),
        worker(6, 6_000_000, action="DC", from_month="12/2025"),
    ]
    dues = compute_unit(UNIT, "01/2026", workers)
    assert [w.worker.stt for w in dues.workers] == ["1", "6"]
    assert [w.stt for w in dues.skipped] == ["2", "3", "4", "5"]
    assert dues.headcount == 2 and dues.salary_fund == 12_000_000


def test_the_unit_s_region_applies_when_a_row_leaves_it_empty() -> None:
    dues = compute_unit(UNIT, "01/2026", [worker(1, 1_000_000, region=None)], region=2)
    assert dues.salary_fund == 4_730_000


def test_a_row_without_a_region_is_refused_naming_its_stt() -> None:
    with pytest.raises(DossierInvalid, match=r"STT 7.*MavungLTT"):
        compute_worker(worker(7, 6_000_000, region=None), "01/2026")


def test_a_row_read_from_a_mapping_or_a_workerrow() -> None:
    row = WorkerRow(
        HoTen="Lê Thị Hoa",
        ChucVu="Kế toán",
        TienLuong=9_000_000,
        PhuCapCV=500_000,
        PA="TM",
        MavungLTT="02",
    )
    pay = worker_from_row(row, position=3)
    assert (pay.salary, pay.allowances, pay.region, pay.action) == (9_000_000, 500_000, 2, "TM")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("TienLuong", "9,000,000", "STT 4.*TienLuong"),
        ("MavungLTT", "05", "STT 4.*MavungLTT"),
        ("TuThang", "13/2026", "STT 4.*TuThang"),
    ],
)
def test_a_row_that_cannot_be_read_is_refused_naming_stt_and_field(
    field: str, value: str, match: str
) -> None:
    values = {"STT": "4", "HoTen": "An", "TienLuong": "9000000", "PA": "TM", field: value}
    with pytest.raises(DossierInvalid, match=match):
        worker_from_row(values, position=4)


def test_a_declaration_that_is_not_a_d02ts_is_refused() -> None:
    with pytest.raises(DossierInvalid, match="TK1-TS"):
        workers_from_d02ts(b'<?xml version="1.0" encoding="UTF-8"?><TK1-TS/>')


def test_a_later_row_of_the_same_worker_replaces_the_earlier_one() -> None:
    joined = worker(1, 6_000_000, from_month="01/2026")
    raised = worker(1, 7_000_000, action="DC", from_month="01/2026")
    dues = compute_unit(UNIT, "01/2026", [joined, raised])
    assert dues.headcount == 1 and dues.salary_fund == 7_000_000
    assert dues.skipped == (joined,)


def test_the_salary_fund_of_each_column_follows_its_own_cap() -> None:
    dues = compute_unit(UNIT, "01/2026", [worker(1, 60_000_000), worker(2, 6_000_000)])
    assert dues.salary_fund == 52_800_000
    assert dict(dues.salary_funds) == {
        "bhxh": 52_800_000,
        "bhyt": 52_800_000,
        "bhtn": 66_000_000,
        "bhtnld": 52_800_000,
    }


def test_a_declared_rate_other_than_the_law_s_is_noted() -> None:
    pay = worker_from_row(
        {
            "STT": "1",
            "HoTen": "An",
            "TienLuong": "9000000",
            "PA": "TM",
            "MavungLTT": "1",
            "TyleDong": "30.0",
        }
    )
    result = compute_worker(pay, "01/2026")
    assert result.column("cong") == 2_880_000  # the law's 32%
    assert result.notes[0].startswith("tỷ lệ đóng trên tờ khai (TyleDong) là 30.0")
