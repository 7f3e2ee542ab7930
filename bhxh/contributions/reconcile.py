"""Reconciliation: a unit's computed contributions against its C12-TS notice, every
difference explained as a line a person understands, Vietnamese first.

What is compared (the notice's rows by ``stt``, never by position):

* B.1 headcount against the workers the declarations make contribute;
* B.2 salary fund against the sum of their salaries (after floor and caps);
* B.3 due, column by column (``bhxh``, ``bhyt``, ``bhtn``, ``bhtnld``, ``cong``),
  against the computed shares; a difference that is exactly one or two workers'
  contributions names them (a worker missing from the notice);
* what must be paid against what was paid (C, with each transfer of C.1, C.2...).

What must be paid for the period (our reading of the notice; the document names the lines
but gives no formula): the under-payment and interest carried over (A.2.2 + A.3) less the
over-payment carried over (A.2.1), plus this period's dues (B.3), the net adjustment of
earlier periods (B.4.3), the interest (B.5.3), less what the employer keeps (B.6).
The deadline is the last day of the month after the period (Luật BHXH 2024, Điều 34
khoản 4 điểm a), in Vietnam's calendar (:func:`bhxh.periods.contribution_due`); late
amounts bear 0.03% a day (Điều 40 khoản 1), which VSS reports in B.5.

Example:
    >>> result = reconcile(compute_unit("TZH490L", "01/2026", workers), notice)
    >>> result.due, result.paid, result.difference, result.deadline
    (3398400, 3398400, 0, datetime.date(2026, 2, 28))
    >>> [f.text for f in result.findings]
    []
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from bhxh.contributions.compute import UnitContributions, WorkerContribution
from bhxh.contributions.notice import AMOUNT_COLUMNS, C12Notice
from bhxh.contributions.rates import FUND_LABELS

__all__ = [
    "FINDING_KINDS",
    "Finding",
    "FundLine",
    "Reconciliation",
    "amount_due",
    "format_vnd",
    "reconcile",
]

FindingKind = Literal[
    "headcount",
    "missing_worker",
    "salary_fund",
    "due",
    "adjustment",
    "interest",
    "kept",
    "carried_over",
    "payment_lines",
    "under_paid",
    "over_paid",
    "carried_forward",
]

#: Every kind of finding, with what it means (Vietnamese, English).
FINDING_KINDS: dict[str, tuple[str, str]] = {
    "headcount": ("số lao động khác", "headcount differs"),
    "missing_worker": ("lao động không có trên thông báo", "a worker missing from the notice"),
    "salary_fund": ("quỹ lương khác", "salary fund differs"),
    "due": ("số phải đóng khác", "amount due differs"),
    "adjustment": ("điều chỉnh kỳ trước", "adjustment of earlier periods"),
    "interest": ("tiền lãi chậm đóng", "interest on late payment"),
    "kept": ("khoản để lại", "amount kept by the employer"),
    "carried_over": ("số dư kỳ trước", "balance carried over"),
    "payment_lines": ("các lần nộp không khớp tổng", "transfers do not add up"),
    "under_paid": ("nộp thiếu", "under-paid"),
    "over_paid": ("nộp thừa", "over-paid"),
    "carried_forward": ("chuyển kỳ sau", "carried forward"),
}


def format_vnd(amount: int, lang: str = "vi") -> str:
    """``3398400`` -> ``3.398.400 đồng`` (Vietnamese) or ``3,398,400 VND`` (English)."""
    text = f"{abs(amount):,}"
    sign = "-" if amount < 0 else ""
    if lang == "vi":
        return f"{sign}{text.replace(',', '.')} đồng"
    return f"{sign}{text} VND"


@dataclass(frozen=True)
class Finding:
    """One difference or notable line, explained: ``vi`` and ``en`` are whole sentences
    naming the unit's notice row (``stt``) and the column; ``amount`` is the sum a person
    acts on (a difference, an interest, a carried balance)."""

    kind: FindingKind
    stt: str
    column: str | None
    amount: int
    vi: str
    en: str

    @property
    def text(self) -> str:
        """Vietnamese first, English beside it."""
        return f"{self.vi} — {self.en}"


@dataclass(frozen=True)
class FundLine:
    """One notice column of B.3: computed, on the notice, and the difference
    (notice - computed: negative when the notice asks less than the declarations make
    due)."""

    column: str
    computed: int
    notice: int

    @property
    def difference(self) -> int:
        return self.notice - self.computed


@dataclass(frozen=True)
class Reconciliation:
    """A unit's period reconciled: what must be paid (``due``), what was paid (``paid``),
    ``difference`` = paid - due (negative: under-paid), the ``deadline``, each B.3 column
    computed against the notice, and every finding."""

    unit: str
    period: str
    deadline: dt.date
    due: int
    paid: int
    computed_due: int
    funds: tuple[FundLine, ...]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def difference(self) -> int:
        return self.paid - self.due

    @property
    def matched(self) -> bool:
        """The notice agrees with the declarations and the period is paid in full."""
        return not self.findings

    def kinds(self) -> tuple[str, ...]:
        """The kinds of the findings, in order (for tests and tables)."""
        return tuple(f.kind for f in self.findings)


def _label(column: str, lang: str) -> str:
    vi, en = FUND_LABELS.get(column, (column, column))
    return vi if lang == "vi" else en


def _who(worker: WorkerContribution) -> tuple[str, str]:
    pay = worker.worker
    code_vi = f", mã số BHXH {pay.maso_bhxh}" if pay.maso_bhxh else ""
    code_en = f", BHXH number {pay.maso_bhxh}" if pay.maso_bhxh else ""
    return (f"{pay.name} (STT {pay.stt}{code_vi})", f"{pay.name} (STT {pay.stt}{code_en})")


def _missing_workers(
    computed: UnitContributions, diffs: dict[str, int]
) -> tuple[WorkerContribution, ...] | None:
    """The worker, else the two workers, whose contributions are exactly the notice's
    shortfall in every column, when exactly one such set exists (two workers with the same
    contributions cannot be told apart: then nobody is named). Linear in the workers: a
    unit may have thousands."""
    if diffs["cong"] >= 0:
        return None
    funds = [c for c in AMOUNT_COLUMNS if c != "cong"]
    wanted = tuple(-diffs[c] for c in funds)
    by_key: dict[tuple[int, ...], list[WorkerContribution]] = {}
    for worker in computed.workers:
        by_key.setdefault(tuple(worker.column(c) for c in funds), []).append(worker)
    if wanted in by_key:
        alone = by_key[wanted]
        return (alone[0],) if len(alone) == 1 else None
    pairs: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    for mine in by_key:
        other = tuple(w - m for w, m in zip(wanted, mine, strict=True))
        if other in by_key and (other != mine or len(by_key[mine]) > 1):
            pairs.add((min(mine, other), max(mine, other)))
    if len(pairs) != 1:
        return None
    first, second = next(iter(pairs))
    if first == second:
        return tuple(by_key[first]) if len(by_key[first]) == 2 else None
    if len(by_key[first]) > 1 or len(by_key[second]) > 1:
        return None
    return (by_key[first][0], by_key[second][0])


def _salary_finding(unit: str, column: str | None, notice: int, computed: int) -> Finding:
    gap = notice - computed
    where_vi = f", cột {_label(column, 'vi')}" if column else ""
    where_en = f", column {_label(column, 'en')}" if column else ""
    return Finding(
        "salary_fund",
        "B.2",
        column,
        gap,
        f"Đơn vị {unit}, dòng B.2{where_vi}: quỹ lương trên thông báo là "
        f"{format_vnd(notice)}, tính từ tờ khai là {format_vnd(computed)}, chênh "
        f"{format_vnd(gap)}: có mức lương đã khai khác với mức cơ quan BHXH ghi nhận.",
        f"Unit {unit}, row B.2{where_en}: the notice's salary fund is "
        f"{format_vnd(notice, 'en')}, the declarations make {format_vnd(computed, 'en')}, a "
        f"difference of {format_vnd(gap, 'en')}: a declared salary differs from the one VSS "
        f"recorded.",
    )


def _compare_salary_funds(computed: UnitContributions, notice: C12Notice) -> list[Finding]:
    """B.2 column by column where the notice fills it: one line when every filled column
    differs by the same amount (the usual case: one salary), else one line per column."""
    funds = notice.salary_funds() or {"bhxh": notice.salary_fund}
    ours = dict(computed.salary_funds) or {"bhxh": computed.salary_fund}
    gaps = {c: v - ours.get(c, 0) for c, v in funds.items() if v != ours.get(c, 0)}
    if not gaps:
        return []
    if len(gaps) == len(funds) and len(set(gaps.values())) == 1:
        column = next(iter(gaps))
        return [_salary_finding(computed.unit, None, funds[column], ours.get(column, 0))]
    return [_salary_finding(computed.unit, c, funds[c], ours.get(c, 0)) for c in gaps]


def _compare_dues(computed: UnitContributions, notice: C12Notice) -> list[Finding]:
    findings: list[Finding] = []
    unit = computed.unit
    diffs: dict[str, int] = {c: notice.amount("B.3", c) - computed.due[c] for c in AMOUNT_COLUMNS}
    headcount_gap = notice.headcount - computed.headcount
    if headcount_gap:
        why_vi, why_en = (
            (
                ": có người cơ quan BHXH còn tính mà tờ khai kỳ này không có (ví dụ người đã "
                "nghỉ việc nhưng chưa báo giảm)",
                ": VSS still counts someone the period's declarations do not have (e.g. a "
                "worker who left without a GH row)",
            )
            if headcount_gap > 0
            else ("", "")
        )
        findings.append(
            Finding(
                "headcount",
                "B.1",
                None,
                headcount_gap,
                f"Đơn vị {unit}, dòng B.1: thông báo ghi {notice.headcount} lao động, "
                f"tờ khai tính được {computed.headcount}{why_vi}.",
                f"Unit {unit}, row B.1: the notice counts {notice.headcount} workers, the "
                f"declarations {computed.headcount}{why_en}.",
            )
        )
    missing = _missing_workers(computed, diffs) if headcount_gap < 0 else None
    if missing:
        for worker in missing:
            who_vi, who_en = _who(worker)
            amount = worker.column("cong")
            findings.append(
                Finding(
                    "missing_worker",
                    "B.3",
                    "cong",
                    -amount,
                    f"Đơn vị {unit}, dòng B.3: thông báo không tính {who_vi}; phần đóng "
                    f"của người này là {format_vnd(amount)} một tháng.",
                    f"Unit {unit}, row B.3: the notice leaves out {who_en}; this "
                    f"worker's contributions are {format_vnd(amount, 'en')} a month.",
                )
            )
        return findings
    findings += _compare_salary_funds(computed, notice)
    for column in AMOUNT_COLUMNS:
        gap = diffs[column]
        if not gap:
            continue
        findings.append(
            Finding(
                "due",
                "B.3",
                column,
                gap,
                f"Đơn vị {unit}, dòng B.3, cột {_label(column, 'vi')}: thông báo ghi "
                f"{format_vnd(notice.amount('B.3', column))}, tính từ tờ khai là "
                f"{format_vnd(computed.due[column])}, chênh {format_vnd(gap)}.",
                f"Unit {unit}, row B.3, column {_label(column, 'en')}: the notice says "
                f"{format_vnd(notice.amount('B.3', column), 'en')}, the declarations make "
                f"{format_vnd(computed.due[column], 'en')}, a difference of "
                f"{format_vnd(gap, 'en')}.",
            )
        )
    return findings


def _notice_lines(unit: str, notice: C12Notice) -> list[Finding]:
    """Lines of the notice that change what is paid although no declaration of the
    period explains them: carried balances, adjustments, interest, the part kept."""
    findings: list[Finding] = []
    under = notice.amount("A.2.2")
    interest_before = notice.amount("A.3")
    over = notice.amount("A.2.1")
    if under or interest_before:
        findings.append(
            Finding(
                "carried_over",
                "A.2.2",
                "cong",
                under + interest_before,
                f"Đơn vị {unit}, dòng A.2.2: kỳ trước còn thiếu {format_vnd(under)}"
                + (f" và tiền lãi {format_vnd(interest_before)}" if interest_before else "")
                + ", cộng vào số phải nộp kỳ này.",
                f"Unit {unit}, row A.2.2: {format_vnd(under, 'en')} under-paid before"
                + (f" and {format_vnd(interest_before, 'en')} interest" if interest_before else "")
                + ", added to what is due this period.",
            )
        )
    if over:
        findings.append(
            Finding(
                "carried_over",
                "A.2.1",
                "cong",
                -over,
                f"Đơn vị {unit}, dòng A.2.1: kỳ trước nộp thừa {format_vnd(over)}, trừ vào "
                f"số phải nộp kỳ này.",
                f"Unit {unit}, row A.2.1: {format_vnd(over, 'en')} over-paid before, taken "
                f"off what is due this period.",
            )
        )
    adjustment = notice.amount("B.4.3")
    if adjustment:
        up, down = notice.amount("B.4.1"), notice.amount("B.4.2")
        prior_year = notice.amount("B.4.1.1") + notice.amount("B.4.2.1")
        year_vi = f", trong đó năm trước {format_vnd(prior_year)}" if prior_year else ""
        year_en = f", of which the year before {format_vnd(prior_year, 'en')}" if prior_year else ""
        findings.append(
            Finding(
                "adjustment",
                "B.4.3",
                "cong",
                adjustment,
                f"Đơn vị {unit}, dòng B.4: điều chỉnh phải đóng của các kỳ trước "
                f"{format_vnd(adjustment)} (tăng {format_vnd(up)}, giảm {format_vnd(down)}"
                f"{year_vi}), do hồ sơ khai bổ sung cho các tháng đã qua.",
                f"Unit {unit}, row B.4: earlier periods adjusted by "
                f"{format_vnd(adjustment, 'en')} (up {format_vnd(up, 'en')}, down "
                f"{format_vnd(down, 'en')}{year_en}), from declarations for past months.",
            )
        )
    interest = notice.amount("B.5.3")
    if interest:
        principal = notice.amount("B.5.1")
        rate = notice.row("B.5.2").rate
        rate_vi = f", lãi suất {str(rate).replace('.', ',')}%" if rate is not None else ""
        rate_en = f", rate {rate}%" if rate is not None else ""
        findings.append(
            Finding(
                "interest",
                "B.5.3",
                "cong",
                interest,
                f"Đơn vị {unit}, dòng B.5: tiền lãi chậm đóng {format_vnd(interest)} trên "
                f"{format_vnd(principal)}{rate_vi}, phải nộp thêm.",
                f"Unit {unit}, row B.5: {format_vnd(interest, 'en')} interest on late "
                f"payment of {format_vnd(principal, 'en')}{rate_en}, to be paid as well.",
            )
        )
    kept = notice.amount("B.6")
    if kept:
        findings.append(
            Finding(
                "kept",
                "B.6",
                "cong",
                -kept,
                f"Đơn vị {unit}, dòng B.6: thông báo ghi {format_vnd(kept)} để lại đơn vị; "
                f"Luật BHXH 2024 (Điều 34) không còn khoản để lại này, cần hỏi cơ quan BHXH.",
                f"Unit {unit}, row B.6: the notice lets the unit keep "
                f"{format_vnd(kept, 'en')}; the 2024 law (Article 34) has no such part: ask "
                f"the VSS office.",
            )
        )
    return findings


def _short_by(computed: UnitContributions, gap: int) -> tuple[str, str]:
    """When an under-payment is exactly one worker's contributions, say whose."""
    matches = [w for w in computed.workers if w.column("cong") == -gap]
    if len(matches) != 1:
        return ("", "")
    who_vi, who_en = _who(matches[0])
    return (
        f", đúng bằng phần đóng một tháng của {who_vi}",
        f", exactly the monthly contributions of {who_en}",
    )


def _payments(
    computed: UnitContributions, notice: C12Notice, due: int, deadline: dt.date
) -> list[Finding]:
    unit = computed.unit
    findings: list[Finding] = []
    listed = sum(p.so_tien for p in notice.payments)
    if "C" in notice and listed != notice.paid:
        findings.append(
            Finding(
                "payment_lines",
                "C",
                "cong",
                notice.paid - listed,
                f"Đơn vị {unit}, dòng C: tổng đã nộp {format_vnd(notice.paid)} khác tổng "
                f"các lần chuyển tiền {format_vnd(listed)}.",
                f"Unit {unit}, row C: the total paid {format_vnd(notice.paid, 'en')} is not "
                f"the sum of the transfers {format_vnd(listed, 'en')}.",
            )
        )
    gap = notice.paid - due
    transfers_vi = "; ".join(
        f"UNC số {p.so_unc} ngày {p.ngay_nop:%d/%m/%Y}: {format_vnd(p.so_tien)}"
        for p in notice.payments
    )
    transfers_en = "; ".join(
        f"transfer {p.so_unc} of {p.ngay_nop:%d/%m/%Y}: {format_vnd(p.so_tien, 'en')}"
        for p in notice.payments
    )
    paid_vi = f" ({transfers_vi})" if transfers_vi else ""
    paid_en = f" ({transfers_en})" if transfers_en else ""
    if gap < 0:
        whose_vi, whose_en = _short_by(computed, gap)
        findings.append(
            Finding(
                "under_paid",
                "C",
                "cong",
                gap,
                f"Đơn vị {unit}: phải nộp {format_vnd(due)}, đã nộp "
                f"{format_vnd(notice.paid)}{paid_vi}, còn thiếu {format_vnd(-gap)}"
                f"{whose_vi}; hạn nộp {deadline:%d/%m/%Y}.",
                f"Unit {unit}: {format_vnd(due, 'en')} due, {format_vnd(notice.paid, 'en')} "
                f"paid{paid_en}, {format_vnd(-gap, 'en')} short{whose_en}; due by "
                f"{deadline:%d/%m/%Y}.",
            )
        )
    elif gap > 0:
        findings.append(
            Finding(
                "over_paid",
                "C",
                "cong",
                gap,
                f"Đơn vị {unit}: phải nộp {format_vnd(due)}, đã nộp "
                f"{format_vnd(notice.paid)}{paid_vi}, thừa {format_vnd(gap)}.",
                f"Unit {unit}: {format_vnd(due, 'en')} due, {format_vnd(notice.paid, 'en')} "
                f"paid{paid_en}, {format_vnd(gap, 'en')} over.",
            )
        )
    forward_under = notice.amount("Đ.2.2")
    forward_interest = notice.amount("Đ.2.3")
    if forward_under or forward_interest:
        findings.append(
            Finding(
                "carried_forward",
                "Đ.2.2",
                "cong",
                -(forward_under + forward_interest),
                f"Đơn vị {unit}, dòng Đ.2.2: cơ quan BHXH chuyển sang kỳ sau số còn thiếu "
                f"{format_vnd(forward_under)}"
                + (f" và tiền lãi {format_vnd(forward_interest)}" if forward_interest else "")
                + "; số này sẽ bị tính lãi nếu không nộp.",
                f"Unit {unit}, row Đ.2.2: VSS carries {format_vnd(forward_under, 'en')} "
                f"under-paid"
                + (
                    f" and {format_vnd(forward_interest, 'en')} interest"
                    if forward_interest
                    else ""
                )
                + " into the next period; it bears interest until paid.",
            )
        )
    return findings


def amount_due(notice: C12Notice) -> int:
    """What must be paid for the notice's period: A.2.2 + A.3 - A.2.1 + B.3 + B.4.3 +
    B.5.3 - B.6 (our reading of the notice's lines; see the module's docstring)."""
    return (
        notice.amount("A.2.2")
        + notice.amount("A.3")
        - notice.amount("A.2.1")
        + notice.due
        + notice.amount("B.4.3")
        + notice.amount("B.5.3")
        - notice.amount("B.6")
    )


def reconcile(computed: UnitContributions, notice: C12Notice) -> Reconciliation:
    """The unit's computed contributions against its notice for the same period.

    Raises:
        ValueError: the two are for different units or periods (a programming error: the
            caller pairs them).
    """
    if computed.period != notice.period:
        raise ValueError(
            f"computed contributions for {computed.period}, notice for {notice.period}"
        )
    if notice.ma_don_vi and computed.unit != notice.ma_don_vi:
        raise ValueError(f"computed contributions of {computed.unit}, notice of {notice.ma_don_vi}")
    deadline = notice.deadline
    due = amount_due(notice)
    findings = _compare_dues(computed, notice)
    findings += _notice_lines(computed.unit, notice)
    findings += _payments(computed, notice, due, deadline)
    return Reconciliation(
        unit=computed.unit,
        period=computed.period,
        deadline=deadline,
        due=due,
        paid=notice.paid,
        computed_due=computed.due["cong"],
        funds=tuple(FundLine(c, computed.due[c], notice.amount("B.3", c)) for c in AMOUNT_COLUMNS),
        findings=tuple(findings),
    )
