"""Contributions computed from the declarations: per worker and fund the employer's and
the worker's shares on the salary the declaration carries (floor and caps applied), and
per unit the lines a C12-TS notice carries for the period (B.1 headcount, B.2 salary
fund, B.3 due by fund, B.6 the part the employer keeps).

The input is the D02-TS rows the project builds (``bhxh.hrdata`` writes them, the dossier
holds them): :func:`workers_from_d02ts` reads the declaration's XML, :func:`worker_from_row`
a row given as a field -> text mapping (``WorkerRow.as_dict()``), so this package never
imports the HR tool. The salary a contribution is computed on (tiền lương tháng đóng
BHXH) is ``TienLuong`` plus the allowances the form carries (``PhuCapCV``,
``PhuCapTNVK``, ``PhuCapTNNghe``, ``PhuCapLuong``, ``PhuCapBosung``).

Money is whole VND. Inside, amounts are :class:`~decimal.Decimal`; each share of each
worker and fund is rounded once, half up, to the whole dong (our choice: the law gives
rates, not a rounding rule; the notice's columns are sums of whole amounts), and the
unit's totals are sums of those rounded shares.

Example:
    >>> workers = workers_from_d02ts(d02_bytes)
    >>> dues = compute_unit("TZH490L", "01/2026", workers)
    >>> dues.headcount, dues.salary_fund, dues.due["cong"]
    (2, 10620000, 3398400)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from bhxh.contributions.notice import AMOUNT_COLUMNS
from bhxh.contributions.rates import (
    FUND_COLUMN,
    FUNDS,
    SCHEDULE,
    Fund,
    Schedule,
)
from bhxh.errors import DossierInvalid
from bhxh.periods import parse_period
from bhxh.xmlsafe import field_text, parse_xml

__all__ = [
    "ALLOWANCE_FIELDS",
    "CONTRIBUTING_ACTIONS",
    "Share",
    "UnitContributions",
    "WorkerContribution",
    "WorkerPay",
    "compute_unit",
    "compute_worker",
    "worker_from_row",
    "workers_from_d02ts",
]

#: The D02-TS allowances that are part of the salary contributions are computed on.
ALLOWANCE_FIELDS: tuple[str, ...] = (
    "PhuCapCV",
    "PhuCapTNVK",
    "PhuCapTNNghe",
    "PhuCapLuong",
    "PhuCapBosung",
)

#: D02-TS actions (``PA``) of a worker who contributes for the months the row covers:
#: joining (TM, TD, TC) or a new salary (DC). The others (GH leaving, KL unpaid leave,
#: OF sick leave, TS maternity leave) stop contributions from ``TuThang``.
CONTRIBUTING_ACTIONS: frozenset[str] = frozenset({"TM", "TD", "TC", "DC"})


@dataclass(frozen=True)
class WorkerPay:
    """What a D02-TS row says about one worker's contributions.

    ``salary`` is ``TienLuong``; ``allowances`` the sum of :data:`ALLOWANCE_FIELDS`;
    ``region`` the regional minimum wage's region (``MavungLTT``: 1-4, or None when the
    row leaves it empty); ``rate`` the row's ``TyleDong`` (the total rate in percent, 32.0
    for a worker in every fund); ``months`` the first and last month the row covers
    (``TuThang``, ``DenThang``; the last None when open).
    """

    stt: str
    name: str
    maso_bhxh: str
    action: str
    salary: int
    allowances: int = 0
    region: int | None = None
    rate: Decimal | None = None
    from_month: str = ""
    to_month: str = ""

    @property
    def base(self) -> int:
        """The declared salary contributions are computed on (before floor and caps)."""
        return self.salary + self.allowances

    def covers(self, period: str) -> bool:
        """Whether the row's months include ``period`` (MM/yyyy)."""
        key = _month_key(period)
        start = _month_key(self.from_month) if self.from_month else key
        end = _month_key(self.to_month) if self.to_month else None
        return start <= key and (end is None or key <= end)


@dataclass(frozen=True)
class Share:
    """One fund's contribution for one worker: the employer's and the worker's part."""

    employer: int
    employee: int

    @property
    def total(self) -> int:
        return self.employer + self.employee


@dataclass(frozen=True)
class WorkerContribution:
    """A worker's contributions for one period, fund by fund.

    ``bases`` is the salary each fund is computed on after the floor and its cap
    (``"bhxh"``, ``"bhyt"``, ``"bhtn"``, ``"bhtnld"``); ``notes`` say in Vietnamese and
    English what was applied (``raised to the floor``, ``capped at 20 × ...``).
    """

    worker: WorkerPay
    period: str
    bases: Mapping[str, int]
    shares: Mapping[Fund, Share]
    notes: tuple[str, ...] = ()

    def column(self, column: str) -> int:
        """The worker's total in one notice column (``bhxh``... ``cong``)."""
        if column == "cong":
            return sum(s.total for s in self.shares.values())
        return sum(s.total for f, s in self.shares.items() if FUND_COLUMN[f] == column)

    @property
    def employer(self) -> int:
        return sum(s.employer for s in self.shares.values())

    @property
    def employee(self) -> int:
        return sum(s.employee for s in self.shares.values())


@dataclass(frozen=True)
class UnitContributions:
    """A unit's computed contributions for a period, in the notice's terms.

    ``salary_fund`` is B.2 (the salaries the BHXH fund is computed on, after floor and
    cap), ``salary_funds`` the same by fund column (BHTN's cap is not BHXH's);
    ``due`` is B.3 by column (``bhxh``, ``bhyt``, ``bhtn``, ``bhtnld``, ``cong``);
    ``kept`` is B.6 (the part of the sickness-maternity fund the employer keeps: 0 under
    the laws in the schedule, see :mod:`bhxh.contributions.rates`).
    """

    unit: str
    period: str
    workers: tuple[WorkerContribution, ...]
    headcount: int
    salary_fund: int
    due: Mapping[str, int]
    salary_funds: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    kept: int = 0
    skipped: tuple[WorkerPay, ...] = field(default=())

    def worker(self, key: str) -> WorkerContribution | None:
        """A worker by ``MasoBHXH`` (else by name, for a worker without one yet)."""
        for w in self.workers:
            if key in (w.worker.maso_bhxh, w.worker.name):
                return w
        return None


# --- reading the declaration -----------------------------------------------------------------


def _month_key(text: str) -> tuple[int, int]:
    parsed = parse_period(text)
    if parsed is None:
        raise ValueError(f"{text!r} is not MM/yyyy")
    month, year = parsed
    return (year, month)


def _whole(text: str, where: str, name: str) -> int:
    value = text.strip()
    if not value:
        return 0
    if not value.isascii() or not value.isdigit():
        raise DossierInvalid(
            f"{where}, trường {name}: số tiền {value!r} không phải số nguyên VND — "
            f"{where.replace('dòng', 'row')}, field {name}: {value!r} is not a whole number of VND"
        )
    return int(value)


def worker_from_row(row: Mapping[str, str] | object, *, position: int = 0) -> WorkerPay:
    """A D02-TS row (a field -> text mapping, or anything with ``as_dict()`` such as
    ``bhxh.hrdata.WorkerRow``) read as a :class:`WorkerPay`.

    Raises:
        DossierInvalid: an amount, region, rate or month that cannot be read, naming the
            row (its STT) and the field.
    """
    values: Mapping[str, str]
    if isinstance(row, Mapping):
        values = row
    else:
        as_dict = getattr(row, "as_dict", None)
        if as_dict is None:
            raise TypeError(f"a D02-TS row is a mapping or has as_dict(); got {type(row).__name__}")
        values = as_dict()
    stt = str(values.get("STT") or position or "")
    where = f"D02-TS, dòng {position or stt} (STT {stt})"
    region_text = str(values.get("MavungLTT") or "").strip()
    region: int | None = None
    if region_text:
        if not (region_text.isdigit() and 1 <= int(region_text) <= 4):
            raise DossierInvalid(
                f"{where}, trường MavungLTT: vùng {region_text!r} không phải 01-04 — "
                f"row {position or stt} (STT {stt}), field MavungLTT: region "
                f"{region_text!r} is not 01-04"
            )
        region = int(region_text)
    rate_text = str(values.get("TyleDong") or "").strip()
    try:
        rate = Decimal(rate_text) if rate_text else None
    except ArithmeticError:
        raise DossierInvalid(
            f"{where}, trường TyleDong: {rate_text!r} không phải số — "
            f"row {position or stt} (STT {stt}), field TyleDong: {rate_text!r} is not a number"
        ) from None
    months = {}
    for name in ("TuThang", "DenThang"):
        text = str(values.get(name) or "").strip()
        if text and parse_period(text) is None:
            raise DossierInvalid(
                f"{where}, trường {name}: {text!r} không phải MM/yyyy — "
                f"row {position or stt} (STT {stt}), field {name}: {text!r} is not MM/yyyy"
            )
        months[name] = text
    return WorkerPay(
        stt=stt,
        name=str(values.get("HoTen") or ""),
        maso_bhxh=str(values.get("MasoBHXH") or ""),
        action=str(values.get("PA") or "").strip().upper(),
        salary=_whole(str(values.get("TienLuong") or ""), where, "TienLuong"),
        allowances=sum(_whole(str(values.get(n) or ""), where, n) for n in ALLOWANCE_FIELDS),
        region=region,
        rate=rate,
        from_month=months["TuThang"],
        to_month=months["DenThang"],
    )


def workers_from_d02ts(xml: bytes) -> tuple[WorkerPay, ...]:
    """The workers of a D02-TS declaration (its ``NoiDung/LaoDong`` rows), read with the
    project's safe XML parser (signed or not: the signature is not read here).

    Raises:
        UnsafeXml: XML refused by :func:`bhxh.xmlsafe.parse_xml`.
        DossierInvalid: not a D02-TS, or a row that cannot be read (naming its STT).
    """
    root = parse_xml(xml, what="D02-TS")
    if root.tag != "D02-TS":
        raise DossierInvalid(
            f"tờ khai có phần tử gốc {root.tag!r}, không phải D02-TS — "
            f"the declaration's root is {root.tag!r}, not D02-TS"
        )
    workers = []
    for position, row in enumerate(root.iterfind("NoiDung/LaoDong"), start=1):
        values = {child.tag: field_text(child) for child in row if isinstance(child.tag, str)}
        workers.append(worker_from_row(values, position=position))
    return tuple(workers)


# --- computing -------------------------------------------------------------------------------


def _round(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def compute_worker(
    worker: WorkerPay,
    period: str,
    *,
    schedule: Schedule = SCHEDULE,
    region: int | None = None,
) -> WorkerContribution:
    """One worker's contributions for ``period`` under the law in force on its first day.

    Args:
        worker: the row read from the declaration.
        period: MM/yyyy.
        schedule: the rates, floors and caps (default: :data:`rates.SCHEDULE`).
        region: the unit's region when the row leaves ``MavungLTT`` empty.

    Raises:
        DossierInvalid: no region known for the floor, or a period before the schedule.
    """
    year, month = _month_key(period)
    day = dt.date(year, month, 1)
    region = worker.region or region
    where = f"D02-TS, STT {worker.stt} ({worker.name})"
    if region is None:
        raise DossierInvalid(
            f"{where}: thiếu vùng lương tối thiểu (MavungLTT) để tính mức sàn — "
            f"{where}: no minimum-wage region (MavungLTT) to apply the floor"
        )
    law = schedule.on(day, region)
    declared = Decimal(worker.base)
    notes: list[str] = []
    if worker.rate is not None and worker.rate != law.total_rate:
        notes.append(
            f"tỷ lệ đóng trên tờ khai (TyleDong) là {worker.rate}, tỷ lệ theo luật là "
            f"{law.total_rate}; tính theo luật — the declared rate (TyleDong) {worker.rate} "
            f"is not the law's {law.total_rate}; computed at the law's rates"
        )
    floor = Decimal(law.floor)
    if declared < floor:
        notes.append(
            f"lương {worker.base} thấp hơn lương tối thiểu vùng {region} ({law.floor}), "
            f"tính trên {law.floor} — salary {worker.base} below the region {region} "
            f"minimum ({law.floor}), computed on {law.floor}"
        )
        declared = floor
    bases: dict[str, int] = {}
    for column, cap in law.caps.items():
        base = min(declared, Decimal(cap))
        if base < declared:
            notes.append(
                f"quỹ {column}: lương vượt mức trần {cap}, tính trên {cap} — "
                f"fund {column}: salary above the cap {cap}, computed on {cap}"
            )
        bases[column] = int(base)
    shares: dict[Fund, Share] = {}
    for fund in FUNDS:
        rate = law.rates[fund]
        base = Decimal(bases[FUND_COLUMN[fund]])
        shares[fund] = Share(
            employer=_round(base * rate.employer / 100),
            employee=_round(base * rate.employee / 100),
        )
    return WorkerContribution(
        worker=worker,
        period=period,
        bases=MappingProxyType(bases),
        shares=MappingProxyType(shares),
        notes=tuple(notes),
    )


def compute_unit(
    unit: str,
    period: str,
    workers: Iterable[WorkerPay],
    *,
    schedule: Schedule = SCHEDULE,
    region: int | None = None,
) -> UnitContributions:
    """A unit's contributions for ``period`` from its declared workers.

    The rows are the unit's workers for the period (a new unit's first D02-TS, or the
    roster the accountant keeps as D02-TS rows). Workers whose row does not cover the
    period, or whose action stops contributions (GH, KL, OF, TS), are kept in ``skipped``
    and counted nowhere; when two rows of one worker (same ``MasoBHXH``) cover the period,
    the later one counts (a DC row's new salary) and the earlier is skipped. B.2 (the salary fund)
    is the sum of the salaries the BHXH fund is computed on (after floor and cap).
    """
    skipped: list[WorkerPay] = []
    counted: dict[str, WorkerPay] = {}  # a worker's latest row covering the period
    for position, worker in enumerate(workers):
        if not (worker.action in CONTRIBUTING_ACTIONS and worker.covers(period)):
            skipped.append(worker)
            continue
        key = worker.maso_bhxh or f"#{position}"  # a new worker has no number yet
        if key in counted:
            skipped.append(counted.pop(key))  # a later row (DC: a new salary) replaces it
        counted[key] = worker
    computed = [
        compute_worker(w, period, schedule=schedule, region=region) for w in counted.values()
    ]
    due: dict[str, int] = {c: sum(w.column(c) for w in computed) for c in AMOUNT_COLUMNS}
    funds: dict[str, int] = {
        c: sum(w.bases[c] for w in computed) for c in AMOUNT_COLUMNS if c != "cong"
    }
    return UnitContributions(
        unit=unit,
        period=period,
        workers=tuple(computed),
        headcount=len(computed),
        salary_fund=sum(w.bases["bhxh"] for w in computed),
        due=MappingProxyType(due),
        salary_funds=MappingProxyType(funds),
        kept=0,
        skipped=tuple(skipped),
    )
