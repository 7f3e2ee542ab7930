"""The C12-TS notices the sandbox gateway serves: what VSS would tell a unit about its
contributions of a month, consistent with the dossiers the gateway accepted and the
payments its configuration records.

The shape is the VSS portal's answer to code 137 (``maCqBhxh``, ``tenCqBhxh``, ``c12s``
rows ``{tenDonVi, maDonVi, diaChi, stt, noiDung, bhxh, bhyt, bhtn, bhtnld, cong}``, amounts
as strings of digits), as the public ``finizi-app/bhxh-proxy-worker`` documents it. The
dues are the project's computation (``bhxh.contributions``: rates, floor and caps); what
the gateway decides is which declarations count, and the running account:

* the workforce of a month: every worker of the unit's **accepted** D02-TS declarations of
  that month or before, each by the latest row whose ``TuThang`` has begun (a later
  declaration of the same ``MasoBHXH`` replaces an earlier one: a new salary, a leave);
* B.1 / B.2 / B.3: headcount, salary fund and dues of the month, with the rise and fall
  against the month before (B.x.1 / B.x.2);
* A: the month before's carried forward (Đ), computed the same way from the first month
  the unit had an accepted declaration; B.5: interest on an under-payment carried over
  at ``interest_rate_percent`` a month (0 by default); B.4 (adjustments of earlier months)
  and B.6 (the 2% the employer kept under the 2014 law) are 0 here;
* C: the configured transfers whose ``ngayNop`` falls in the month, one line each
  (``C.1``, ``C.2``...: ``+ UNC số <soUnc>, Ngày <ngayNop>``); D: what they pay of the dues
  (D.1) and of the interest (D.2); Đ: headcount, and what is left, over-paid (Đ.2.1),
  under-paid (Đ.2.2), interest owed (Đ.2.3).

Choices are ours where the portal's documentation is silent: payments carry only the
``cong`` column (VSS allocates by fund, which the documentation does not describe), and
headcount lines repeat the count in the four fund columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bhxh.contributions import UnitContributions, WorkerPay, compute_unit, workers_from_d02ts
from bhxh.periods import now_vn, parse_period

if TYPE_CHECKING:
    from sandbox.gateway.config import PaymentConfig


class DossierRecord(Protocol):
    """What a notice reads of a received dossier (``sandbox.gateway.core.DossierRecord``)."""

    @property
    def kind(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def received_at(self) -> dt.datetime: ...
    @property
    def final_outcome(self) -> str | None: ...
    @property
    def declarations(self) -> tuple[tuple[str, bytes], ...]: ...


class UnitRecord(Protocol):
    """What a notice reads of a unit (``sandbox.gateway.core.UnitRecord``)."""

    @property
    def unit_code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def agency_code(self) -> str: ...


_FUNDS = ("bhxh", "bhyt", "bhtn", "bhtnld")


def _key(period: str) -> tuple[int, int]:
    parsed = parse_period(period)
    if parsed is None:
        raise ValueError(f"period {period!r} is not MM/yyyy")
    return parsed[1], parsed[0]


def _period(key: tuple[int, int]) -> str:
    return f"{key[1]:02d}/{key[0]}"


def _before(key: tuple[int, int]) -> tuple[int, int]:
    year, month = key
    return (year - 1, 12) if month == 1 else (year, month - 1)


@dataclass(frozen=True)
class _Month:
    """One month of the unit's running account."""

    dues: UnitContributions
    paid: tuple[tuple[str, str, int], ...]  # (soUnc, ngayNop, soTien)
    carried_over: int  # owed dues carried in (negative: over-paid)
    interest_carried: int
    interest: int  # B.5.3
    principal: int  # B.5.1
    to_dues: int  # D.1
    to_interest: int  # D.2
    under: int  # Đ.2.2
    over: int  # Đ.2.1
    interest_left: int  # Đ.2.3


def _workforce(records: Sequence[DossierRecord], key: tuple[int, int]) -> list[WorkerPay]:
    """The workers of the accepted D02-TS up to month ``key``: the latest begun row each."""
    latest: dict[str, tuple[tuple[int, int], dt.datetime, WorkerPay]] = {}
    for record in records:
        if record.final_outcome != "accepted" or record.kind != "envelope" or not record.period:
            continue
        declared = _key(record.period)
        if declared > key:
            continue
        for form, data in record.declarations:
            if form != "D02-TS":
                continue
            for worker in workers_from_d02ts(data):
                start = _key(worker.from_month) if worker.from_month else declared
                if start > key:
                    continue
                who = worker.maso_bhxh or worker.name
                order = (start, record.received_at)
                known = latest.get(who)
                if known is None or order >= known[:2]:
                    latest[who] = (start, record.received_at, worker)
    return [w for _, _, w in latest.values()]


def _payments(
    payments: Sequence[PaymentConfig], key: tuple[int, int]
) -> tuple[tuple[str, str, int], ...]:
    out = []
    for p in payments:
        _, month, year = (int(x) for x in p.ngayNop.split("/"))
        if (year, month) == key:
            out.append((p.soUnc, p.ngayNop, p.soTien))
    return tuple(out)


def _account(
    unit_code: str,
    records: Sequence[DossierRecord],
    payments: Sequence[PaymentConfig],
    key: tuple[int, int],
    first: tuple[int, int],
    rate: float,
) -> list[_Month]:
    """The months from ``first`` to ``key``, each carrying the last one's balance."""
    months: list[_Month] = []
    current = first
    while current <= key:
        dues = compute_unit(unit_code, _period(current), _workforce(records, current))
        paid = _payments(payments, current)
        before = months[-1] if months else None
        carried = (before.under - before.over) if before else 0
        interest_carried = before.interest_left if before else 0
        principal = max(carried, 0)
        interest = round(principal * rate / 100)
        owed = carried + dues.due["cong"]
        interest_owed = interest_carried + interest
        total_paid = sum(amount for _, _, amount in paid)
        to_dues = min(total_paid, max(owed, 0))
        to_interest = min(total_paid - to_dues, interest_owed)
        left = total_paid - to_dues - to_interest
        months.append(
            _Month(
                dues=dues,
                paid=paid,
                carried_over=carried,
                interest_carried=interest_carried,
                interest=interest,
                principal=principal,
                to_dues=to_dues,
                to_interest=to_interest,
                under=max(owed, 0) - to_dues,
                over=left + max(-owed, 0),
                interest_left=interest_owed - to_interest,
            )
        )
        current = (current[0] + 1, 1) if current[1] == 12 else (current[0], current[1] + 1)
    return months


def _amounts(values: dict[str, int] | None = None, cong: int | None = None) -> dict[str, str]:
    values = values or {}
    out = {f: str(values[f]) if f in values else "" for f in _FUNDS}
    out["cong"] = "" if cong is None else str(cong)
    return out


def _same(count: int) -> dict[str, int]:
    return dict.fromkeys(_FUNDS, count)


def _lines(month: _Month, before: _Month | None) -> Iterable[tuple[str, str, dict[str, str]]]:
    dues = month.dues
    was = before.dues if before else None
    head, head_was = dues.headcount, was.headcount if was else 0
    fund_was = was.salary_fund if was else 0
    due_was = was.due["cong"] if was else 0
    a_head = head_was
    yield "A", "Kỳ trước mang sang", _amounts()
    yield "A.1", "Số lao động", _amounts(_same(a_head))
    yield "A.2", "Phải đóng", _amounts(cong=month.carried_over)
    yield "A.2.1", "Thừa", _amounts(cong=max(-month.carried_over, 0))
    yield "A.2.2", "Thiếu", _amounts(cong=max(month.carried_over, 0))
    yield "A.3", "Thiếu lãi", _amounts(cong=month.interest_carried)
    b_total = dues.due["cong"] + month.interest
    yield "B", "Phát sinh trong kỳ", _amounts(cong=b_total)
    yield "B.1", "Số lao động", _amounts(_same(head))
    yield "B.1.1", "Tăng", _amounts(_same(max(head - head_was, 0)))
    yield "B.1.2", "Giảm", _amounts(_same(max(head_was - head, 0)))
    bases = {f: sum(w.bases.get(f, 0) for w in dues.workers) for f in _FUNDS}
    yield "B.2", "Quỹ lương", _amounts(bases)
    yield "B.2.1", "Tăng", _amounts(_same(max(dues.salary_fund - fund_was, 0)))
    yield "B.2.2", "Giảm", _amounts(_same(max(fund_was - dues.salary_fund, 0)))
    due = {f: dues.due[f] for f in _FUNDS}
    yield "B.3", "Phải đóng", _amounts(due, dues.due["cong"])
    yield "B.3.1", "Tăng", _amounts(cong=max(dues.due["cong"] - due_was, 0))
    yield "B.3.2", "Giảm", _amounts(cong=max(due_was - dues.due["cong"], 0))
    yield "B.4", "Điều chỉnh phải đóng kỳ trước", _amounts(cong=0)
    yield "B.5", "Lãi", _amounts(cong=month.interest)
    yield "B.5.1", "Số tiền tính lãi", _amounts(cong=month.principal)
    yield "B.5.3", "Tổng tiền lãi", _amounts(cong=month.interest)
    yield "B.6", "2% bắt buộc để lại", _amounts(cong=dues.kept)
    total_paid = sum(amount for _, _, amount in month.paid)
    yield "C", "Số tiền đã nộp trong kỳ", _amounts(cong=total_paid)
    for n, (so_unc, ngay, amount) in enumerate(month.paid, start=1):
        yield f"C.{n}", f"+ UNC số {so_unc}, Ngày {ngay}", _amounts(cong=amount)
    yield "D", "Phân bổ tiền đóng", _amounts(cong=month.to_dues + month.to_interest)
    yield "D.1", "Phải đóng", _amounts(cong=month.to_dues)
    yield "D.2", "Tiền lãi", _amounts(cong=month.to_interest)
    yield "Đ", "Chuyển kỳ sau", _amounts()
    yield "Đ.1", "Số lao động", _amounts(_same(head))
    yield "Đ.2", "Phải đóng", _amounts(cong=month.under - month.over)
    yield "Đ.2.1", "Thừa", _amounts(cong=month.over)
    yield "Đ.2.2", "Thiếu", _amounts(cong=month.under)
    yield "Đ.2.3", "Thiếu lãi", _amounts(cong=month.interest_left)


def build_notice(
    unit: UnitRecord,
    payments: Sequence[PaymentConfig],
    records: Sequence[DossierRecord],
    period: str,
    now: dt.datetime,
    *,
    interest_rate_percent: float = 0.0,
) -> dict[str, Any] | None:
    """The unit's notice of ``period`` in the portal's shape; None for a month not begun
    in Vietnam."""
    key = _key(period)
    today = now_vn(now)
    if key > (today.year, today.month):
        return None
    periods = [
        _key(r.period)
        for r in records
        if r.final_outcome == "accepted" and r.kind == "envelope" and r.period
    ]
    paid_months = []
    for p in payments:
        _, paid_month, paid_year = (int(x) for x in p.ngayNop.split("/"))
        paid_months.append((paid_year, paid_month))
    first = min([key, *periods, *paid_months])
    months = _account(unit.unit_code, records, payments, key, first, interest_rate_percent)
    month = months[-1]
    before = months[-2] if len(months) > 1 else None
    rows = []
    for stt, text, amounts in _lines(month, before):
        if stt == "B.5.2":
            continue
        rows.append(
            {
                "tenDonVi": unit.name,
                "maDonVi": unit.unit_code,
                "diaChi": "",
                "stt": stt,
                "noiDung": text,
                **amounts,
            }
        )
        if stt == "B.5.1":
            rate = f"{interest_rate_percent:g}"
            rows.append(
                {
                    "tenDonVi": unit.name,
                    "maDonVi": unit.unit_code,
                    "diaChi": "",
                    "stt": "B.5.2",
                    "noiDung": "Tỷ lệ tính lãi",
                    **dict.fromkeys(_FUNDS, ""),
                    "cong": rate,
                }
            )
    return {
        "maCqBhxh": unit.agency_code,
        "tenCqBhxh": f"Bảo hiểm xã hội cơ sở {unit.agency_code} (thử nghiệm)",
        "c12s": rows,
    }
