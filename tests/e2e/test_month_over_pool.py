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

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from bhxh.pipeline import Step, open_store
from bhxh.settings import Settings
from demo.scenario import Scenario, many_units
from deployments.automations import create_automation
from deployments.inbox import load_period
from deployments.postgres import PostgresCluster, PostgresUnavailable
from deployments.processes import ManagedProcess
from deployments.stack import (
    PrefectServer,
    api_settings,
    deploy_all,
    run_deployment,
    start_prefect_server,
    start_worker,
    wait_for_workers,
)
from sandbox.audit import read_audit
from sandbox.config import start_sandbox
from sandbox.pki import TestPKI
from tests.e2e.support import FAST_FLOWS, PERIOD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UNITS = 60
DOSSIERS = 2


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _kill_machine(worker: ManagedProcess) -> int:
    """SIGKILL the worker and every process under it (its flow runs): a machine dying."""
    pids = [worker.pid, *_descendants(worker.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(pids) - 1


def _wait_final(server: PrefectServer, flow_run_id: str, timeout: float) -> dict[str, Any]:
    """The run once final; a read the busy server does not answer in time is tried again
    (sixty child runs and their events keep a two-core machine's API busy)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{server.api_url}/flow_runs/{flow_run_id}", timeout=60)
            response.raise_for_status()
        except httpx.HTTPError:
            time.sleep(2)
            continue
        run: dict[str, Any] = response.json()
        if (run.get("state") or {}).get("type") in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            return run
        time.sleep(5)
    raise TimeoutError(f"flow run {flow_run_id} not final after {timeout} s")


def _runs_started_by(worker: ManagedProcess) -> int:
    return worker.log_path.read_text(errors="replace").count("submitting flow run")


async def _save_units(scenario: Scenario, pki: TestPKI) -> None:
    """Each unit's certificate chosen and registered (what setup saves), and no inbox or
    outbox folder in its block: each worker uses its own data folder."""
    from blocks import BhxhUnit

    for u in scenario.units:
        unit = await BhxhUnit.aload_unit(u.block)
        serial = format(pki.get(u.certificates[0].pki_name).certificate.serial_number, "X")
        unit.certificate_serial = serial
        unit.registered_serial = serial
        unit.registration_state = "registered"
        unit.inbox_dir = ""
        unit.outbox_dir = ""
        await unit.asave(u.block, overwrite=True)


def test_a_month_of_60_units_over_three_workers_survives_a_dead_machine(
    tmp_path: Path, pki_dir: Path
) -> None:
    try:
        cluster = PostgresCluster.create()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    with cluster:
        store_url = (
            f"postgresql://{cluster.user}:{cluster.password}@127.0.0.1:{cluster.port}/"
            f"{cluster.database}"
        )
        server = start_prefect_server(tmp_path / "prefect", database_url=cluster.url)
        try:
            _month(tmp_path, pki_dir, server, store_url)
        finally:
            server.stop()


def _month(tmp_path: Path, pki_dir: Path, server: PrefectServer, store_url: str) -> None:
    firm = tmp_path / "firm"  # the machine where the month's files are put
    units = many_units(UNITS, prefix="pool", approve_after=1.0)
    scenario = Scenario(units, data_dir=firm, pki_dir=pki_dir)
    scenario.issue_registered_certificates()
    scenario.fill_inbox(PERIOD, dossiers=DOSSIERS, workers=2)
    sandbox = start_sandbox(scenario.sandbox_config())
    workers: list[ManagedProcess] = []
    try:
        assert sandbox.gateway_url is not None
        deploy_all(server)
        firm_settings = Settings(data_dir=firm, store_url=store_url)  # type: ignore[call-arg]

        async def prepare() -> None:
            await scenario.save_blocks(sandbox.misa_url, sandbox.gateway_url or "")
            await _save_units(scenario, TestPKI.load_or_create(pki_dir))
            loaded = await load_period(PERIOD, [u.block for u in units], firm_settings)
            assert [r.dossiers for r in loaded] == [DOSSIERS] * UNITS
            await create_automation("crashed-when-silent", within=90)

        with api_settings(server):
            asyncio.run(prepare())

        env = {
            **FAST_FLOWS,
            "BHXH_STORE_URL": store_url,
            "BHXH_MONTHLY_SPREAD_DEPLOYMENT": "sign_and_submit/manual",
            "BHXH_SPREAD_POLL_SECONDS": "2",
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
        }
        names = ["worker-1", "worker-2", "worker-3"]
        for name in names:
            data = tmp_path / name  # each machine its own, empty data folder
            data.mkdir()
            workers.append(
                start_worker(
                    server, name, data_dir=data, extra_env=env, query_seconds=2, log_dir=tmp_path
                )
            )
        wait_for_workers(server, workers, names)

        monthly = run_deployment(server, "monthly_submission/monthly", period=PERIOD)
        # A machine that does not run the monthly run itself dies while it runs units.
        deadline = time.monotonic() + 900
        while True:
            holding = [w for w in workers if monthly in w.log_path.read_text(errors="replace")]
            others = [w for w in workers if w not in holding]
            busy = [w for w in others if _runs_started_by(w) >= 3] if holding else []
            if busy:
                victim = busy[0]
                break
            assert time.monotonic() < deadline, [w.tail() for w in workers]
            time.sleep(1)
        time.sleep(5)
        killed = _kill_machine(victim)
        assert killed >= 1  # it was running flow runs
        run = _wait_final(server, monthly, timeout=1800)
        assert run["state"]["type"] == "COMPLETED", run["state"]

        # Every dossier submitted exactly once; at most two approvals per unit.
        audit = read_audit(sandbox.config.audit_path)
        submitted = Counter(
            str(e.get("dossier_id"))
            for e in audit
            if e.get("service") == "gateway" and e.get("event") == "submitted"
        )
        assert len(submitted) == UNITS * DOSSIERS
        assert set(submitted.values()) == {1}
        approved = Counter(str(e.get("user")) for e in audit if e.get("event") == "approved")
        assert len(approved) == UNITS and max(approved.values()) <= 2

        # The store (PostgreSQL) has every dossier submitted; no worker folder holds one.
        store = open_store(firm_settings)
        for u in units:
            recs = store.list(u.unit.code, PERIOD)
            assert len(recs) == DOSSIERS and all(r.has(Step.SUBMITTED) for r in recs), u.block
        for name in names:
            assert not (tmp_path / name / "store").exists() or not any(
                (tmp_path / name / "store").rglob("journal*")
            )

        # Runs of the dead machine were marked Crashed and taken again elsewhere.
        response = httpx.post(
            f"{server.api_url}/flow_runs/filter",
            json={"flow_runs": {"tags": {"all_": ["monthly-child"]}}, "limit": 200},
            timeout=120,
        )
        children = response.json()
        assert len(children) == UNITS
        assert all(c["state"]["type"] == "COMPLETED" for c in children)
        again = [c for c in children if c["run_count"] > 1]
        assert again, "no child run was taken again after the machine died"
        print(
            f"\nmonth over the pool: {UNITS} units, {killed} process(es) killed, "
            f"{len(again)} unit run(s) continued on another worker"
        )
    finally:
        for worker in workers:
            worker.stop()
        sandbox.stop()
