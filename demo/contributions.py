"""The demo's month closed: what each unit paid VSS, and the export unit's C12-TS notice
as the accountant saves it from the VSS portal.

Everything is invented: the transfers (``soUnc``) and the notice of the export unit,
which the demo writes as the portal would answer (code 137's shape), from the unit's own
D02-TS, since no VSS portal runs here. The gateway units' notices come from the sandbox
gateway, which computes them from the dossiers it accepted and the transfers below.

* An Phát pays what is due in one transfer; Cửu Long in two;
* Bình Minh pays one worker's contribution short (the last worker of its D02-TS): the
  reconciliation shows it short by exactly that, naming nobody missing from the notice;
* Đông Á (export route) pays in full; its notice is read from the dropped file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bhxh.contributions import UnitContributions, compute_unit, workers_from_d02ts
from bhxh.intake import period_folder
from bhxh.submission import NOTICE_FOLDER, NOTICE_JSON
from demo.scenario import DemoUnit, Scenario

__all__ = ["SHORT_UNIT", "drop_notice", "inbox_dues", "plan_payments"]

#: The unit that pays one worker's contribution short.
SHORT_UNIT = "binh-minh"
_FUNDS = ("bhxh", "bhyt", "bhtn", "bhtnld")


def inbox_dues(scenario: Scenario, period: str) -> dict[str, UnitContributions]:
    """Each unit's dues for ``period``, computed from the D02-TS waiting in its inbox."""
    out = {}
    for u in scenario.units:
        folder = scenario.data_dir / "inbox" / u.unit.code / period_folder(period)
        workers = [
            w
            for path in sorted(folder.glob("*/D02-TS*.xml"))
            for w in workers_from_d02ts(path.read_bytes())
        ]
        out[u.unit.code] = compute_unit(u.unit.code, period, workers)
    return out


def _transfer(n: int, day: dt.date, amount: int) -> dict[str, Any]:
    return {"soUnc": f"{n:05d}", "ngayNop": f"{day:%d/%m/%Y}", "soTien": amount}


def plan_payments(
    scenario: Scenario, dues: dict[str, UnitContributions], day: dt.date
) -> dict[str, int]:
    """Record every gateway unit's transfers in the scenario (before the sandbox starts);
    returns, per unit code, how much it is short (0: paid in full)."""
    short: dict[str, int] = {}
    for n, u in enumerate(scenario.units, start=1):
        if u.route != "gateway":
            continue
        due = dues[u.unit.code]
        amount = due.due["cong"]
        short[u.unit.code] = 0
        if u.block == SHORT_UNIT and due.workers:
            short[u.unit.code] = due.workers[-1].column("cong")
            amount -= short[u.unit.code]
        if u.block == "cuu-long":
            half = amount // 2
            transfers = [
                _transfer(100 * n + 1, day, half),
                _transfer(100 * n + 2, day, amount - half),
            ]
        else:
            transfers = [_transfer(100 * n + 1, day, amount)]
        scenario.payments[u.unit.code] = transfers
    return short


def _rows(
    unit: DemoUnit, dues: UnitContributions, transfers: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    def line(
        stt: str, text: str, funds: dict[str, int] | None = None, cong: int | None = None
    ) -> dict[str, Any]:
        values = funds or {}
        return {
            "tenDonVi": unit.unit.name,
            "maDonVi": unit.unit.code,
            "diaChi": unit.unit.address,
            "stt": stt,
            "noiDung": text,
            **{f: str(values[f]) if f in values else "" for f in _FUNDS},
            "cong": "" if cong is None else str(cong),
        }

    paid = sum(int(t["soTien"]) for t in transfers)
    due = dues.due["cong"]
    heads = dict.fromkeys(_FUNDS, dues.headcount)
    bases = {f: sum(w.bases.get(f, 0) for w in dues.workers) for f in _FUNDS}
    rows = [
        line("A", "Kỳ trước mang sang"),
        line("A.1", "Số lao động", dict.fromkeys(_FUNDS, 0)),
        line("B", "Phát sinh trong kỳ", cong=due),
        line("B.1", "Số lao động", heads),
        line("B.1.1", "Tăng", heads),
        line("B.2", "Quỹ lương", bases),
        line("B.3", "Phải đóng", {f: dues.due[f] for f in _FUNDS}, due),
        line("C", "Số tiền đã nộp trong kỳ", cong=paid),
    ]
    rows += [
        line(f"C.{n}", f"+ UNC số {t['soUnc']}, Ngày {t['ngayNop']}", cong=int(t["soTien"]))
        for n, t in enumerate(transfers, start=1)
    ]
    rows += [
        line("D", "Phân bổ tiền đóng", cong=min(paid, due)),
        line("D.1", "Phải đóng", cong=min(paid, due)),
        line("Đ", "Chuyển kỳ sau"),
        line("Đ.1", "Số lao động", heads),
        line("Đ.2.1", "Thừa", cong=max(paid - due, 0)),
        line("Đ.2.2", "Thiếu", cong=max(due - paid, 0)),
    ]
    return rows


def drop_notice(
    scenario: Scenario, unit: DemoUnit, period: str, dues: UnitContributions, day: dt.date
) -> Path:
    """Play the export unit's accountant: save the portal's answer for the period (paid in
    full by one transfer) as ``<outbox>/<unit>/<MM-YYYY>/c12/C12-TS.json``."""
    transfers = [_transfer(9001, day, dues.due["cong"])]
    doc = {
        "maCqBhxh": unit.unit.agency_code,
        "tenCqBhxh": f"Bảo hiểm xã hội cơ sở {unit.unit.agency_code} (thử nghiệm)",
        "c12s": _rows(unit, dues, transfers),
    }
    path = (
        scenario.data_dir
        / "outbox"
        / unit.unit.code
        / period_folder(period)
        / NOTICE_FOLDER
        / NOTICE_JSON
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
