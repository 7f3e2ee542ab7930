"""The rates, floors and caps in force on a day, each from its source.

Sources of the figures asserted here:

* Luật BHXH 2024 (41/2024/QH15), in force 01/07/2025 (Điều 140 khoản 1): employer 3%
  sickness-maternity and 14% retirement-death (Điều 34 khoản 1), worker 8% (Điều 33 khoản 1
  điểm a); salary at most 20 times the reference level (Điều 31 khoản 1 điểm đ); the
  reference level is the base salary until that is abolished (Điều 141 khoản 13).
* Base salary 2,340,000 from 01/07/2024 (Nghị định 73/2024/NĐ-CP); 2,530,000 from
  01/07/2026 (Nghị định 161/2026/NĐ-CP, as payroll sources cite it).
* Regional minimum wages: Nghị định 74/2024/NĐ-CP from 01/07/2024 (4,960,000 / 4,410,000 /
  3,860,000 / 3,450,000); Nghị định 293/2025/NĐ-CP from 01/01/2026 (5,310,000 / 4,730,000
  / 4,140,000 / 3,700,000).
* BHYT 4.5% (3% + 1.5%, Nghị định 146/2018/NĐ-CP Điều 7); BHTN 1% + 1% capped at 20 times
  the regional minimum (Luật Việc làm); BHTNLĐ-BNN 0.5% (Nghị định 58/2020/NĐ-CP Điều 4).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bhxh.contributions import (
    CAPS,
    FUNDS,
    RATES,
    REFERENCE_LEVELS,
    REGIONAL_MINIMUMS,
    SCHEDULE,
    AmountRow,
    Schedule,
)
from bhxh.errors import DossierInvalid


def test_in_2026_a_worker_in_every_fund_costs_32_percent_split_21_5_and_10_5() -> None:
    law = SCHEDULE.on(dt.date(2026, 1, 1), 1)
    assert law.total_rate == Decimal("32.0")  # the TyleDong of every D02-TS row
    assert sum(r.employer for r in law.rates.values()) == Decimal("21.5")
    assert sum(r.employee for r in law.rates.values()) == Decimal("10.5")
    assert law.rates["om_dau_thai_san"].employer == 3
    assert law.rates["huu_tri_tu_tuat"].employer == 14
    assert law.rates["huu_tri_tu_tuat"].employee == 8
    assert law.rates["bhyt"].employer == 3 and law.rates["bhyt"].employee == Decimal("1.5")
    assert law.rates["bhtn"].employer == law.rates["bhtn"].employee == 1
    assert law.rates["bhtnld_bnn"].employer == Decimal("0.5")


def test_from_july_2025_the_bhxh_rates_cite_the_2024_law() -> None:
    before = SCHEDULE.on(dt.date(2025, 6, 1), 1)
    after = SCHEDULE.on(dt.date(2025, 7, 1), 1)
    assert "58/2014/QH13" in before.rates["huu_tri_tu_tuat"].source
    assert "41/2024/QH15" in after.rates["huu_tri_tu_tuat"].source
    assert "Điều 34" in after.rates["om_dau_thai_san"].source
    assert "Điều 31" in " ".join(after.sources)


@pytest.mark.parametrize(
    ("region", "minimum_2025", "minimum_2026"),
    [
        (1, 4_960_000, 5_310_000),
        (2, 4_410_000, 4_730_000),
        (3, 3_860_000, 4_140_000),
        (4, 3_450_000, 3_700_000),
    ],
)
def test_each_region_s_minimum_wage_changes_on_1_january_2026(
    region: int, minimum_2025: int, minimum_2026: int
) -> None:
    december = SCHEDULE.regional_minimum(dt.date(2025, 12, 31), region)
    january = SCHEDULE.regional_minimum(dt.date(2026, 1, 1), region)
    assert (december.amount, january.amount) == (minimum_2025, minimum_2026)
    assert "74/2024/NĐ-CP" in december.source
    assert "293/2025/NĐ-CP" in january.source


def test_the_bhxh_and_bhyt_cap_is_20_times_the_reference_level_and_moves_with_it() -> None:
    june = SCHEDULE.on(dt.date(2026, 6, 1), 1)
    july = SCHEDULE.on(dt.date(2026, 7, 1), 1)
    assert june.reference == 2_340_000 and july.reference == 2_530_000
    assert june.caps["bhxh"] == june.caps["bhyt"] == june.caps["bhtnld"] == 46_800_000
    assert july.caps["bhxh"] == july.caps["bhyt"] == july.caps["bhtnld"] == 50_600_000


@pytest.mark.parametrize(("region", "cap"), [(1, 106_200_000), (4, 74_000_000)])
def test_the_bhtn_cap_is_20_times_the_region_s_minimum_wage(region: int, cap: int) -> None:
    assert SCHEDULE.on(dt.date(2026, 3, 1), region).caps["bhtn"] == cap


def test_the_floor_is_the_region_s_minimum_wage() -> None:
    assert SCHEDULE.on(dt.date(2026, 1, 1), 3).floor == 4_140_000
    assert SCHEDULE.on(dt.date(2025, 12, 1), 3).floor == 3_860_000


def test_a_change_of_law_is_one_new_row() -> None:
    base = Schedule()
    changed = Schedule(
        reference_levels=(*REFERENCE_LEVELS, AmountRow(dt.date(2027, 7, 1), 2_700_000, "test"))
    )
    day = dt.date(2027, 7, 1)
    assert base.on(day, 1).caps["bhxh"] == 50_600_000
    assert changed.on(day, 1).caps["bhxh"] == 54_000_000
    assert changed.on(dt.date(2027, 6, 30), 1).caps["bhxh"] == 50_600_000


def test_every_row_names_its_source() -> None:
    for rows in (RATES, REFERENCE_LEVELS, REGIONAL_MINIMUMS, CAPS):
        for item in rows:
            assert item.source.strip(), item
    assert {r.fund for r in RATES} == set(FUNDS)


def test_a_day_before_the_schedule_is_refused_naming_it() -> None:
    with pytest.raises(DossierInvalid, match="01/01/2024") as caught:
        SCHEDULE.on(dt.date(2024, 1, 1), 1)
    assert str(caught.value).startswith("không có quy định")


def test_a_region_outside_1_to_4_is_refused() -> None:
    with pytest.raises(DossierInvalid, match="vùng 5"):
        SCHEDULE.on(dt.date(2026, 1, 1), 5)
