"""C12-TS notices in the portal's shape (call 137) for the tests, built row by row.

The shape and the sample figures are those documented in ``finizi-app/bhxh-proxy-worker``
(``api-docs/code-137.md``): unit TZH490L of VSS office 07906 (Bảo hiểm xã hội cơ sở Bình
Thạnh), 01/2026, two workers, B.3 = 3,398,400 (BHXH 2,655,000; BHYT 477,900; BHTN
212,400; BHTNLĐ 53,100), paid by UNC 01043 of 29/01/2026.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from bhxh.contributions import WorkerPay

UNIT = "TZH490L"
AGENCY = "07906"
AGENCY_NAME = "Bảo hiểm xã hội cơ sở Bình Thạnh"

#: The documented sample's B.3 line, by column.
SAMPLE_DUE = (2_655_000, 477_900, 212_400, 53_100, 3_398_400)


def row(stt: str, text: str, *amounts: object, unit: str = UNIT) -> dict[str, Any]:
    """One ``c12s`` item; amounts in column order (bhxh, bhyt, bhtn, bhtnld, cong), as
    given (strings as the portal writes them; other values to test the reader)."""
    values = list(amounts) + [""] * (5 - len(amounts))
    return {
        "tenDonVi": "Công ty TNHH Ví Dụ",
        "maDonVi": unit,
        "diaChi": "12 Đinh Bộ Lĩnh, Bình Thạnh",
        "stt": stt,
        "noiDung": text,
        "bhxh": values[0],
        "bhyt": values[1],
        "bhtn": values[2],
        "bhtnld": values[3],
        "cong": values[4],
    }


def money(*amounts: int) -> tuple[str, ...]:
    return tuple(str(a) for a in amounts)


def notice_json(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"maCqBhxh": AGENCY, "tenCqBhxh": AGENCY_NAME, "c12s": list(rows)}


def split(total_by_fund: Sequence[int]) -> tuple[str, ...]:
    """A row's five amounts from four fund amounts (``cong`` their sum)."""
    return money(*total_by_fund, sum(total_by_fund))


def standard_rows(
    *,
    headcount: int,
    salary_fund: int,
    due: Sequence[int],
    payments: Sequence[tuple[str, str, Sequence[int]]] = (),
    paid_total: int | None = None,
    extra: Iterable[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """A plausible notice: A (nothing carried), B.1-B.3, C with one line per transfer
    (``(unc, dd/mm/yyyy, four fund amounts)``), D, Đ; ``extra`` rows are added at the end
    (their ``stt`` must not repeat one of these)."""
    paid = [sum(p[2][i] for p in payments) for i in range(4)]
    rows = [
        row("A", "Kỳ trước mang sang"),
        row("B", "Phát sinh trong kỳ"),
        row("B.1", "Số lao động", *money(headcount, headcount, headcount, headcount, headcount)),
        row("B.1.1", "Tăng", *money(headcount, headcount, headcount, headcount, headcount)),
        row("B.2", "Quỹ lương", *money(salary_fund, salary_fund, salary_fund, salary_fund, 0)),
        row("B.3", "Phải đóng", *money(*due)),
        row("C", "Số tiền đã nộp trong kỳ", *split(paid)),
    ]
    if paid_total is not None:
        rows[-1]["cong"] = str(paid_total)
    for number, (unc, day, amounts) in enumerate(payments, start=1):
        rows.append(row(f"C.{number}", f"+ UNC số {unc}, Ngày {day}", *split(amounts)))
    rows += [
        row("D", "Phân bổ tiền đóng"),
        row("D.1", "Phải đóng", *split(paid)),
        row("Đ", "Chuyển kỳ sau"),
        row("Đ.1", "Số lao động", *money(headcount, headcount, headcount, headcount, headcount)),
    ]
    rows += list(extra)
    return rows


def sample_notice_json() -> dict[str, Any]:
    """The documented sample: two workers, B.3 3,398,400 paid in one transfer."""
    return notice_json(
        standard_rows(
            headcount=2,
            salary_fund=10_620_000,
            due=SAMPLE_DUE,
            payments=[("01043", "29/01/2026", SAMPLE_DUE[:4])],
        )
    )


def dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def worker(
    stt: int,
    salary: int,
    *,
    region: int | None = 1,
    action: str = "TM",
    allowances: int = 0,
    name: str = "",
    from_month: str = "",
    to_month: str = "",
) -> WorkerPay:
    return WorkerPay(
        stt=str(stt),
        name=name or f"Người lao động {stt}",
        maso_bhxh=f"79{stt:08d}",
        action=action,
        salary=salary,
        allowances=allowances,
        region=region,
        from_month=from_month,
        to_month=to_month,
    )
