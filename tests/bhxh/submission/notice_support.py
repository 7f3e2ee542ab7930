"""Builders for the C12-TS tests: a 600 dossier whose D02-TS the dues are computed from,
the portal's answer (code 137 shape) for it, and the same rows as a workbook."""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from bhxh.contributions import UnitContributions, compute_unit, workers_from_d02ts
from bhxh.hrdata import WorkerRow, build_d02ts
from bhxh.submission import Submission
from sandbox.pki import IssuedCertificate
from tests.sandbox.gateway.gateway_support import UNIT, declaration, envelope

__all__ = [
    "NOTICE_PERIOD",
    "c12_submission",
    "dues_of",
    "notice_rows",
    "notice_workbook",
    "portal_notice",
]

NOTICE_PERIOD = "01/2026"
_counter = itertools.count(1)


def _workers(n: int) -> list[WorkerRow]:
    return [
        WorkerRow(
            HoTen="Trần Thị Bình",
            MasoBHXH="0101000011",
            ChucVu="Kế toán",
            TienLuong=8_000_000 + n * 100_000,
            PA="TM",
            MavungLTT="01",
        ),
        WorkerRow(
            HoTen="Lê Văn Cường",
            MasoBHXH="0101000012",
            ChucVu="Thủ kho",
            TienLuong=12_500_000,
            PhuCapCV=500_000,
            PA="TM",
            MavungLTT="01",
        ),
    ]


def c12_submission(cert: IssuedCertificate, period: str = NOTICE_PERIOD) -> Submission:
    """A new 600 dossier (two workers joining, region 1) at each call."""
    n = next(_counter)
    d02 = build_d02ts(UNIT, period, _workers(n))

    def edit(_: bytes) -> bytes:
        return d02

    decl = declaration(cert, period=period, edit=edit)
    content = envelope(cert, [decl], period=period)
    return Submission(
        dossier_id=f"600-c12-{n}",
        unit_code=UNIT.code,
        procedure="600",
        period=period,
        kind="envelope",
        filename="BHXHDienTu.xml",
        content=content,
        declarations={decl.filename: decl.content},
    )


def dues_of(submission: Submission) -> UnitContributions:
    """The dues of the dossier's declarations, by the project's computation."""
    workers = [
        w
        for name, data in submission.declarations.items()
        if name.startswith("D02-TS")
        for w in workers_from_d02ts(data)
    ]
    return compute_unit(submission.unit_code, submission.period, workers)


def notice_rows(
    dues: UnitContributions, payments: Sequence[tuple[str, str, int]] = ()
) -> list[dict[str, Any]]:
    """The lines of a notice for ``dues`` (nothing carried over), paid by ``payments``
    (soUnc, ngayNop, soTien)."""
    due = dues.due
    paid = sum(p[2] for p in payments)
    funds = ("bhxh", "bhyt", "bhtn", "bhtnld")

    def line(stt: str, text: str, **amounts: int) -> dict[str, Any]:
        return {
            "tenDonVi": UNIT.name,
            "maDonVi": dues.unit,
            "diaChi": UNIT.address,
            "stt": stt,
            "noiDung": text,
            **{c: str(amounts[c]) if c in amounts else "" for c in (*funds, "cong")},
        }

    count = dict.fromkeys(funds, dues.headcount)
    salary = dict.fromkeys(funds, dues.salary_fund)
    rows = [
        line("A", "Kỳ trước mang sang"),
        line("B", "Phát sinh trong kỳ", cong=due["cong"]),
        line("B.1", "Số lao động", **count),
        line("B.2", "Quỹ lương", **salary),
        line("B.3", "Phải đóng", **{c: due[c] for c in (*funds, "cong")}),
        line("C", "Số tiền đã nộp trong kỳ", cong=paid),
    ]
    rows += [
        line(f"C.{n}", f"+ UNC số {unc}, Ngày {day}", cong=amount)
        for n, (unc, day, amount) in enumerate(payments, start=1)
    ]
    short = due["cong"] - paid
    rows += [
        line("D.1", "Phải đóng", cong=min(paid, due["cong"])),
        line("Đ.1", "Số lao động", **count),
        line("Đ.2.1", "Thừa", cong=max(-short, 0)),
        line("Đ.2.2", "Thiếu", cong=max(short, 0)),
    ]
    return rows


def portal_notice(
    dues: UnitContributions, payments: Sequence[tuple[str, str, int]] = ()
) -> dict[str, Any]:
    """The portal's answer (code 137 shape) for ``dues``."""
    return {
        "maCqBhxh": UNIT.agency_code,
        "tenCqBhxh": "Bảo hiểm xã hội cơ sở Thử Nghiệm",
        "c12s": notice_rows(dues, payments),
    }


def notice_workbook(doc: dict[str, Any], *, cells: dict[str, object] | None = None) -> bytes:
    """The same notice as a workbook (the layout ``bhxh.submission.notice_files`` reads);
    ``cells`` overwrite cells by reference (``{"C9": "=1+1"}``)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "C12-TS"
    sheet.append(["maCqBhxh", doc["maCqBhxh"]])
    sheet.append(["tenCqBhxh", doc["tenCqBhxh"]])
    sheet.append([])
    sheet.append(["STT", "Nội dung", "BHXH", "BHYT", "BHTN", "BHTNLĐ-BNN", "Cộng"])
    for row in doc["c12s"]:
        values: list[object] = [row["stt"], row["noiDung"]]
        for key in ("bhxh", "bhyt", "bhtn", "bhtnld", "cong"):
            values.append(int(row[key]) if row[key] else None)
        sheet.append(values)
    for ref, value in (cells or {}).items():
        sheet[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
