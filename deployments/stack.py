"""A real Prefect server, process workers and the deployments, as child processes.

The pieces of ``make server`` and of the end-to-end tests: :func:`start_prefect_server`
(SQLite or PostgreSQL), :func:`start_worker`, :func:`deploy_all` (``prefect deploy`` from
``deployments/prefect.yaml``), :func:`run_deployment` (``prefect deployment run``) and
:func:`wait_for_flow_run`. Every child runs in its own session and is stopped by process
group; its output goes to a log file under the stack's folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from deployments.processes import ManagedProcess, free_port, spawn

__all__ = [
    "INTERACTIVE_QUERY_SECONDS",
    "PREFECT_FILE",
    "PROJECT_DIR",
    "WORK_POOL",
    "BusyRetry",
    "FlowRunFailed",
    "PrefectServer",
    "api_settings",
    "child_env",
    "deploy_all",
    "flow_run_logs",
    "read_flow_run",
    "run_deployment",
    "start_prefect_server",
    "start_worker",
    "unit_ref",
    "wait_for_flow_run",
    "wait_for_workers",
]

PROJECT_DIR = Path(__file__).resolve().parent.parent
PREFECT_FILE = PROJECT_DIR / "deployments" / "prefect.yaml"
WORK_POOL = "bhxh-process"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class FlowRunFailed(RuntimeError):
    """A flow run ended in another state than the one waited for."""


def child_env(prefect_home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its ``PREFECT_*`` / ``BHXH_*`` settings, plus
    a ``PREFECT_HOME`` of the stack's own, no telemetry, and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BHXH_", "ORION_"))}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def _prefect_cli() -> list[str]:
    return [sys.executable, "-m", "prefect"]


@dataclass
class PrefectServer:
    """``prefect server start`` on 127.0.0.1: the UI at :attr:`ui_url`, the API at
    :attr:`api_url`."""

    process: ManagedProcess
    port: int
    home: Path
    database_url: str = field(repr=False)

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a client of this server (worker, CLI)."""
        return child_env(self.home, {"PREFECT_API_URL": self.api_url, **(extra or {})})

    def stop(self) -> None:
        self.process.stop(grace_seconds=15)

    def api(self, timeout: float = 30) -> httpx.Client:
        """A plain HTTP client of this server's API that, as Prefect's own client does,
        sends a request again when a busy server answers 429, 502 or 503."""
        return httpx.Client(base_url=self.api_url, timeout=timeout, transport=BusyRetry())


class BusyRetry(httpx.HTTPTransport):
    """Sends a request again on 429, 502 and 503, waiting 0.5 s doubling to 8 s (about
    15 s in all; the statuses are those Prefect's client repeats, the waits our choice).
    A Prefect server on SQLite answers 503 while its database is locked by another
    writer."""

    WAITS = (0.5, 1.0, 2.0, 4.0, 8.0)
    BUSY = frozenset({429, 502, 503})

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for wait in self.WAITS:
            response = super().handle_request(request)
            if response.status_code not in self.BUSY:
                return response
            response.close()
            time.sleep(wait)
        return super().handle_request(request)


#: The API's database connections (pool size, overflow): our choice, within the throwaway
#: cluster's max_connections (200, ``deployments.postgres``).
SERVER_DB_POOL = ("20", "30")


def start_prefect_server(
    home: Path,
    *,
    database_url: str | None = None,
    port: int | None = None,
    timeout: float = 180.0,
) -> PrefectServer:
    """Start a Prefect server (UI + API + services) and wait until it is healthy.

    Args:
        home: the server's ``PREFECT_HOME`` (logs go to ``home/server.log``).
        database_url: ``PREFECT_SERVER_DATABASE_CONNECTION_URL``; default SQLite at
            ``home/prefect.db``.
        port: default a free port.
        timeout: seconds to wait for ``/api/health`` (a cold start takes 10-20 s).
    """
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    url = database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}"
    env = child_env(
        home,
        {
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": url,
            "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            "PREFECT_LOGGING_SERVER_LEVEL": "WARNING",
            # On PostgreSQL, more connections than Prefect's 5 (+10 overflow): a month over
            # a work pool (60 child runs, three workers, their events) exhausted those and
            # the API answered 500 after 30 s. SQLite ignores them.
            "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": SERVER_DB_POOL[0],
            "PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW": SERVER_DB_POOL[1],
        },
    )
    argv = [*_prefect_cli(), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    process = spawn("prefect-server", argv, env=env, cwd=home, log_path=home / "server.log")
    server = PrefectServer(process, port, home, url)
    deadline = time.monotonic() + timeout
    while True:
        if not process.alive():
            raise RuntimeError(f"prefect server exited early:\n{process.tail()}")
        try:
            if httpx.get(f"{server.api_url}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.stop()
            raise TimeoutError(f"prefect server not healthy after {timeout} s:\n{process.tail()}")
        time.sleep(0.5)


#: How often ``make server``'s worker asks the pool for runs: a person who presses Submit
#: waits for the phone, not for the worker (Prefect's default, 10 s, made Submit-to-phone
#: 8 to 17 s). Each query is one light API call per worker; production sets
#: ``PREFECT_WORKER_QUERY_SECONDS`` itself (docs/deployment.md).
INTERACTIVE_QUERY_SECONDS = 2.0


def start_worker(
    server: PrefectServer,
    name: str,
    *,
    data_dir: Path,
    extra_env: Mapping[str, str] | None = None,
    query_seconds: float = INTERACTIVE_QUERY_SECONDS,
    log_dir: Path | None = None,
    limit: int | None = None,
) -> ManagedProcess:
    """``prefect worker start`` for the process pool, running flows from this checkout;
    ``limit``: how many flow runs it runs at once (``--limit``; None: no limit).

    Flow runs inherit the worker's environment: ``BHXH_DATA_DIR`` (the dossier store,
    inbox, outbox) and ``BHXH_PROJECT_DIR`` (the pull step's working directory).
    """
    env = server.env(
        {
            "BHXH_PROJECT_DIR": str(PROJECT_DIR),
            "BHXH_DATA_DIR": str(data_dir),
            "PREFECT_WORKER_QUERY_SECONDS": str(query_seconds),
            "PREFECT_WORKER_PREFETCH_SECONDS": str(max(query_seconds, 5.0)),
            **(extra_env or {}),
        }
    )
    argv = [*_prefect_cli(), "worker", "start", "--pool", WORK_POOL, "--type", "process"]
    argv += ["--name", name]
    if limit is not None:
        argv += ["--limit", str(limit)]
    log = (log_dir or server.home) / f"{name}.log"
    return spawn(f"worker {name}", argv, env=env, cwd=PROJECT_DIR, log_path=log)


def wait_for_workers(
    server: PrefectServer, workers: Sequence[ManagedProcess], names: Sequence[str],
    timeout: float = 90.0,
) -> None:  # fmt: skip
    """Until every named worker has sent a heartbeat to the pool."""
    deadline = time.monotonic() + timeout
    while True:
        for worker in workers:
            if not worker.alive():
                raise RuntimeError(f"{worker.name} exited early:\n{worker.tail()}")
        try:
            response = httpx.post(
                f"{server.api_url}/work_pools/{WORK_POOL}/workers/filter", json={}, timeout=5
            )
            seen = {w["name"] for w in response.json()} if response.status_code == 200 else set()
        except httpx.HTTPError:
            seen = set()
        if set(names) <= seen:
            return
        if time.monotonic() > deadline:
            tails = "\n".join(w.tail(15) for w in workers)
            raise TimeoutError(f"workers {sorted(set(names) - seen)} did not start:\n{tails}")
        time.sleep(0.5)


def _cli(server: PrefectServer, *args: str, timeout: float = 180.0) -> str:
    result = subprocess.run(
        [*_prefect_cli(), *args],
        env=server.env({"COLUMNS": "200"}),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"`prefect {' '.join(args)}` failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def deploy_all(server: PrefectServer, prefect_file: Path = PREFECT_FILE) -> str:
    """Create the process work pool, then every deployment of ``prefect_file``, offline."""
    _cli(server, "work-pool", "create", WORK_POOL, "--type", "process", "--overwrite")
    return _cli(
        server,
        "--no-prompt",
        "deploy",
        "--all",
        "--prefect-file",
        str(prefect_file.relative_to(PROJECT_DIR)),
    )


def unit_ref(name: str) -> dict[str, Any]:
    """The value of a unit parameter (a picker of saved blocks in the form) for a unit
    named ``name``: a reference to the block, as the UI stores it, by name."""
    return {"$ref": {"block_document_slug": name}}


def _form_units(server: PrefectServer, name: str, blocks: list[str]) -> list[str]:
    """``blocks`` as the deployment's several-units list offers them: its line for each
    block (``... · an-phat``, ``flows.block_of_choice``), what the form sends and what the
    server's check of the form accepts; the names as they are when the list has none."""
    flow, _, deployment = name.partition("/")
    response = httpx.get(f"{server.api_url}/deployments/name/{flow}/{deployment}", timeout=30)
    response.raise_for_status()
    schema = response.json().get("parameter_openapi_schema") or {}
    items = ((schema.get("properties") or {}).get("units") or {}).get("items") or {}
    lines = [str(line) for line in items.get("enum") or []]
    from flows import block_of_choice  # the one reader of a line

    by_block = {block_of_choice(line): line for line in lines}
    return [by_block.get(b, b) for b in blocks]


def run_deployment(server: PrefectServer, name: str, **params: Any) -> str:
    """``prefect deployment run NAME --param k=v ...``; the new flow run's id. A list of
    ``units`` given by block names is sent as the form's lines for them."""
    import json

    if isinstance(params.get("units"), list):
        params["units"] = _form_units(server, name, params["units"])
    args = ["deployment", "run", name]
    for key, value in params.items():
        text = value if isinstance(value, str) else json.dumps(value)
        args += ["--param", f"{key}={text}"]
    out = _cli(server, *args)
    match = re.search(r"UUID:\s*(" + _UUID.pattern + ")", out) or _UUID.search(out)
    if match is None:
        raise RuntimeError(f"no flow run id in the output of `prefect deployment run`:\n{out}")
    return match.group(1) if match.groups() else match.group(0)


def read_flow_run(server: PrefectServer, flow_run_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.api_url}/flow_runs/{flow_run_id}", timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def wait_for_flow_run(
    server: PrefectServer,
    flow_run_id: str,
    *,
    timeout: float = 300.0,
    until: str = "COMPLETED",
    logs_on_failure: bool = True,
) -> dict[str, Any]:
    """Poll the API until the run is in state type ``until`` (or a final state).

    Raises:
        FlowRunFailed: the run ended otherwise (its last log lines in the message).
        TimeoutError: still running after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        run = read_flow_run(server, flow_run_id)
        state = (run.get("state") or {}).get("type")
        if state == until:
            return run
        if state in _FINAL:
            detail = flow_run_logs(server, flow_run_id) if logs_on_failure else ""
            message = (run.get("state") or {}).get("message")
            raise FlowRunFailed(f"flow run {run.get('name')} {state}: {message}\n{detail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"flow run {run.get('name')} still {state} after {timeout} s")
        time.sleep(1.0)


def flow_run_logs(server: PrefectServer, flow_run_id: str, limit: int = 60) -> str:
    """The last log lines of a flow run, oldest first."""
    response = httpx.post(
        f"{server.api_url}/logs/filter",
        json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "sort": "TIMESTAMP_DESC",
              "limit": limit},
        timeout=10,
    )  # fmt: skip
    if response.status_code != 200:
        return ""
    return "\n".join(f"{r['level']:>2} {r['message']}" for r in reversed(response.json()))


def _drain_events() -> None:
    """Send what Prefect's event worker holds and let it go: the worker is process-wide
    and keeps the API it was started for, so the next event starts one for the API of
    the settings then current (not a server stopped since)."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=30)


@contextlib.contextmanager
def api_settings(server: PrefectServer) -> Iterator[None]:
    """Point this process's Prefect client at ``server`` (blocks, reads, events) for a
    ``with``."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    _drain_events()
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        try:
            yield
        finally:
            _drain_events()
