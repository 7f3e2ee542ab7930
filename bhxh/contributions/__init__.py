"""The month closed: contributions computed from the declarations, the C12-TS notice read
into a model, and the two reconciled.

* :mod:`~bhxh.contributions.rates`: rates, floors and caps as data, one row per rule with
  its legal source and start date;
* :mod:`~bhxh.contributions.compute`: per worker and fund the employer's and the worker's
  shares, per unit the notice's B.1 / B.2 / B.3 / B.6;
* :mod:`~bhxh.contributions.notice`: the C12-TS notice (the VSS portal's answer), its
  strict reader, the payment history and the transfer note;
* :mod:`~bhxh.contributions.reconcile`: computed against notice, every difference a line a
  person reads, Vietnamese first.

Plain Python on the base layer only (errors, periods, xmlsafe, vntext): the submission
port, the month view and the flows may all use it.

Example:
    >>> dues = compute_unit("TZH490L", "01/2026", workers_from_d02ts(d02_bytes))
    >>> notice = parse_c12(portal_json, period="01/2026", unit="TZH490L")
    >>> reconcile(dues, notice).difference
    0
"""

from __future__ import annotations

from bhxh.contributions.compute import (
    ALLOWANCE_FIELDS,
    CONTRIBUTING_ACTIONS,
    Share,
    UnitContributions,
    WorkerContribution,
    WorkerPay,
    compute_unit,
    compute_worker,
    worker_from_row,
    workers_from_d02ts,
)
from bhxh.contributions.notice import (
    AMOUNT_COLUMNS,
    MAX_NOTICE_BYTES,
    REQUIRED_ROWS,
    C12Notice,
    C12NoticeInvalid,
    Column,
    NoticePayment,
    NoticeRow,
    PaymentRecord,
    parse_c12,
    parse_payment_history,
    transfer_note,
)
from bhxh.contributions.rates import (
    CAPS,
    FLOORS,
    FUND_COLUMN,
    FUND_LABELS,
    FUNDS,
    RATES,
    REFERENCE_LEVELS,
    REGIONAL_MINIMUMS,
    SCHEDULE,
    AmountRow,
    CapRow,
    FloorRow,
    Fund,
    Law,
    RateRow,
    RegionRow,
    Schedule,
)
from bhxh.contributions.reconcile import (
    FINDING_KINDS,
    Finding,
    FundLine,
    Reconciliation,
    amount_due,
    format_vnd,
    reconcile,
)

__all__ = [
    "ALLOWANCE_FIELDS",
    "AMOUNT_COLUMNS",
    "CAPS",
    "CONTRIBUTING_ACTIONS",
    "FINDING_KINDS",
    "FLOORS",
    "FUNDS",
    "FUND_COLUMN",
    "FUND_LABELS",
    "MAX_NOTICE_BYTES",
    "RATES",
    "REFERENCE_LEVELS",
    "REGIONAL_MINIMUMS",
    "REQUIRED_ROWS",
    "SCHEDULE",
    "AmountRow",
    "C12Notice",
    "C12NoticeInvalid",
    "CapRow",
    "Column",
    "Finding",
    "FloorRow",
    "Fund",
    "FundLine",
    "Law",
    "NoticePayment",
    "NoticeRow",
    "PaymentRecord",
    "RateRow",
    "Reconciliation",
    "RegionRow",
    "Schedule",
    "Share",
    "UnitContributions",
    "WorkerContribution",
    "WorkerPay",
    "amount_due",
    "compute_unit",
    "compute_worker",
    "format_vnd",
    "parse_c12",
    "parse_payment_history",
    "reconcile",
    "transfer_note",
    "worker_from_row",
    "workers_from_d02ts",
]
