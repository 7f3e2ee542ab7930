"""Flow tests: Prefect's test harness (a temporary API) and the sandbox over real HTTP."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound

from bhxh.pipeline import DossierRecord, open_store
from bhxh.settings import Settings
from demo.scenario import DemoUnit, Scenario
from flows import setup_remote_signing
from sandbox.audit import read_audit
from sandbox.config import Sandbox, start_sandbox

PERIOD = "01/2026"


@pytest.fixture(autouse=True)
def _on_prefect_api(prefect_api: None) -> None:
    """Every test of this folder runs on the session's harness (``tests/conftest.py``)."""


@dataclass
class World:
    """A running sandbox, saved blocks and a filled inbox for some units."""

    scenario: Scenario
    sandbox: Sandbox

    @property
    def audit(self) -> list[dict[str, Any]]:
        return read_audit(self.sandbox.config.audit_path)

    def count(self, event: str, **where: Any) -> int:
        return sum(
            1
            for e in self.audit
            if e.get("event") == event and all(e.get(k) == v for k, v in where.items())
        )

    def per_user(self, event: str) -> Counter[str]:
        return Counter(str(e.get("user")) for e in self.audit if e.get("event") == event)

    def submissions(self) -> Counter[str]:
        return Counter(
            str(e.get("dossier_id"))
            for e in self.audit
            if e.get("service") == "gateway" and e.get("event") == "submitted"
        )

    def records(self, unit: DemoUnit, period: str = PERIOD) -> list[DossierRecord]:
        # The store the settings name (BHXH_STORE_URL: the PostgreSQL store), else the folder.
        store = open_store(Settings(data_dir=self.scenario.data_dir))
        return store.list(unit.unit.code, period)

    def set_policy(self, unit: DemoUnit, action: str, after: float = 0.2) -> None:
        response = httpx.put(
            f"{self.sandbox.provider_url}/phone/api/{unit.username}/policy",
            json={"action": action, "after_seconds": after},
            headers={"x-sandbox-token": self.sandbox.control_token},
        )
        response.raise_for_status()


MakeWorld = Callable[..., Awaitable[World]]


@pytest.fixture
def make_world(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeWorld]:
    data_dir = tmp_path / "var"
    monkeypatch.setenv("BHXH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("BHXH_POLL_INITIAL_SECONDS", "0.2")
    monkeypatch.setenv("BHXH_POLL_MAX_SECONDS", "0.5")
    monkeypatch.setenv("BHXH_PAUSE_POLL_SECONDS", "1")
    monkeypatch.setenv("BHXH_PAUSE_TIMEOUT_SECONDS", "120")
    sandboxes: list[Sandbox] = []

    async def make(
        units: list[DemoUnit],
        *,
        dossiers: int = 1,
        period: str = PERIOD,
        provider: dict[str, Any] | None = None,
        gateway: dict[str, Any] | None = None,
        setup: bool = True,
        with_pdf: bool = False,
    ) -> World:
        scenario = Scenario(
            units,
            data_dir=data_dir,
            pki_dir=pki_dir,
            provider_overrides=provider or {},
            gateway_overrides=gateway or {},
        )
        scenario.issue_registered_certificates()
        sandbox = start_sandbox(scenario.sandbox_config())
        sandboxes.append(sandbox)
        assert sandbox.gateway_url
        await scenario.save_blocks(sandbox.misa_url, sandbox.gateway_url)
        if dossiers:
            scenario.fill_inbox(period, dossiers=dossiers, workers=3, with_pdf=with_pdf)
        if setup:
            for unit in units:
                await setup_remote_signing(unit.block, interactive=False)
        return World(scenario, sandbox)

    yield make
    for sandbox in sandboxes:
        sandbox.stop()


async def wait_for_paused(flow_name: str, within: float = 60) -> UUID:
    """The id of the newest paused run of ``flow_name``, once there is one."""
    deadline = asyncio.get_running_loop().time() + within
    async with get_client() as client:
        while True:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                ),
            )
            for run in runs:
                flow = await client.read_flow(run.flow_id)
                if flow.name == flow_name and run.state and run.state.is_paused():
                    keyset = run.state.state_details.run_input_keyset
                    if keyset is None:
                        continue
                    # The schema is saved right after the state: wait for it.
                    try:
                        await client.read_flow_run_input(run.id, keyset["schema"])
                    except ObjectNotFound:
                        continue
                    return run.id
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no paused run of {flow_name}")
            await asyncio.sleep(0.3)
