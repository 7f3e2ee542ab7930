"""The events (tasks.events): which step makes which event, labels, payloads, ids."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from prefect.events import Event

from bhxh.overview import OverviewWarning
from bhxh.pipeline import Step
from esign.models import Transaction, TxStatus
from tasks.events import DossierEvents, dossier_event_name, emit_approval, emit_warnings
from tests.bhxh.overview.journal import business_steps, journal, vss

PERIOD = "01/2026"


class Recorder:
    """Stands in for ``emit_event``: keeps each event, validated as Prefect would."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, **kwargs: Any) -> Event:
        event = Event(**kwargs)
        self.events.append(event)
        return event

    @property
    def names(self) -> list[str]:
        return [e.event for e in self.events]


def _replay(view_steps: list[tuple[Step, dict[str, Any]]], route: str = "gateway") -> Recorder:
    """Tell the observer of every step of a journal, as the pipeline does while writing."""
    recorder = Recorder()
    observe = DossierEvents(
        unit_name="Công ty TNHH An Phát", account="anphat.ketoan", emit=recorder
    )
    for n in range(1, len(view_steps) + 1):
        view = journal("TA0001A", PERIOD, "600", *view_steps[:n], ident="600-012026-00000000aa")
        observe(view, view_steps[n - 1][0])
    return recorder


def test_a_dossier_through_the_gateway_makes_signed_submitted_numbered_accepted() -> None:
    accepted = vss("accepted", outcome="accepted", messages=("Hồ sơ đã được giải quyết",))
    recorder = _replay(business_steps(result=accepted))
    assert recorder.names == [
        "bhxh.dossier.signed",
        "bhxh.dossier.submitted",
        "bhxh.dossier.numbered",
        "bhxh.dossier.accepted",
    ]
    final = recorder.events[-1]
    assert final.resource.id == "bhxh.dossier.600-012026-00000000aa"
    assert {
        k: final.resource[k] for k in ("bhxh.unit", "bhxh.dossier", "bhxh.period", "bhxh.procedure")
    } == {
        "bhxh.unit": "TA0001A",
        "bhxh.dossier": "600-012026-00000000aa",
        "bhxh.period": PERIOD,
        "bhxh.procedure": "600",
    }
    assert final.payload["so_ho_so"] == "00012/2026/07906"
    assert final.payload["next_action"] == "nothing to do"
    assert final.payload["status"] == "accepted"
    assert [r.id for r in final.related] == ["bhxh.unit.TA0001A"]  # no flow run here


def test_an_export_makes_exported() -> None:
    recorder = _replay(business_steps(route="export")[:8])
    assert recorder.names == ["bhxh.dossier.signed", "bhxh.dossier.exported"]
    assert recorder.events[-1].payload["route"] == "export"


@pytest.mark.parametrize(
    ("result", "name", "action"),
    [
        (
            vss("rejected", outcome="rejected", messages=("Sai mã",)),
            "bhxh.dossier.rejected",
            "refused: Sai mã",
        ),
        (
            vss("supplement_requested", outcome="supplement", messages=("Bổ sung hợp đồng",)),
            "bhxh.dossier.supplement-requested",
            "supplement requested: Bổ sung hợp đồng",
        ),
    ],
)
def test_a_refusal_and_a_supplement_request_carry_vss_message(
    result: dict[str, Any], name: str, action: str
) -> None:
    event = _replay(business_steps(result=result)).events[-1]
    assert event.event == name
    assert event.payload["next_action"] == action


def test_a_refusal_at_hand_over_is_a_rejection() -> None:
    steps = [*business_steps()[:7], (Step.FAILED, {"message": "Code 1: sai", "code": "1"})]
    assert _replay(steps).names == ["bhxh.dossier.signed", "bhxh.dossier.rejected"]


def test_steps_nobody_needs_to_hear_of_make_no_event() -> None:
    view = journal("TA0001A", PERIOD, "600", *business_steps()[:6])
    for step in (Step.LOADED, Step.PREPARED, Step.ROUND1_REQUESTED, Step.DECLARATIONS_SIGNED):
        assert dossier_event_name(view, step) is None


def test_the_same_step_always_has_the_same_event_id() -> None:
    steps = business_steps()[:6]
    assert _replay(steps).events[0].id == _replay(steps).events[0].id


def test_an_approval_names_every_dossier_and_procedure_it_covers() -> None:
    recorder = Recorder()
    views = [
        journal("TA0001A", PERIOD, "600", ident="600-012026-aaaaaaaaaa"),
        journal("TA0001A", PERIOD, "05", ident="05-012026-bbbbbbbbbb"),
    ]
    expires = dt.datetime(2026, 2, 10, 1, 5, tzinfo=dt.UTC)
    for status in (TxStatus.PENDING, TxStatus.SUCCEEDED, TxStatus.REJECTED, TxStatus.EXPIRED):
        tx = Transaction("TX-77", "misa", status, signatures={"d": b"sig"}, expires_at=expires)
        emit_approval(
            "TA0001A", views, 2, tx, account="anphat.ketoan", provider="misa", emit=recorder
        )
    assert recorder.names == [
        "bhxh.approval.requested",
        "bhxh.approval.approved",
        "bhxh.approval.rejected",
        "bhxh.approval.expired",
    ]
    event = recorder.events[0]
    assert event.resource.id == "bhxh.approval.TX-77"
    assert event.resource["bhxh.dossier"] == "600-012026-aaaaaaaaaa,05-012026-bbbbbbbbbb"
    assert event.resource["bhxh.procedure"] == "05,600"
    assert event.resource["bhxh.period"] == PERIOD
    assert event.payload["account"] == "anphat.ketoan"
    assert "signatures" not in event.payload and "sig" not in str(event.payload)
    assert {r.id for r in event.related} >= {
        "bhxh.dossier.600-012026-aaaaaaaaaa",
        "bhxh.dossier.05-012026-bbbbbbbbbb",
    }


def test_each_warning_is_an_event_on_what_it_concerns() -> None:
    recorder = Recorder()
    unit_warning = OverviewWarning(
        "certificate-expiring", "TA0001A", "An Phát", PERIOD, "vi", "en", 12, "2026-02-22"
    )
    dossier_warning = OverviewWarning(
        "change-pending", "TA0001A", "An Phát", PERIOD, "vi", "en", -6, "2026-02-04",
        dossier="05-022026-cccccccccc", procedure="05",
    )  # fmt: skip
    assert emit_warnings([unit_warning, dossier_warning], emit=recorder) == 2
    first, second = recorder.events
    assert first.event == "bhxh.warning.certificate-expiring"
    assert first.resource.id == "bhxh.unit.TA0001A"
    assert "bhxh.dossier" not in first.resource
    assert first.payload["days"] == 12
    assert second.resource.id == "bhxh.dossier.05-022026-cccccccccc"
    assert second.resource["bhxh.procedure"] == "05"


def test_a_failing_sender_never_stops_the_caller() -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("events down")

    warning = OverviewWarning("inbox-empty", "TA0001A", "", PERIOD, "vi", "en", 18, "2026-02-28")
    assert emit_warnings([warning], emit=broken) == 1


def test_the_events_module_never_imports_the_session() -> None:
    # tasks.session imports the events (its pipeline's observer); the arrow points one way.
    import ast
    import inspect

    import tasks.events

    tree = ast.parse(inspect.getsource(tasks.events))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not {m for m in imported if m and m.startswith("tasks.")}, imported
