"""``make server``: the Prefect UI, a worker, the deployments, the sandbox and the
provider-callback receiver, by hand.

Starts a real ``prefect server start`` on 127.0.0.1 (SQLite under ``var/server/``, or a
throwaway PostgreSQL cluster with ``--postgres``), creates the process work pool and every
deployment of ``deployments/prefect.yaml``, starts the sandbox (signing provider with a
virtual phone that waits for a person, and the gateway playing VSS), saves the demo units'
blocks against that server, fills the inbox, starts the worker(s), prints the URLs, and
starts the provider-callback receiver (`python -m receiver`, MISA's webhook registered with
the sandbox; `--no-callbacks` leaves it out), and runs until Ctrl-C, which stops everything.

:func:`running_stack` is the same thing as a context manager, for the end-to-end tests.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bhxh.settings import Settings
from demo.scenario import CLIENT_ID, DemoUnit, Scenario, demo_units, tour_unit
from deployments.callbacks import ReceiverProcess, start_receiver
from deployments.postgres import PostgresCluster
from deployments.processes import ManagedProcess
from deployments.stack import (
    INTERACTIVE_QUERY_SECONDS,
    PROJECT_DIR,
    PrefectServer,
    api_settings,
    deploy_all,
    start_prefect_server,
    start_worker,
    wait_for_workers,
)
from sandbox.config import Sandbox, start_sandbox

__all__ = ["Stack", "main", "refresh_pickers", "running_stack", "save_blocks"]

_DATA_SUBDIRS = ("inbox", "store", "outbox", "sandbox", "csv")


@dataclass
class Stack:
    """What :func:`running_stack` started."""

    root: Path
    data_dir: Path
    period: str
    server: PrefectServer
    workers: list[ManagedProcess]
    worker_names: list[str]
    sandbox: Sandbox
    scenario: Scenario
    postgres: PostgresCluster | None
    deploy_output: str
    receiver: ReceiverProcess | None = None

    def phone_url(self, unit: DemoUnit) -> str:
        return self.sandbox.phone_url(unit.username)


@contextmanager
def running_stack(
    root: Path,
    units: Sequence[DemoUnit],
    *,
    period: str,
    pki_dir: Path | None = None,
    postgres: bool = False,
    workers: int = 1,
    port: int | None = None,
    dossiers: int = 1,
    worker_env: Mapping[str, str] | None = None,
    query_seconds: float = INTERACTIVE_QUERY_SECONDS,
    gateway: Mapping[str, Any] | None = None,
    callbacks: bool = False,
) -> Iterator[Stack]:
    """Server (+ PostgreSQL), deployments, sandbox, blocks, inbox, workers; all stopped
    on exit, in reverse order, whatever happened.

    Args:
        root: folder of this stack (Prefect home, logs, ``data/`` = ``BHXH_DATA_DIR``).
        units: the scenario's units (their phone policies decide who approves).
        period: the inbox's declaration period ``MM/yyyy``.
        pki_dir: the test PKI to reuse (default ``root/data/pki``).
        postgres: a throwaway PostgreSQL cluster as the server's database.
        workers: how many process workers.
        port: the server's port (default a free one).
        dossiers: dossiers per unit in the inbox.
        worker_env: extra environment for the workers and their flow runs.
        query_seconds: how often the workers poll the pool (a few seconds: a person
            waits for it after Submit).
        gateway: overrides of the sandbox gateway's configuration (scripted outcomes...).
        callbacks: start the provider-callback receiver (``python -m receiver``), register
            its webhook with the sandbox's MISA, and tell the workers MISA calls back.
    """
    root = root.resolve()
    data_dir = root / "data"
    for sub in _DATA_SUBDIRS:
        shutil.rmtree(data_dir / sub, ignore_errors=True)
    with ExitStack() as stack:
        cluster: PostgresCluster | None = None
        if postgres:
            cluster = PostgresCluster.create()
            stack.callback(cluster.stop)
            cluster.start()
        server = start_prefect_server(
            root / "prefect", database_url=cluster.url if cluster else None, port=port
        )
        stack.callback(server.stop)
        receiver: ReceiverProcess | None = None
        if callbacks:
            receiver = start_receiver(server, misa_client_id=CLIENT_ID, log_dir=root)
            stack.callback(receiver.stop)
            worker_env = {"BHXH_PROVIDER_CALLBACKS": '["misa"]', **(worker_env or {})}

        scenario = Scenario(
            list(units),
            data_dir=data_dir,
            pki_dir=pki_dir or data_dir / "pki",
            gateway_overrides=dict(gateway or {}),
            misa_webhook_url=receiver.misa_webhook_url if receiver else None,
        )
        scenario.issue_registered_certificates()
        if dossiers:
            scenario.fill_inbox(period, dossiers=dossiers, workers=5)
        sandbox = start_sandbox(scenario.sandbox_config())
        stack.callback(sandbox.stop)
        assert sandbox.gateway_url is not None

        deployed = deploy_all(server)
        save_blocks(server, scenario, sandbox)
        refresh_pickers(server)

        names = [f"worker-{i + 1}" for i in range(workers)]
        procs: list[ManagedProcess] = []
        for name in names:
            proc = start_worker(
                server,
                name,
                data_dir=data_dir,
                extra_env=worker_env,
                query_seconds=query_seconds,
                log_dir=root,
            )
            stack.callback(proc.stop)
            procs.append(proc)
        wait_for_workers(server, procs, names)
        yield Stack(
            root=root,
            data_dir=data_dir,
            period=period,
            server=server,
            workers=procs,
            worker_names=names,
            sandbox=sandbox,
            scenario=scenario,
            postgres=cluster,
            deploy_output=deployed,
            receiver=receiver,
        )


def save_blocks(server: PrefectServer, scenario: Scenario, sandbox: Sandbox) -> None:
    """The scenario's credential, gateway and unit blocks, saved against ``server``.

    Runs in a thread of its own with its own event loop, so that it works from sync code
    that lives beside another loop (pytest-asyncio's, say) without touching it.
    """
    gateway_url = sandbox.gateway_url
    assert gateway_url is not None

    def work() -> None:
        with api_settings(server):
            asyncio.run(scenario.save_blocks(sandbox.misa_url, gateway_url))

    with ThreadPoolExecutor(1, thread_name_prefix="save-blocks") as pool:
        pool.submit(work).result()


def refresh_pickers(server: PrefectServer) -> list[str]:
    """Each saved company (name, tax code, unit code) in the unit pickers of every
    deployment on ``server`` (``flows.refresh_unit_pickers``), from a thread of its own as
    :func:`save_blocks`."""
    from flows import refresh_unit_pickers

    def work() -> list[str]:
        with api_settings(server):
            return asyncio.run(refresh_unit_pickers())

    with ThreadPoolExecutor(1, thread_name_prefix="pickers") as pool:
        return pool.submit(work).result()


def _print_guide(stack: Stack) -> None:
    ui = stack.server.ui_url
    print()
    print(f"Prefect UI:      {ui}")
    print(f"Prefect API:     {stack.server.api_url}")
    database = "PostgreSQL (throwaway cluster)" if stack.postgres else "SQLite"
    print(f"Database:        {database}; logs under {stack.root}/")
    print(f"Work pool:       bhxh-process, {len(stack.workers)} process worker(s)")
    print(f"Deployments:     {ui}/deployments")
    print("  monthly_submission/monthly  10th of the month, 08:00 Asia/Ho_Chi_Minh")
    print("  sign_and_submit/manual      one unit, one period, by hand")
    print("  setup_remote_signing/setup  choose and register a unit's certificate")
    print("  track_results/track         receipts and results of every open dossier")
    print("  add_company/add-company     add a client company (no block names to type)")
    print(f"  import_companies/import-companies  companies from {stack.data_dir}/import/*.xlsx")
    print(f"Inbox:           {stack.data_dir}/inbox (period {stack.period})")
    print(f"Dossier store:   {stack.data_dir}/store")
    print(f"Sandbox gateway: {stack.sandbox.gateway_url}")
    if stack.receiver is not None:
        print(f"Callbacks:       {stack.receiver.url} (MISA's webhook wakes a waiting run)")
    print("Virtual phones (Đồng ý, then PIN 123456; the page refreshes by itself):")
    for unit in stack.scenario.units:
        print(f"  {unit.block:10} {stack.phone_url(unit)}")
    print()
    print("Tour (README): Deployments > setup > Run > Custom run, Đơn vị / Unit = Gia Phúc")
    print("(two certificates fit: the run pauses, ⋮ > Resume, choose one), approve the 05")
    print("on the gia-phuc phone; then manual with the same unit and the period")
    print(f"{stack.period} (two approvals; the run ends with the soHoSo). Ctrl-C stops everything.")
    print(flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m deployments.server`` (``make server``)."""
    from bhxh.periods import default_period

    parser = argparse.ArgumentParser(
        prog="python -m deployments.server",
        description="Prefect server + UI, worker(s), the deployments and the sandbox, on "
        "127.0.0.1, for trying the flows by hand. Ctrl-C stops everything.",
    )
    parser.add_argument("--port", type=int, default=4200, help="Prefect UI/API port (4200)")
    parser.add_argument("--workers", type=int, default=1, help="process workers (1)")
    parser.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL cluster as database"
    )
    parser.add_argument(
        "--root", type=Path, default=PROJECT_DIR / "var" / "server", help="var/server"
    )
    parser.add_argument(
        "--no-callbacks",
        action="store_true",
        help="no provider-callback receiver: every wait polls",
    )
    args = parser.parse_args(argv)

    period = default_period()
    units = [dataclasses.replace(u, phone_action="manual") for u in [*demo_units(), tour_unit()]]
    pki_dir = (PROJECT_DIR / Settings().pki_dir).resolve()
    print(f"Starting the Prefect server on 127.0.0.1:{args.port} (10-30 s)...", flush=True)
    started = time.monotonic()
    with running_stack(
        args.root,
        units,
        period=period,
        pki_dir=pki_dir,
        postgres=args.postgres,
        workers=args.workers,
        port=args.port,
        callbacks=not args.no_callbacks,
    ) as stack:
        print(f"Ready in {time.monotonic() - started:.0f} s.")
        _print_guide(stack)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(2.0):
            receiver = [stack.receiver.process] if stack.receiver else []
            dead = [p for p in [stack.server.process, *stack.workers, *receiver] if not p.alive()]
            if dead:
                print(f"{dead[0].name} exited:\n{dead[0].tail()}", file=sys.stderr)
                return 1
        print("\nStopping the workers, the server and the sandbox...", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
