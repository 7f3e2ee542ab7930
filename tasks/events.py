"""Prefect events for what a person may want to be told of: dossiers, approvals, warnings.

Users turn them into notifications with Prefect's own automations and notification blocks
(``deployments/automations/``). Every event names the unit, the period, the dossier(s) and
the procedure(s) as resource labels (``bhxh.unit``, ``bhxh.period``, ``bhxh.dossier``,
``bhxh.procedure``), so an automation can match on them; the payload holds what the
overview shows (status, receipt, outcome, VSS's message, the next action). No secret is
ever in one: no token, password, key, one-time code or signature; only codes, receipts,
the signer's account name (whose phone) and what VSS or the provider said.

=================================  ==========================================================
event                              when
=================================  ==========================================================
``bhxh.dossier.signed``            round 2 applied: the envelope or form is signed
``bhxh.dossier.submitted``         a carrier (the I-VAN's gateway) acknowledged it
``bhxh.dossier.exported``          written out for the I-VAN's own software
``bhxh.dossier.numbered``          VSS gave it a number (``soHoSo``)
``bhxh.dossier.accepted``          VSS accepted it
``bhxh.dossier.rejected``          VSS refused it, or the carrier refused it at hand-over
``bhxh.dossier.supplement-requested``  VSS asks for a supplement
``bhxh.approval.requested``        a signing request went to the signer's phone
``bhxh.approval.approved``         the signer approved it
``bhxh.approval.rejected``         the signer refused it (or it was cancelled)
``bhxh.approval.expired``          nobody approved it in time
``bhxh.approval.failed``           the provider failed it
``bhxh.warning.<kind>``            a warning of the overview (``bhxh.overview``), once a day
=================================  ==========================================================

Dossier events come from the pipeline's observer seam (:class:`DossierEvents`, which a
unit's session gives its pipeline): one per journal step that changes what a person sees,
with the step's own time and an id derived from it, so that the same step is never two
events. This module knows nothing of sessions: what it needs comes as plain arguments.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prefect.events import emit_event
from prefect.runtime import flow_run

from bhxh.overview import OverviewWarning, dossier_row
from bhxh.pipeline import DossierView, Step
from esign.models import Transaction, TxStatus

__all__ = [
    "APPROVAL_EVENTS",
    "DOSSIER_EVENTS",
    "DossierEvents",
    "announce_approval",
    "approval_event_name",
    "dossier_event_name",
    "emit_approval",
    "emit_warnings",
]

log = logging.getLogger("tasks.events")

#: Called like ``prefect.events.emit_event`` (tests pass a recorder).
Emit = Callable[..., Any]

DOSSIER_EVENTS = (
    "bhxh.dossier.signed",
    "bhxh.dossier.submitted",
    "bhxh.dossier.exported",
    "bhxh.dossier.numbered",
    "bhxh.dossier.accepted",
    "bhxh.dossier.rejected",
    "bhxh.dossier.supplement-requested",
)
APPROVAL_EVENTS = {
    TxStatus.PENDING: "bhxh.approval.requested",
    TxStatus.SUCCEEDED: "bhxh.approval.approved",
    TxStatus.REJECTED: "bhxh.approval.rejected",
    # The documents are silent on who cancels; our choice: like a refusal, a person
    # must ask again.
    TxStatus.CANCELLED: "bhxh.approval.rejected",
    TxStatus.EXPIRED: "bhxh.approval.expired",
    TxStatus.FAILED: "bhxh.approval.failed",
}

_NAMESPACE = uuid.UUID("6f1d3c52-9a0e-4c1b-8d43-5b2f7e0a1c9d")
_SIMPLE = {
    Step.SIGNED: "bhxh.dossier.signed",
    Step.SUBMITTED: "bhxh.dossier.submitted",
    Step.EXPORTED: "bhxh.dossier.exported",
    Step.RECEIPT: "bhxh.dossier.numbered",
    Step.FAILED: "bhxh.dossier.rejected",  # refused by the carrier at hand-over
}


def dossier_event_name(view: DossierView, step: Step) -> str | None:
    """The event a journal step makes, or None (a step no person needs to hear of)."""
    if step in _SIMPLE:
        return _SIMPLE[step]
    if step is not Step.RESULT or view.result is None:
        return None
    result = view.result
    if result.status == "accepted" or result.outcome == "accepted":
        return "bhxh.dossier.accepted"
    if result.status == "supplement_requested" or result.outcome == "supplement":
        return "bhxh.dossier.supplement-requested"
    if {result.status, result.outcome} & {"rejected", "rejected_at_receipt"}:
        return "bhxh.dossier.rejected"
    return None


def approval_event_name(status: TxStatus) -> str:
    return APPROVAL_EVENTS[status]


def _related(extra: Iterable[dict[str, str]] = ()) -> list[dict[str, str]]:
    """The current flow run (when there is one), then ``extra``."""
    related = []
    if flow_run.id is not None:
        related.append(
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run.id}",
                "prefect.resource.role": "flow-run",
            }
        )
    return related + list(extra)


def _unit_related(unit_code: str) -> dict[str, str]:
    return {"prefect.resource.id": f"bhxh.unit.{unit_code}", "prefect.resource.role": "unit"}


def _labels(**labels: str) -> dict[str, str]:
    """Resource labels ``bhxh.<name>``, the empty ones left out."""
    return {f"bhxh.{k}": v for k, v in labels.items() if v}


def _send(emit: Emit | None, **event: Any) -> None:
    try:
        (emit or emit_event)(**event)
    except Exception:  # an event is a courtesy: it never stops a run
        log.warning("could not emit event %s", event.get("event"), exc_info=True)


class DossierEvents:
    """The pipeline's observer: a Prefect event per state change of a unit's dossiers.

    Args:
        unit_name: the unit's name (the resource's name in the event feed).
        account: the signer's provider account (named in the next action).
        ivan_code: the unit's I-VAN (where its dossiers go).
        emit: how to send (default ``prefect.events.emit_event``).
    """

    def __init__(
        self,
        *,
        unit_name: str = "",
        account: str = "",
        ivan_code: str = "",
        emit: Emit | None = None,
    ) -> None:
        self.unit_name = unit_name
        self.account = account
        self.ivan_code = ivan_code
        self.emit = emit

    def __call__(self, view: DossierView, step: Step) -> None:
        name = dossier_event_name(view, step)
        if name is None:
            return
        entry = view.record.last(step)
        occurred = entry.at if entry is not None else dt.datetime.now(dt.UTC)
        row = dossier_row(
            view,
            unit_name=self.unit_name,
            account=self.account,
            ivan_code=self.ivan_code,
            now=occurred,
        )
        payload = {"step": str(step), **row.to_data()}
        _send(
            self.emit,
            event=name,
            resource={
                "prefect.resource.id": f"bhxh.dossier.{view.id}",
                "prefect.resource.name": f"{view.procedure} {view.period} {view.unit_code}",
                **_labels(
                    unit=view.unit_code,
                    dossier=view.id,
                    period=view.period,
                    procedure=view.procedure,
                ),
            },
            related=_related([_unit_related(view.unit_code)]),
            payload=payload,
            occurred=occurred,
            id=uuid.uuid5(_NAMESPACE, f"{view.id}:{step}:{occurred.isoformat()}"),
        )


def emit_approval(
    unit_code: str,
    views: Sequence[DossierView],
    round_no: int,
    tx: Transaction,
    *,
    account: str,
    provider: str,
    reference: str = "",
    event: str | None = None,
    emit: Emit | None = None,
) -> None:
    """An approval's event: ``event``, by default the one ``tx``'s status says (pending:
    requested; approved, rejected, expired, failed)."""
    if not views:
        return
    name = event or approval_event_name(tx.status)
    dossiers = [v.id for v in views]
    procedures = sorted({v.procedure for v in views})
    period = views[0].period
    # The phone's words: "lần ký 1/1" for a form's only approval, "1/2" and "2/2" otherwise.
    total = max(v.approvals_needed for v in views)
    position = round_no if total == 2 else 1
    _send(
        emit,
        event=name,
        resource={
            "prefect.resource.id": f"bhxh.approval.{tx.id}",
            "prefect.resource.name": f"{unit_code} {period}, lần duyệt {position}/{total} / "
            f"approval {position} of {total}",
            **_labels(
                unit=unit_code,
                dossier=",".join(dossiers),
                period=period,
                procedure=",".join(procedures),
                round=str(round_no),
            ),
        },
        related=_related(
            [_unit_related(unit_code)]
            + [
                {"prefect.resource.id": f"bhxh.dossier.{d}", "prefect.resource.role": "dossier"}
                for d in dossiers
            ]
        ),
        payload={
            "unit": unit_code,
            "period": period,
            "round": round_no,
            "approval": position,
            "approvals": total,
            "provider": provider,
            "account": account,
            "transaction_id": tx.id,
            "reference": reference,
            "status": str(tx.status),
            "expires_at": tx.expires_at.isoformat() if tx.expires_at else None,
            "dossiers": dossiers,
            "procedures": procedures,
            "provider_code": tx.error_code,
            "provider_message": tx.message,
        },
    )


def emit_warnings(warnings: Iterable[OverviewWarning], *, emit: Emit | None = None) -> int:
    """One ``bhxh.warning.<kind>`` event per warning; returns how many were sent."""
    n = 0
    for w in warnings:
        concerned = f"bhxh.dossier.{w.dossier}" if w.dossier else f"bhxh.unit.{w.unit}"
        _send(
            emit,
            event=f"bhxh.warning.{w.kind}",
            resource={
                "prefect.resource.id": concerned,
                "prefect.resource.name": w.unit_name or w.unit,
                **_labels(unit=w.unit, dossier=w.dossier, period=w.period, procedure=w.procedure),
            },
            related=_related([_unit_related(w.unit)] if w.dossier else []),
            payload=w.to_data(),
        )
        n += 1
    return n


def announce_approval(
    unit_code: str,
    views: Sequence[DossierView],
    round_no: int,
    tx: Transaction,
    reference: str = "",
    *,
    account: str,
    provider: str,
    requested: bool = False,
) -> None:
    """:func:`emit_approval` as a signing round calls it: ``requested=True`` right after
    the request went out; otherwise only a final outcome is announced (a wait that ended
    with the transaction still pending says nothing)."""
    if tx.status is TxStatus.PENDING and not requested:
        return
    emit_approval(
        unit_code,
        views,
        round_no,
        tx,
        account=account,
        provider=provider,
        reference=reference,
        event=APPROVAL_EVENTS[TxStatus.PENDING] if requested else None,
    )
