"""A manual run that stops for a person holds no worker: a real server, two process
workers; ``setup_remote_signing`` for a unit whose account holds two fitting certificates
suspends at the certificate choice, the flow-run process ends (counted from ``/proc``), the
worker that ran it is stopped, the answer is given through the API, and the other worker
finishes the run: the 05 change signed with one approval, submitted once.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from demo.scenario import tour_unit
from deployments.server import running_stack
from deployments.stack import flow_run_logs, read_flow_run, run_deployment, unit_ref
from tests.e2e.support import FAST_FLOWS, PERIOD, approvals, audit, submissions, workers_that_ran

pytestmark = pytest.mark.e2e


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (its flow-run processes, for a worker), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z":  # a zombie is no process waiting
            parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def _retrying(call: Callable[[], httpx.Response]) -> httpx.Response:
    """``call()`` again while the server answers 503 (SQLite busy, as Prefect's client does)."""
    for _ in range(10):
        response = call()
        if response.status_code != 503:
            break
        time.sleep(2)
    response.raise_for_status()
    return response


def test_a_suspended_run_holds_no_worker_and_resumes_on_another(
    tmp_path: Path, pki_dir: Path
) -> None:
    unit = dataclasses.replace(tour_unit(), phone_action="approve", approve_after=1.0)
    with running_stack(
        tmp_path / "stack",
        [unit],
        period=PERIOD,
        pki_dir=pki_dir,
        workers=2,
        worker_env=FAST_FLOWS,
        query_seconds=2,
        dossiers=0,
    ) as stack:
        server = stack.server
        run_id = run_deployment(
            server, "setup_remote_signing/setup", unit_block=unit_ref(unit.block)
        )

        # While it runs, a worker has a flow-run process; once suspended, none has.
        busiest = 0
        deadline = time.monotonic() + 240
        while True:
            busiest = max(busiest, *(len(_descendants(w.pid)) for w in stack.workers))
            state = read_flow_run(server, run_id)["state"] or {}
            if state.get("type") == "PAUSED":
                break
            assert state.get("type") not in {"FAILED", "CRASHED", "COMPLETED"}, state
            assert time.monotonic() < deadline, f"not suspended: {state}"
            time.sleep(0.2)
        assert state["name"] == "Suspended", state
        assert state["state_details"]["pause_key"] == "certificate"
        assert state["state_details"]["pause_reschedule"] is True
        assert busiest >= 1
        deadline = time.monotonic() + 60
        while any(_descendants(w.pid) for w in stack.workers):
            assert time.monotonic() < deadline, "a flow-run process is still alive"
            time.sleep(0.5)
        left = {
            name: len(_descendants(w.pid))
            for name, w in zip(stack.worker_names, stack.workers, strict=True)
        }
        assert set(left.values()) == {0}
        assert all(w.alive() for w in stack.workers)
        print(f"\nflow-run processes per worker: at most {busiest} while running, {left} suspended")

        # The worker that ran it goes away: nothing of the run lived there.
        (first,) = workers_that_ran(stack, [run_id]).values()
        stack.workers[stack.worker_names.index(first)].stop()
        other = next(n for n in stack.worker_names if n != first)

        schema = _retrying(
            lambda: httpx.get(
                f"{server.api_url}/flow_runs/{run_id}/input/paused-certificate-schema",
                timeout=10,
            )
        )
        second = stack.sandbox.pki.get("tour-giaphuc-2027").serial_hex.upper()
        assert second in schema.text
        # The drop-down shows each certificate as a line (holder, issuer, validity, serial).
        (line,) = [c for c in schema.json()["properties"]["serial"]["enum"] if second in c]
        assert approvals(stack)[unit.username] == 0
        resumed = _retrying(
            lambda: httpx.post(
                f"{server.api_url}/flow_runs/{run_id}/resume",
                json={"run_input": {"serial": line}},
                timeout=10,
            )
        )
        assert resumed.json()["status"] == "ACCEPT", resumed.json()

        deadline = time.monotonic() + 300
        while (state := read_flow_run(server, run_id)["state"] or {}).get("type") != "COMPLETED":
            assert state.get("type") not in {"FAILED", "CRASHED", "CANCELLED"}, (
                f"{state}\n{flow_run_logs(server, run_id)}"
            )
            assert time.monotonic() < deadline, f"not finished: {state}"
            time.sleep(1)
        log = stack.workers[stack.worker_names.index(other)].log_path.read_text(errors="replace")
        assert f"submitting flow run '{run_id}'" in log
        assert "GP-2027" in flow_run_logs(server, run_id, limit=200)

        # The chosen certificate is not the one VSS has: one 05 change, one approval, once.
        signed = [e for e in audit(stack) if e.get("event") == "sign_request"]
        assert len(signed) == 1
        assert approvals(stack)[unit.username] == 1
        assert list(submissions(stack).values()) == [1]
        assert os.path.exists(stack.data_dir / "store")
