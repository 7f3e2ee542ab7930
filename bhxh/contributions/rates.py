"""Contribution rates, floors and caps as data: one row per rule, each with the law or
decree that sets it and the day it starts. A change of law is one new row; the row in
force on a day is the latest that has started.

The funds (a C12-TS notice's columns in brackets): the social-insurance fund in its two
parts, sickness-maternity (ốm đau - thai sản) and retirement-death (hưu trí - tử tuất)
[``bhxh``]; health insurance [``bhyt``]; unemployment insurance [``bhtn``];
occupational accidents and diseases [``bhtnld``].

What the rows say, and how sure we are (read = the text of the law was read for this
module; recalled = the number is the one every payroll source gives, the article was not
read here and should be checked against the official text):

* BHXH, from 01/07/2025, Luật Bảo hiểm xã hội 2024 (số 41/2024/QH15, in force 01/07/2025
  by its Điều 140 khoản 1), read: employer 3% sickness-maternity and 14% retirement-death
  (Điều 34 khoản 1), worker 8% retirement-death (Điều 33 khoản 1 điểm a); the salary is
  the monthly salary with its allowances and regular additions (Điều 31 khoản 1 điểm b),
  at least the reference level and at most 20 times it (Điều 31 khoản 1 điểm đ); the
  reference level equals the base salary (lương cơ sở) until that is abolished (Điều 141
  khoản 13). Điều 34 keeps no part of the sickness-maternity contribution with the
  employer: the notice's B.6 ("2% bắt buộc để lại") is 0 under this law.
* BHXH, 01/07/2024 - 30/06/2025, Luật BHXH 2014 (số 58/2014/QH13), recalled: the same
  rates (Điều 85 khoản 1, Điều 86 khoản 1), cap 20 times the base salary (Điều 89 khoản 3);
  no part kept by the employer since 01/01/2016 (the 2% kept was the 2006 law's, Điều 92).
* BHYT, recalled: 4.5% of the BHXH salary, two thirds by the employer (3%) and one third by
  the worker (1.5%) (Nghị định 146/2018/NĐ-CP, Điều 7 khoản 1 điểm a, under Luật BHYT
  25/2008/QH12 as amended, Điều 13 khoản 1 điểm a); cap 20 times the base salary (Luật
  BHYT Điều 14, as recalled) and, from 01/07/2025, the same 20 times the reference level
  as BHXH (the reference level equals the base salary: the amount does not change).
* BHTN, recalled: 1% employer and 1% worker, the salary capped at 20 times the regional
  minimum wage (Luật Việc làm 38/2013/QH13, Điều 57 khoản 1 and Điều 58 khoản 2); from
  01/01/2026 Luật Việc làm 2025 (số 74/2025/QH15) keeps 1% + 1% and the 20-times cap
  (Điều 33-34 as secondary sources cite it, with Nghị định 374/2025/NĐ-CP; not read here).
* BHTNLĐ-BNN, recalled: 0.5% by the employer on the BHXH salary (Nghị định 58/2020/NĐ-CP,
  Điều 4 khoản 1 điểm a; Luật An toàn, vệ sinh lao động 84/2015/QH13, Điều 44). The 0.3%
  rate for eligible high-risk sectors needs a decision per unit and is not modelled.
* Regional minimum wages (lương tối thiểu vùng, regions I-IV), recalled: Nghị định
  74/2024/NĐ-CP Điều 3 from 01/07/2024 (4,960,000 / 4,410,000 / 3,860,000 / 3,450,000);
  Nghị định 293/2025/NĐ-CP Điều 3 from 01/01/2026 (5,310,000 / 4,730,000 / 4,140,000 /
  3,700,000). The sample C12-TS notice of 01/2026 in ``finizi-app/bhxh-proxy-worker``
  (two workers, B.3 = 3,398,400) is exactly 32% of twice 5,310,000.
* Base salary / reference level, recalled: 2,340,000 from 01/07/2024 (Nghị định
  73/2024/NĐ-CP, Điều 3 khoản 2); 2,530,000 from 01/07/2026 (Nghị định 161/2026/NĐ-CP,
  Điều 3 khoản 2, as several payroll sources cite it; the decree itself was not read here:
  check it before relying on the cap of the second half of 2026).
* The floor: our reading. Điều 31 khoản 1 điểm đ sets the reference level as the least
  salary; a salary below the regional minimum wage is unlawful for a worker under a labour
  contract (Bộ luật Lao động 45/2019/QH14, Điều 90 khoản 2), so the floor applied is the
  larger of the two (the regional minimum, in practice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from bhxh.errors import DossierInvalid

__all__ = [
    "CAPS",
    "FLOORS",
    "FUNDS",
    "FUND_COLUMN",
    "FUND_LABELS",
    "RATES",
    "REFERENCE_LEVELS",
    "REGIONAL_MINIMUMS",
    "SCHEDULE",
    "AmountRow",
    "CapRow",
    "FloorRow",
    "Fund",
    "Law",
    "RateRow",
    "RegionRow",
    "Schedule",
]

Fund = Literal["om_dau_thai_san", "huu_tri_tu_tuat", "bhyt", "bhtn", "bhtnld_bnn"]

#: The funds, in the order the notice's columns list them.
FUNDS: tuple[Fund, ...] = ("om_dau_thai_san", "huu_tri_tu_tuat", "bhyt", "bhtn", "bhtnld_bnn")

#: The notice column each fund is added into.
FUND_COLUMN: Mapping[Fund, str] = MappingProxyType(
    {
        "om_dau_thai_san": "bhxh",
        "huu_tri_tu_tuat": "bhxh",
        "bhyt": "bhyt",
        "bhtn": "bhtn",
        "bhtnld_bnn": "bhtnld",
    }
)

#: What a person reads for each fund (Vietnamese, English).
FUND_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "om_dau_thai_san": ("BHXH ốm đau - thai sản", "BHXH sickness-maternity"),
        "huu_tri_tu_tuat": ("BHXH hưu trí - tử tuất", "BHXH retirement-death"),
        "bhxh": ("BHXH", "social insurance"),
        "bhyt": ("BHYT", "health insurance"),
        "bhtn": ("BHTN", "unemployment insurance"),
        "bhtnld_bnn": ("BHTNLĐ-BNN", "occupational accident and disease insurance"),
        "bhtnld": ("BHTNLĐ-BNN", "occupational accident and disease insurance"),
        "cong": ("tổng cộng", "total"),
    }
)

_LAW_2024 = "Luật BHXH 41/2024/QH15"
_LAW_2014 = "Luật BHXH 58/2014/QH13"


@dataclass(frozen=True)
class RateRow:
    """A fund's rates in percent of the salary, from ``start``."""

    fund: Fund
    start: dt.date
    employer: Decimal
    employee: Decimal
    source: str


@dataclass(frozen=True)
class AmountRow:
    """An amount in VND from ``start`` (the base salary / reference level)."""

    start: dt.date
    amount: int
    source: str


@dataclass(frozen=True)
class RegionRow:
    """A region's minimum monthly wage from ``start``."""

    start: dt.date
    region: int
    amount: int
    source: str


@dataclass(frozen=True)
class CapRow:
    """The most salary a notice column's funds are computed on: ``multiple`` times the
    reference level (``of="reference"``) or the region's minimum wage (``"regional"``)."""

    column: str
    start: dt.date
    multiple: int
    of: Literal["reference", "regional"]
    source: str


@dataclass(frozen=True)
class FloorRow:
    """The least salary contributions are computed on, from ``start``: the larger of the
    named amounts (``"reference"``, ``"regional"``)."""

    start: dt.date
    of: tuple[Literal["reference", "regional"], ...]
    source: str


def _d(text: str) -> Decimal:
    return Decimal(text)


_JUL_2024 = dt.date(2024, 7, 1)
_JUL_2025 = dt.date(2025, 7, 1)
_JAN_2026 = dt.date(2026, 1, 1)

RATES: tuple[RateRow, ...] = (
    RateRow("om_dau_thai_san", _JUL_2024, _d("3"), _d("0"), f"{_LAW_2014}, Điều 86 khoản 1"),
    RateRow("huu_tri_tu_tuat", _JUL_2024, _d("14"), _d("8"), f"{_LAW_2014}, Điều 85-86 khoản 1"),
    RateRow(
        "bhyt", _JUL_2024, _d("3"), _d("1.5"), "Nghị định 146/2018/NĐ-CP, Điều 7 khoản 1 điểm a"
    ),
    RateRow("bhtn", _JUL_2024, _d("1"), _d("1"), "Luật Việc làm 38/2013/QH13, Điều 57 khoản 1"),
    RateRow("bhtnld_bnn", _JUL_2024, _d("0.5"), _d("0"), "Nghị định 58/2020/NĐ-CP, Điều 4 khoản 1"),
    RateRow("om_dau_thai_san", _JUL_2025, _d("3"), _d("0"), f"{_LAW_2024}, Điều 34 khoản 1 a"),
    RateRow(
        "huu_tri_tu_tuat",
        _JUL_2025,
        _d("14"),
        _d("8"),
        f"{_LAW_2024}, Điều 34 khoản 1 b; Điều 33 khoản 1 a",
    ),
    RateRow(
        "bhtn",
        _JAN_2026,
        _d("1"),
        _d("1"),
        "Luật Việc làm 74/2025/QH15, Điều 33 (chưa đọc văn bản gốc — article not read here)",
    ),
)

REFERENCE_LEVELS: tuple[AmountRow, ...] = (
    AmountRow(_JUL_2024, 2_340_000, "Nghị định 73/2024/NĐ-CP, Điều 3 khoản 2 (lương cơ sở)"),
    AmountRow(
        dt.date(2026, 7, 1),
        2_530_000,
        "Nghị định 161/2026/NĐ-CP, Điều 3 khoản 2 (lương cơ sở; theo nguồn thứ cấp, "
        "chưa đọc văn bản gốc — from secondary sources, decree not read here)",
    ),
)

_ND74 = "Nghị định 74/2024/NĐ-CP, Điều 3 khoản 1"
_ND293 = "Nghị định 293/2025/NĐ-CP, Điều 3 khoản 1"
REGIONAL_MINIMUMS: tuple[RegionRow, ...] = (
    RegionRow(_JUL_2024, 1, 4_960_000, _ND74),
    RegionRow(_JUL_2024, 2, 4_410_000, _ND74),
    RegionRow(_JUL_2024, 3, 3_860_000, _ND74),
    RegionRow(_JUL_2024, 4, 3_450_000, _ND74),
    RegionRow(_JAN_2026, 1, 5_310_000, _ND293),
    RegionRow(_JAN_2026, 2, 4_730_000, _ND293),
    RegionRow(_JAN_2026, 3, 4_140_000, _ND293),
    RegionRow(_JAN_2026, 4, 3_700_000, _ND293),
)

CAPS: tuple[CapRow, ...] = (
    CapRow("bhxh", _JUL_2024, 20, "reference", f"{_LAW_2014}, Điều 89 khoản 3"),
    CapRow("bhyt", _JUL_2024, 20, "reference", "Luật BHYT 25/2008/QH12 (sửa đổi), Điều 14"),
    CapRow("bhtn", _JUL_2024, 20, "regional", "Luật Việc làm 38/2013/QH13, Điều 58 khoản 2"),
    CapRow("bhtnld", _JUL_2024, 20, "reference", f"{_LAW_2014}, Điều 89 khoản 3 (lương BHXH)"),
    CapRow("bhxh", _JUL_2025, 20, "reference", f"{_LAW_2024}, Điều 31 khoản 1 điểm đ"),
    CapRow("bhyt", _JUL_2025, 20, "reference", f"{_LAW_2024}, Điều 31 khoản 1 điểm đ"),
    CapRow("bhtnld", _JUL_2025, 20, "reference", f"{_LAW_2024}, Điều 31 khoản 1 điểm đ"),
    CapRow(
        "bhtn",
        _JAN_2026,
        20,
        "regional",
        "Luật Việc làm 74/2025/QH15 (chưa đọc văn bản gốc — article not read here)",
    ),
)

FLOORS: tuple[FloorRow, ...] = (
    FloorRow(_JUL_2024, ("regional",), "Bộ luật Lao động 45/2019/QH14, Điều 90 khoản 2"),
    FloorRow(
        _JUL_2025,
        ("reference", "regional"),
        f"{_LAW_2024}, Điều 31 khoản 1 điểm đ; Bộ luật Lao động 45/2019/QH14, Điều 90 khoản 2",
    ),
)


@dataclass(frozen=True)
class Law:
    """What applies on ``day`` to a worker of ``region``: each fund's rates, the floor,
    each notice column's cap, the amounts they come from and every source used."""

    day: dt.date
    region: int
    rates: Mapping[Fund, RateRow]
    reference: int
    minimum: int
    floor: int
    caps: Mapping[str, int]
    sources: tuple[str, ...]

    @property
    def total_rate(self) -> Decimal:
        """Every fund's rates together (32.0 in 2026: a D02-TS row's ``TyleDong``)."""
        return sum((r.employer + r.employee for r in self.rates.values()), Decimal(0))


def _latest(rows: Sequence[_Row], day: dt.date, what: str) -> _Row:
    started = [r for r in rows if r.start <= day]
    if not started:
        first = min((r.start for r in rows), default=None)
        raise DossierInvalid(
            f"không có quy định {what} cho ngày {day:%d/%m/%Y} (bảng bắt đầu từ "
            f"{first:%d/%m/%Y}) — no {what} rule for {day:%d/%m/%Y} (the schedule starts "
            f"on {first:%d/%m/%Y})"
            if first
            else f"không có quy định {what} — no {what} rule"
        )
    return max(started, key=lambda r: r.start)


_Row = RateRow | AmountRow | RegionRow | CapRow | FloorRow


@dataclass(frozen=True)
class Schedule:
    """Rows of rules, looked up by day. Tests and a unit with its own rules can build one."""

    rates: tuple[RateRow, ...] = RATES
    reference_levels: tuple[AmountRow, ...] = REFERENCE_LEVELS
    regional_minimums: tuple[RegionRow, ...] = REGIONAL_MINIMUMS
    caps: tuple[CapRow, ...] = CAPS
    floors: tuple[FloorRow, ...] = FLOORS

    def reference_level(self, day: dt.date) -> AmountRow:
        """The reference level (mức tham chiếu = lương cơ sở) in force on ``day``."""
        row = _latest(self.reference_levels, day, "mức tham chiếu")
        assert isinstance(row, AmountRow)
        return row

    def regional_minimum(self, day: dt.date, region: int) -> RegionRow:
        """The regional minimum wage of ``region`` (1-4) in force on ``day``."""
        if region not in (1, 2, 3, 4):
            raise DossierInvalid(f"vùng {region} không phải 1-4 — region {region} is not 1-4")
        rows = [r for r in self.regional_minimums if r.region == region]
        row = _latest(rows, day, f"lương tối thiểu vùng {region}")
        assert isinstance(row, RegionRow)
        return row

    def on(self, day: dt.date, region: int) -> Law:
        """Everything that applies on ``day`` to a worker of ``region``.

        Raises:
            DossierInvalid: ``day`` is before the schedule's first row, or the region is
                not 1-4.
        """
        reference = self.reference_level(day)
        minimum = self.regional_minimum(day, region)
        sources = [reference.source, minimum.source]
        rates: dict[Fund, RateRow] = {}
        for fund in FUNDS:
            rate = _latest([r for r in self.rates if r.fund == fund], day, f"tỷ lệ {fund}")
            assert isinstance(rate, RateRow)
            rates[fund] = rate
            sources.append(rate.source)
        amounts = {"reference": reference.amount, "regional": minimum.amount}
        caps: dict[str, int] = {}
        for column in ("bhxh", "bhyt", "bhtn", "bhtnld"):
            cap = _latest([c for c in self.caps if c.column == column], day, f"mức trần {column}")
            assert isinstance(cap, CapRow)
            caps[column] = cap.multiple * amounts[cap.of]
            sources.append(cap.source)
        floor_row = _latest(self.floors, day, "mức sàn")
        assert isinstance(floor_row, FloorRow)
        sources.append(floor_row.source)
        return Law(
            day=day,
            region=region,
            rates=MappingProxyType(rates),
            reference=reference.amount,
            minimum=minimum.amount,
            floor=max(amounts[name] for name in floor_row.of),
            caps=MappingProxyType(caps),
            sources=tuple(dict.fromkeys(sources)),
        )


#: The schedule of the laws above: the default of every computation.
SCHEDULE = Schedule()
