"""A month over a work pool with no shared folder (issue 26): a Prefect server on
PostgreSQL, the dossier store in PostgreSQL, three process workers each with its own empty
data folder, a month of 60 units x 2 dossiers spread as one child run per unit, and one
worker killed (SIGKILL, with its flow runs: its machine died) in the middle.

Counted from the sandbox's audit: every dossier submitted exactly once, at most two
approvals per unit; from the store: every dossier submitted; from the API: the monthly run
completed, the killed worker's runs marked Crashed by the heartbeat automation and taken
again by the others.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from bhxh.pipeline import Step, open_store
from demo.scenario import many_units
from deployments.pool import flow_processes, kill_machine, pool_stack, wait_final
from deployments.postgres import PostgresUnavailable, find_postgres_bin
from deployments.processes import ManagedProcess
from deployments.stack import run_deployment
from flows import overview_key
from sandbox.audit import read_audit
from tests.e2e.support import FAST_FLOWS, PERIOD

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    # Its earlier runs: one passed, one ended Crashed (the API's database connections
    # exhausted: since raised), one Failed on a 500 from the busy API (the spread now
    # tries again); the next passed (919 s beside a browser test).
]

UNITS = 60
DOSSIERS = 2


_SUBMITTING = re.compile(r"submitting flow run '([0-9a-f-]{36})'")
_ABORTED = re.compile(r"Aborted submission of flow run '([0-9a-f-]{36})'")


def _runs_taken_by(worker: ManagedProcess) -> list[str]:
    """The flow runs a worker took, in order. Every idle worker tries to submit a run it
    sees scheduled; all but one are told to abort (CI: the monthly run's id was in all
    three workers' logs, so none counted as a machine without it to kill)."""
    taken: list[str] = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if submitting := _SUBMITTING.search(line):
            taken.append(submitting[1])
        elif (aborted := _ABORTED.search(line)) and aborted[1] in taken:
            del taken[len(taken) - 1 - taken[::-1].index(aborted[1])]
    return taken


def test_a_month_of_60_units_over_three_workers_survives_a_dead_machine(
    tmp_path: Path, pki_dir: Path
) -> None:
    try:
        find_postgres_bin()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    units = many_units(UNITS, prefix="pool", approve_after=1.0)
    with pool_stack(
        tmp_path,
        units,
        period=PERIOD,
        pki_dir=pki_dir,
        workers=3,
        dossiers=DOSSIERS,
        # Under make test's load a flow run took over 90 s from Pending to its first
        # heartbeat: live runs were marked Crashed, three units three times (CI). Here a
        # machine is called dead after 240 s of silence, and a unit's run is scheduled
        # again up to 4 times.
        worker_env={**FAST_FLOWS, "BHXH_CHILD_CRASH_RETRIES": "4"},
        silent_seconds=240,
    ) as pool:
        server, workers = pool.server, pool.workers
        monthly = run_deployment(server, "monthly_submission/monthly", period=PERIOD)
        # A machine that does not run the monthly run itself dies while it runs units.
        deadline = time.monotonic() + 900
        while True:
            taken = {w.name: _runs_taken_by(w) for w in workers}
            holding = [w for w in workers if monthly in taken[w.name]]
            others = [w for w in workers if w not in holding]
            # ...while it runs some: killed between two runs, it would have none to lose.
            busy = [
                w for w in others if len(taken[w.name]) >= 3 and flow_processes(w)
            ] if holding else []  # fmt: skip
            if busy:
                victim = busy[0]
                break
            assert time.monotonic() < deadline, [
                (w.name, len(taken[w.name]), len(flow_processes(w)), w in holding) for w in workers
            ]
            time.sleep(0.5)
        killed = kill_machine(victim)
        assert killed >= 1  # it was running flow runs
        run = wait_final(server, monthly, timeout=1800)
        assert run["state"]["type"] == "COMPLETED", run["state"]

        # Every dossier submitted exactly once; at most two approvals per unit.
        audit = read_audit(pool.sandbox.config.audit_path)
        submitted = Counter(
            str(e.get("dossier_id"))
            for e in audit
            if e.get("service") == "gateway" and e.get("event") == "submitted"
        )
        assert len(submitted) == UNITS * DOSSIERS
        assert set(submitted.values()) == {1}
        approved = Counter(str(e.get("user")) for e in audit if e.get("event") == "approved")
        assert len(approved) == UNITS and max(approved.values()) <= 2

        # The store (PostgreSQL) has every dossier submitted; no worker's folder holds one.
        store = open_store(pool.firm_settings)
        for u in units:
            recs = store.list(u.unit.code, PERIOD)
            assert len(recs) == DOSSIERS and all(r.has(Step.SUBMITTED) for r in recs), u.block
        for worker in workers:
            folder = tmp_path / worker.name.removeprefix("worker ") / "store"
            assert not folder.exists() or not any(folder.rglob("*.json*"))

        # The month view is whole: every unit, every dossier read, none left in an inbox.
        response = httpx.post(
            f"{server.api_url}/artifacts/filter",
            json={
                "artifacts": {"key": {"any_": [overview_key(PERIOD)]}},
                "sort": "CREATED_DESC",
                "limit": 1,
            },
            timeout=120,
        )
        (view,) = response.json()
        said = view["description"]
        assert said.startswith(f"Kỳ {PERIOD}: {UNITS} đơn vị, "), said
        assert f", {UNITS * DOSSIERS} hồ sơ đã đọc và 0 hồ sơ còn trong hộp thư, " in said
        assert all(u.unit.code in view["data"] for u in units)

        # Runs of the dead machine were marked Crashed and taken again elsewhere.
        response = httpx.post(
            f"{server.api_url}/flow_runs/filter",
            json={"flow_runs": {"tags": {"all_": ["monthly-child"]}}, "limit": 200},
            timeout=120,
        )
        children = response.json()
        assert len(children) == UNITS
        assert all(c["state"]["type"] == "COMPLETED" for c in children)
        by_victim = set(_runs_taken_by(victim))
        by_others = {r for w in workers if w is not victim for r in _runs_taken_by(w)}
        taken_again = [c for c in children if c["id"] in by_victim and c["id"] in by_others]
        assert taken_again, "no child run of the dead machine was taken again elsewhere"
        print(
            f"\nmonth over the pool: {UNITS} units, {killed} process(es) killed, "
            f"{len(taken_again)} unit run(s) continued on another worker"
        )
