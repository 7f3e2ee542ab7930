"""The dead-machine automation on a real Prefect server (its trigger and action services):
a run a worker took (Pending) whose machine died before the run started is marked Crashed,
like a run whose heartbeats stopped; a run that started and finished is left alone.

No worker is needed: the states a worker and a flow run would set are set through the API
(the server emits their events), and the heartbeats a running flow sends are sent as
events. The window is shortened to 20 s (Prefect's heartbeats come every 30 s at the
least; the file's window is three heartbeats).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest
from prefect.events import Event
from prefect.events.clients import PrefectEventsClient

from deployments.stack import api_settings, start_prefect_server

pytestmark = [pytest.mark.e2e]

WINDOW = 20


def _state(api: httpx.Client, run_id: str, kind: str) -> None:
    response = api.post(
        f"/flow_runs/{run_id}/set_state", json={"state": {"type": kind}, "force": True}
    )
    response.raise_for_status()
    assert response.json()["status"] == "ACCEPT", response.json()


def _run(api: httpx.Client, flow_id: str, name: str) -> str:
    response = api.post("/flow_runs/", json={"flow_id": flow_id, "name": name})
    response.raise_for_status()
    run_id: str = response.json()["id"]
    return run_id


async def _heartbeat(api_url: str, run_id: str) -> None:
    async with PrefectEventsClient(api_url=api_url) as events:
        await events.emit(
            Event(
                event="prefect.flow-run.heartbeat",
                resource={"prefect.resource.id": f"prefect.flow-run.{run_id}"},
                id=uuid.uuid4(),
            )
        )


def test_a_run_whose_machine_died_before_it_started_is_marked_crashed(tmp_path: Path) -> None:
    from deployments.automations import create_automation

    # A wait, not an assertion: beside make test's other stacks on two cores, a cold
    # server once took over 180 s to answer /health.
    server = start_prefect_server(tmp_path / "prefect", timeout=360)
    try:
        with api_settings(server):
            asyncio.run(create_automation("crashed-when-silent", within=WINDOW))
        api = server.api()
        flow_id = api.post("/flows/", json={"name": "silent"}).json()["id"]
        dead = _run(api, flow_id, "taken-then-machine-died")
        finished = _run(api, flow_id, "started-and-finished")
        for run_id in (dead, finished):
            _state(api, run_id, "SCHEDULED")
            _state(api, run_id, "PENDING")  # a worker took it
        _state(api, finished, "RUNNING")
        asyncio.run(_heartbeat(server.api_url, finished))
        _state(api, finished, "COMPLETED")

        deadline = time.monotonic() + WINDOW + 120  # the proactive check runs every few s
        while time.monotonic() < deadline:
            state = api.get(f"/flow_runs/{dead}").json()["state"]
            if state["type"] != "PENDING":
                break
            time.sleep(2)
        assert state["type"] == "CRASHED", state
        assert "Mất tín hiệu" in (state["message"] or "")
        time.sleep(WINDOW / 2)  # the finished run's window would have ended as well
        assert api.get(f"/flow_runs/{finished}").json()["state"]["type"] == "COMPLETED"
    finally:
        server.stop()
