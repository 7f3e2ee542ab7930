"""One Prefect API server for a whole ``python -m benchmarks`` run.

Before, every case process started a temporary local API of its own: 20 to 27 s of a
two-core machine each (its imports, a new SQLite database migrated), nine times in a
default run, none of it measured. Now the driver starts one ``prefect server start``
(SQLite under ``var/bench/cases/api/``, or the throwaway PostgreSQL cluster of
``--database postgres``) and every case and part talks to it through
``PREFECT_API_URL``. It is the same kind of API the temporary one is (a uvicorn server in
a process of its own on the same cores), as a firm's ``make server`` runs it.

So that no case pays for the one before, a case starts only once the API is idle: its
count of task runs has stopped moving (task-run states reach the database as events,
after a flow has returned). Each case tags its flow runs (``bench-<case>``) and counts only
its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

__all__ = ["API", "shared_api", "wait_idle"]

#: The running server's API URL, set by :func:`shared_api`; None: each process starts a
#: temporary local API of its own (a part run alone, ``python -m benchmarks.floor``).
API: dict[str, str | None] = {"url": None}


@contextmanager
def shared_api(folder: Path, database: str = "sqlite") -> Iterator[str]:
    """Start the server (its home ``folder``, emptied by the caller), yield its API URL,
    stop it on exit."""
    from deployments.stack import start_prefect_server

    with ExitStack() as stack:
        url: str | None = None
        if database == "postgres":
            from deployments.postgres import PostgresCluster

            url = stack.enter_context(PostgresCluster.create()).url
        elif database != "sqlite":
            raise ValueError(f"unknown database {database!r}: sqlite or postgres")
        server = start_prefect_server(folder, database_url=url)
        stack.callback(server.stop)
        API["url"] = server.api_url
        stack.callback(API.update, url=None)
        yield server.api_url


def wait_idle(api_url: str, *, settle: float = 1.0, within: float = 300) -> bool:
    """Wait until the API's count of task runs is the same on two reads ``settle``
    seconds apart; False if it still moved after ``within`` seconds (the caller says so:
    a figure is then taken beside a busy API)."""
    deadline = time.monotonic() + within
    previous = -1
    with httpx.Client(base_url=api_url, timeout=60) as client:
        while time.monotonic() < deadline:
            try:
                response = client.post("/task_runs/count", json={})
                count = int(response.json()) if response.status_code == 200 else -2
            except httpx.HTTPError:
                count = -2
            if count == previous and count >= 0:
                return True
            previous = count
            time.sleep(settle)
    return False
