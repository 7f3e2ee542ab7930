"""Dossier journals written by hand, as the pipeline would leave them (no store on disk)."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from bhxh.pipeline import DossierRecord, DossierView, Step, StepRecord

_SERIAL = itertools.count(1)
T0 = dt.datetime(2026, 2, 10, 1, 0, tzinfo=dt.UTC)  # 08:00 in Hà Nội


def journal(
    unit: str,
    period: str,
    procedure: str,
    *steps: tuple[Step, dict[str, Any]],
    ident: str | None = None,
    start: dt.datetime = T0,
    name: str = "01-bao-tang",
) -> DossierView:
    """A dossier whose journal holds ``loaded`` then ``steps``, a minute apart."""
    entries = [StepRecord(Step.LOADED, start, {"files": 1})]
    for n, (step, data) in enumerate(steps, start=1):
        entries.append(StepRecord(step, start + dt.timedelta(minutes=n), data))
    ident = ident or f"{procedure}-{period.replace('/', '')}-{next(_SERIAL):010d}"
    record = DossierRecord(
        id=ident,
        unit_code=unit,
        period=period,
        procedure=procedure,
        name=name,
        path=Path("/nonexistent") / ident,
        steps=tuple(entries),
    )
    return DossierView(record)


def prepared(serial: str = "AB12") -> dict[str, Any]:
    return {"certificate_serial": serial, "items": []}


def requested(tx: str | None, expires: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "client_transaction_id": "TA-r1-x",
        "transaction_id": tx,
        "expires_at": expires.isoformat() if expires else None,
        "dossiers": [],
    }


def signed(tx: str) -> dict[str, Any]:
    return {"transaction_id": tx, "files": ["BHXHDienTu.xml"]}


def acknowledged(route: str = "gateway") -> dict[str, Any]:
    return {
        "gateway_transaction_id": "GW-1" if route == "gateway" else "/out/manifest.json",
        "received_at": T0.isoformat(),
        "duplicate": False,
        "route": route,
        "location": "" if route == "gateway" else "/out",
    }


def vss(
    status: str,
    so_ho_so: str | None = "00012/2026/07906",
    *,
    dot: int | None = 1,
    outcome: str | None = None,
    messages: tuple[str, ...] = (),
    promised: str | None = "2026-02-17",
) -> dict[str, Any]:
    return {
        "status": status,
        "so_ho_so": so_ho_so,
        "dot": dot,
        "promised_date": promised,
        "outcome": outcome,
        "messages": list(messages),
    }


def business_steps(
    *, result: dict[str, Any] | None = None, route: str = "gateway"
) -> list[tuple[Step, dict[str, Any]]]:
    """A 600 dossier's journal up to its hand-over, then the receipt and the result."""
    steps: list[tuple[Step, dict[str, Any]]] = [
        (Step.PREPARED, prepared()),
        (Step.ROUND1_REQUESTED, requested("TX-1")),
        (Step.DECLARATIONS_SIGNED, signed("TX-1")),
        (Step.ENVELOPE_PREPARED, prepared()),
        (Step.ROUND2_REQUESTED, requested("TX-2")),
        (Step.SIGNED, signed("TX-2")),
        (Step.SUBMITTING, {"file": "BHXHDienTu.xml"}),
        (Step.SUBMITTED if route == "gateway" else Step.EXPORTED, acknowledged(route)),
        (Step.RECEIPT, vss("numbered", messages=("Đã cấp số hồ sơ 00012/2026/07906, đợt 1",))),
    ]
    if result is not None:
        steps.append((Step.RESULT, result))
    return steps
