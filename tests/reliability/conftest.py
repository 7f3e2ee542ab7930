"""Reliability and security suites: the flows on Prefect's test harness against the sandbox.

The world-building helpers are the flow tests' own (``tests/flows/conftest.py``); this
module adds a harness for this folder, a way to ready units without running setup (so
that faults and crashes hit only the run under test) and a few audit helpers.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.settings import PREFECT_API_URL

from blocks import BhxhUnit, MisaESignCredentials
from demo.scenario import DemoUnit
from tests.flows.conftest import PERIOD, MakeWorld, World, make_world, wait_for_paused
from tests.pg_support import new_database, pg_cluster  # noqa: F401

__all__ = [
    "PERIOD",
    "MakeWorld",
    "World",
    "faults_of",
    "finish_flow_process",
    "make_world",
    "prime_units",
    "run_flow_process",
    "set_client_timeout",
    "set_provider_faults",
    "start_flow_process",
    "store",
    "wait_for_paused",
]


@pytest.fixture(autouse=True)
def _on_prefect_api(prefect_api: None) -> None:
    """Every test of this folder runs on the session's harness (``tests/conftest.py``)."""


@pytest.fixture(params=["folder", "postgres"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on each dossier store: the folder journal, then the PostgreSQL store
    (a fresh database of the session's throwaway cluster, named by BHXH_STORE_URL for the
    test process and the flow processes it starts)."""
    if request.param == "postgres":
        monkeypatch.setenv("BHXH_STORE_URL", new_database(request.getfixturevalue("pg_cluster")))
    else:
        monkeypatch.delenv("BHXH_STORE_URL", raising=False)
    return str(request.param)


async def prime_units(world: World, units: Sequence[DemoUnit]) -> None:
    """Record each unit's remote certificate in its block, as setup_remote_signing would.

    The units of ``many_units`` are registered at VSS with that certificate already, so
    nothing else is needed; no provider or gateway call is made.
    """
    for u in units:
        issued = world.sandbox.pki.get(u.remote_cert.pki_name)
        unit = await BhxhUnit.aload_unit(u.block)
        unit.certificate_alias = u.remote_cert.alias
        unit.certificate_serial = issued.serial_hex.upper()
        unit.registered_serial = issued.serial_hex.upper()
        unit.registration_state = "registered"
        await unit.asave(u.block, overwrite=True)


async def set_client_timeout(units: Sequence[DemoUnit], seconds: float) -> None:
    """The HTTP timeout of each unit's provider client (its credentials block)."""
    for u in units:
        creds = await MisaESignCredentials.aload(f"{u.block}-misa")
        assert isinstance(creds, MisaESignCredentials)
        creds.timeout_seconds = seconds
        await creds.asave(f"{u.block}-misa", overwrite=True)


def set_provider_faults(world: World, **faults: Any) -> None:
    """Switch the provider's faults at run time (the control API, with its token)."""
    response = httpx.put(
        f"{world.sandbox.provider_url}/phone/api/_faults",
        json=faults,
        headers={"x-sandbox-token": world.sandbox.control_token},
    )
    response.raise_for_status()


def faults_of(world: World) -> Counter[str]:
    """Faults injected so far, by ``service:fault`` (from the sandbox audit)."""
    return Counter(
        f"{e['service']}:{e.get('fault')}" for e in world.audit if e.get("event") == "fault"
    )


_FLOW_PROCESS = """
import asyncio, sys
from flows import sign_and_submit
asyncio.run(sign_and_submit(sys.argv[1], period=sys.argv[2], interactive=False))
"""


async def start_flow_process(
    unit_block: str, period: str, env: dict[str, str]
) -> asyncio.subprocess.Process:
    """Start sign_and_submit in a separate process against the harness API (output piped)."""
    full_env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), **env}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _FLOW_PROCESS,
        unit_block,
        period,
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


#: How long one unit's flow process may take. A run takes seconds on a quiet machine; in
#: `make test`, beside a month over the pool and a browser test on two cores, one took
#: over 240 s (and its output was lost with it: now kept).
FLOW_PROCESS_SECONDS = 420.0


async def finish_flow_process(proc: asyncio.subprocess.Process, log: Path) -> int:
    """Wait for a flow process started by :func:`start_flow_process`; its exit code.

    Its output (the run's log lines) is written to ``log``, also when it does not end in
    time: then it is killed and the failure quotes its last lines.
    """
    assert proc.stdout is not None
    stdout, output = proc.stdout, bytearray()

    async def drain() -> None:
        while chunk := await stdout.read(65536):
            output.extend(chunk)
        await proc.wait()

    try:
        await asyncio.wait_for(drain(), FLOW_PROCESS_SECONDS)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        await asyncio.to_thread(log.write_bytes, bytes(output))
        tail = bytes(output[-3000:]).decode(errors="replace")
        raise AssertionError(
            f"the flow process did not end within {FLOW_PROCESS_SECONDS:.0f} s; it was killed."
            f" Its last lines ({log}):\n{tail}"
        ) from None
    await asyncio.to_thread(log.write_bytes, bytes(output))
    assert proc.returncode is not None
    return proc.returncode


async def run_flow_process(unit_block: str, period: str, env: dict[str, str], log: Path) -> int:
    """Run sign_and_submit in a separate process against the harness API; its exit code."""
    return await finish_flow_process(await start_flow_process(unit_block, period, env), log)
