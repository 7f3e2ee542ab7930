"""The example automation (deployments/automations), read and rendered without a server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from prefect.events import Event
from prefect.events.schemas.automations import EventTrigger
from prefect.server.events.actions import SendNotification
from prefect.server.events.schemas.automations import EventTrigger as ServerEventTrigger
from prefect.server.events.schemas.events import Event as ServerEvent
from prefect.server.utilities.user_templates import render_user_template_sync

from deployments.automations import automation_definition
from tasks.events import DossierEvents
from tests.bhxh.overview.journal import business_steps, journal, vss


def _refusal_event() -> Event:
    events: list[Event] = []

    def record(**kwargs: Any) -> None:
        events.append(Event(**kwargs))

    result = vss("rejected", outcome="rejected", messages=("Sai mã số BHXH",))
    steps = business_steps(result=result)
    view = journal("TA0001A", "01/2026", "600", *steps, ident="600-012026-0123456789")
    DossierEvents(unit_name="Công ty TNHH An Phát", emit=record)(view, steps[-1][0])
    (event,) = events
    return event


def test_the_example_fires_on_refusals_and_supplement_requests_of_dossiers() -> None:
    block = uuid.uuid4()
    automation = automation_definition("notify-refusal", block)
    trigger = automation.trigger
    assert isinstance(trigger, EventTrigger)
    assert trigger.expect == {"bhxh.dossier.rejected", "bhxh.dossier.supplement-requested"}
    assert trigger.threshold == 1 and trigger.posture == "Reactive"
    # The event our observer sends is one the server's trigger covers.
    received = ServerEvent.model_validate(_refusal_event().model_dump()).receive()
    assert ServerEventTrigger.model_validate(trigger.model_dump()).covers(received)
    other = ServerEvent.model_validate({**received.model_dump(), "event": "bhxh.dossier.accepted"})
    assert not ServerEventTrigger.model_validate(trigger.model_dump()).covers(other.receive())
    (action,) = automation.actions
    assert action.type == "send-notification"
    assert action.block_document_id == block


def test_its_message_names_the_unit_the_dossier_and_vss_words() -> None:
    (action,) = automation_definition("notify-refusal", uuid.uuid4()).actions
    server_action = SendNotification.model_validate(action.model_dump())  # templates valid
    event = _refusal_event()
    subject = render_user_template_sync(server_action.subject, {"event": event})
    body = render_user_template_sync(server_action.body, {"event": event})
    assert "TA0001A" in subject and "600-012026-0123456789" in subject
    assert "bị từ chối / refused" in subject
    assert "Công ty TNHH An Phát (TA0001A)" in body
    assert "Sai mã số BHXH" in body
    assert "Next action: refused: Sai mã số BHXH" in body


def test_an_unknown_example_lists_the_known_ones() -> None:
    with pytest.raises(FileNotFoundError, match="notify-refusal"):
        automation_definition("notify-everything")


def test_a_silent_run_is_marked_crashed_but_a_paused_or_finished_one_is_not() -> None:
    automation = automation_definition("crashed-when-silent")
    trigger = automation.trigger
    assert isinstance(trigger, EventTrigger)
    assert trigger.posture == "Proactive"
    # A run taken by a worker that died before it started (Pending, no heartbeat yet) too.
    assert trigger.after == {"prefect.flow-run.heartbeat", "prefect.flow-run.Pending"}
    assert {"prefect.flow-run.heartbeat", "prefect.flow-run.Running"} <= trigger.expect
    # Three heartbeats at Prefect's default frequency (180 s) before a run is called dead.
    assert trigger.within.total_seconds() == 3 * 180
    assert {
        "prefect.flow-run.Completed",
        "prefect.flow-run.Paused",
        "prefect.flow-run.Suspended",
    } <= trigger.expect
    server = ServerEventTrigger.model_validate(trigger.model_dump())
    assert server.for_each == {"prefect.resource.id"}  # each run on its own
    (action,) = automation.actions
    assert action.type == "change-flow-run-state" and action.state == "CRASHED"


async def test_an_automation_that_notifies_needs_its_block() -> None:
    from deployments.automations import create_automation

    with pytest.raises(ValueError, match="--block"):
        await create_automation("notify-refusal")
