"""A month over a work pool with no shared folder, as child processes on this machine.

The pieces of the end-to-end test of a month spread over several workers and of its
benchmark row (``make bench``, part ``pool``): a throwaway PostgreSQL cluster holding both
the Prefect server's database and the dossier store, the sandbox, the units' blocks (each
certificate already chosen, as setup saves it; no inbox or outbox folder in a block), the
month's dossiers loaded into the shared store from "the firm's machine" (a folder of its
own, ``deployments.inbox``), the crashed-when-silent automation, and N process workers,
each with its own empty data folder. Nothing of a unit is on any worker's disk: a worker
finds a unit's dossiers in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bhxh.settings import Settings
from demo.scenario import DemoUnit, Scenario
from deployments.automations import create_automation
from deployments.inbox import load_period
from deployments.postgres import PostgresCluster
from deployments.processes import ManagedProcess
from deployments.stack import (
    PrefectServer,
    api_settings,
    deploy_all,
    start_prefect_server,
    start_worker,
    wait_for_workers,
)
from sandbox.config import Sandbox, start_sandbox
from sandbox.pki import TestPKI

__all__ = [
    "POOL_WORKER_LIMIT",
    "PoolStack",
    "flow_processes",
    "kill_machine",
    "pool_stack",
    "wait_final",
]

#: What every worker of the pool is told: one child run per unit, a heartbeat every 30 s.
POOL_ENV = {
    "BHXH_MONTHLY_SPREAD_DEPLOYMENT": "sign_and_submit/manual",
    "BHXH_SPREAD_POLL_SECONDS": "2",
    "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
}

#: How many flow runs one worker machine runs at once (``prefect worker start --limit``):
#: without a limit the first worker to poll takes every scheduled unit of the month and
#: starts a process for each, and the other machines stay idle. Our choice for two cores.
POOL_WORKER_LIMIT = 8


@dataclass
class PoolStack:
    """A running pool: its server, sandbox, workers and the shared store's URL."""

    root: Path
    server: PrefectServer
    sandbox: Sandbox
    scenario: Scenario
    workers: list[ManagedProcess]
    store_url: str

    @property
    def firm_settings(self) -> Settings:
        """The settings of "the firm's machine" (its folder, the shared store)."""
        return Settings(data_dir=self.root / "firm", store_url=self.store_url)


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


@contextmanager
def pool_stack(
    root: Path,
    units: Sequence[DemoUnit],
    *,
    period: str,
    pki_dir: Path,
    workers: int,
    dossiers: int = 1,
    worker_env: Mapping[str, str] | None = None,
    silent_seconds: float = 90,
    provider_overrides: Mapping[str, Any] | None = None,
    gateway_overrides: Mapping[str, Any] | None = None,
    worker_limit: int | None = POOL_WORKER_LIMIT,
) -> Iterator[PoolStack]:
    """Everything above, stopped on exit in reverse order whatever happened."""
    root = root.resolve()
    with ExitStack() as stack:
        cluster = PostgresCluster.create()
        stack.enter_context(cluster)
        store_url = (
            f"postgresql://{cluster.user}:{cluster.password}@127.0.0.1:{cluster.port}/"
            f"{cluster.database}"
        )
        server = start_prefect_server(root / "prefect", database_url=cluster.url)
        stack.callback(server.stop)
        firm = root / "firm"  # the machine where the month's files are put
        scenario = Scenario(
            list(units),
            data_dir=firm,
            pki_dir=pki_dir,
            provider_overrides=dict(provider_overrides or {}),
            gateway_overrides=dict(gateway_overrides or {}),
        )
        scenario.issue_registered_certificates()
        scenario.fill_inbox(period, dossiers=dossiers, workers=2)
        sandbox = start_sandbox(scenario.sandbox_config())
        stack.callback(sandbox.stop)
        deploy_all(server)
        pool = PoolStack(root, server, sandbox, scenario, [], store_url)

        async def prepare() -> None:
            await scenario.save_blocks(sandbox.misa_url, sandbox.gateway_url or "")
            await _save_units(scenario, TestPKI.load_or_create(pki_dir))
            loaded = await load_period(period, [u.block for u in units], pool.firm_settings)
            refused = [r for r in loaded if r.refused or r.dossiers != dossiers]
            if refused:
                raise RuntimeError(f"the inbox did not load: {refused}")
            await create_automation("crashed-when-silent", within=silent_seconds)

        with api_settings(server):
            asyncio.run(prepare())
        env = {**POOL_ENV, "BHXH_STORE_URL": store_url, **(worker_env or {})}
        names = [f"worker-{i + 1}" for i in range(workers)]
        for name in names:
            data = root / name  # each machine its own, empty data folder
            data.mkdir(parents=True, exist_ok=True)
            proc = start_worker(
                server,
                name,
                data_dir=data,
                extra_env=env,
                query_seconds=2,
                log_dir=root,
                limit=worker_limit,
            )
            stack.callback(proc.stop)
            pool.workers.append(proc)
        wait_for_workers(server, pool.workers, names)
        yield pool


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


def flow_processes(worker: ManagedProcess) -> list[int]:
    """The processes under a worker now (its flow runs being run)."""
    return _descendants(worker.pid)


def kill_machine(worker: ManagedProcess) -> int:
    """SIGKILL a worker and every process under it (its flow runs), as when its machine
    dies; returns how many processes were under it."""
    pids = [worker.pid, *_descendants(worker.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(pids) - 1


def wait_final(server: PrefectServer, flow_run_id: str, timeout: float) -> dict[str, Any]:
    """The flow run once it is final. A read the busy server does not answer in time is
    tried again: many child runs and their events keep a two-core machine's API busy.

    Raises:
        TimeoutError: not final after ``timeout`` seconds.
    """
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
        time.sleep(2)
    raise TimeoutError(f"flow run {flow_run_id} not final after {timeout} s")
