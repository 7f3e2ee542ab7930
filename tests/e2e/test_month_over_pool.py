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


def _runs_started_by(worker: ManagedProcess) -> int:
    return worker.log_path.read_text(errors="replace").count("submitting flow run")


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
        worker_env=FAST_FLOWS,
    ) as pool:
        server, workers = pool.server, pool.workers
        monthly = run_deployment(server, "monthly_submission/monthly", period=PERIOD)
        # A machine that does not run the monthly run itself dies while it runs units.
        deadline = time.monotonic() + 900
        while True:
            holding = [w for w in workers if monthly in w.log_path.read_text(errors="replace")]
            others = [w for w in workers if w not in holding]
            # ...while it runs some: killed between two runs, it would have none to lose.
            busy = [
                w for w in others if _runs_started_by(w) >= 3 and flow_processes(w)
            ] if holding else []  # fmt: skip
            if busy:
                victim = busy[0]
                break
            assert time.monotonic() < deadline, [
                (w.name, _runs_started_by(w), len(flow_processes(w)), w.tail()) for w in workers
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
        victim_log = victim.log_path.read_text(errors="replace")
        taken_again = [
            c
            for c in children
            if c["id"] in victim_log
            and any(
                c["id"] in w.log_path.read_text(errors="replace")
                for w in workers
                if w is not victim
            )
        ]
        assert taken_again, "no child run of the dead machine was taken again elsewhere"
        print(
            f"\nmonth over the pool: {UNITS} units, {killed} process(es) killed, "
            f"{len(taken_again)} unit run(s) continued on another worker"
        )
