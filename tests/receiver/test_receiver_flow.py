"""A provider callback wakes a waiting run, and the run still believes only the provider.

The Prefect test harness, the sandbox over HTTP (its MISA stand-in posting the result
webhook), and the receiver in this process, following the approval events of the
harness's API. The poll interval when a callback is expected is set to ten minutes: a
run that ends sooner, with one status read per approval, was woken by the callback.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bhxh.pipeline import DossierRecord, DossierStore, Step
from demo.scenario import CLIENT_ID, DemoUnit, Scenario, many_units
from flows import setup_remote_signing, sign_and_submit
from flows.errors import SigningStopped
from receiver import AwaitedTransactions, ReceiverConfig, create_receiver_app
from receiver.service import follow_approval_stream
from sandbox.audit import read_audit
from sandbox.config import Sandbox, start_sandbox
from sandbox.serve import ServerThread
from tests.flows.conftest import PERIOD

pytestmark = pytest.mark.usefixtures("prefect_api")

WEBHOOK_TOKEN = secrets.token_urlsafe(32)
#: Longer than any of these tests may take: only a callback can end a wait before it.
SLOW_POLL = "600"


@dataclass
class CallbackWorld:
    unit: DemoUnit
    scenario: Scenario
    sandbox: Sandbox
    receiver_url: str
    awaited: AwaitedTransactions
    receiver: Any

    def audit(self, event: str) -> list[dict[str, Any]]:
        return [
            e
            for e in read_audit(self.sandbox.config.audit_path)
            if e.get("event") == event and e.get("service", "misa") == "misa"
        ]

    def count(self, event: str) -> int:
        return sum(1 for e in self.audit(event) if e.get("user") == self.unit.username)

    def records(self) -> list[DossierRecord]:
        return DossierStore(self.scenario.data_dir / "store").list(self.unit.unit.code, PERIOD)


@pytest.fixture
async def world(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[CallbackWorld]:
    data_dir = tmp_path / "var"
    for name, value in {
        "BHXH_DATA_DIR": str(data_dir),
        "BHXH_PROVIDER_CALLBACKS": '["misa"]',
        "BHXH_CALLBACK_POLL_INITIAL_SECONDS": SLOW_POLL,
        "BHXH_CALLBACK_POLL_MAX_SECONDS": SLOW_POLL,
        "BHXH_POLL_INITIAL_SECONDS": "0.2",
        "BHXH_POLL_MAX_SECONDS": "0.5",
        "BHXH_SCHEDULED_SIGNING_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    awaited = AwaitedTransactions()
    app = create_receiver_app(
        ReceiverConfig(misa_client_ids=(CLIENT_ID,), misa_webhook_token=WEBHOOK_TOKEN), awaited
    )
    receiver = ServerThread(app).start()
    follower = asyncio.create_task(follow_approval_stream(awaited))
    (unit,) = units = many_units(1, prefix=f"cb{secrets.token_hex(3)}")
    key = secrets.token_urlsafe(24)
    webhook = f"{receiver.url}/misa/webhook/{WEBHOOK_TOKEN}"
    scenario = Scenario(
        units,
        data_dir=data_dir,
        pki_dir=pki_dir,
        client_key=key,
        provider_overrides={
            "clients": {
                "misa": [{"client_id": CLIENT_ID, "client_key": key, "webhook_url": webhook}],
                "vnpt": [],
            }
        },
    )
    scenario.issue_registered_certificates()
    sandbox = start_sandbox(scenario.sandbox_config())
    try:
        assert sandbox.gateway_url
        await scenario.save_blocks(sandbox.misa_url, sandbox.gateway_url)
        scenario.fill_inbox(PERIOD, dossiers=1, workers=3)
        await setup_remote_signing(unit.block, interactive=False)
        yield CallbackWorld(unit, scenario, sandbox, receiver.url, awaited, app.state.receiver)
    finally:
        follower.cancel()
        sandbox.stop()
        receiver.stop()


def set_phone(world: CallbackWorld, action: str, after: float = 0.0) -> None:
    httpx.put(
        f"{world.sandbox.provider_url}/phone/api/{world.unit.username}/policy",
        json={"action": action, "after_seconds": after},
        headers={"x-sandbox-token": world.sandbox.control_token},
    ).raise_for_status()


async def until(check: Any, limit: float = 120) -> Any:
    end = asyncio.get_running_loop().time() + limit
    while not (value := check()):
        assert asyncio.get_running_loop().time() < end, "bounded wait ran out"
        await asyncio.sleep(0.1)
    return value


async def test_each_callback_ends_its_wait_with_one_status_read(world: CallbackWorld) -> None:
    set_phone(world, "approve", after=2.0)
    summary = await asyncio.wait_for(sign_and_submit(world.unit.block, period=PERIOD), 300)
    assert [s.procedure for s in summary] == ["600"]
    (rec,) = world.records()
    assert rec.has(Step.SIGNED) and rec.has(Step.SUBMITTED)
    approvals = world.count("approved")
    assert approvals == 2
    # Each wait read the provider once, when woken, never on its ten-minute poll; the
    # outcome (and the signatures applied) came from that status read.
    assert world.count("status") == approvals
    assert [e["http"] for e in world.audit("webhook")] == [200, 200]
    assert world.receiver.counts.get("misa.accepted") == 2


async def test_a_forged_callback_wakes_the_run_but_signs_nothing(world: CallbackWorld) -> None:
    set_phone(world, "manual")
    run = asyncio.create_task(sign_and_submit(world.unit.block, period=PERIOD))
    try:
        (request,) = await until(lambda: world.audit("sign_request"))
        tx = request["transaction"]
        await until(lambda: ("misa", tx) in world.awaited)
        forged = {
            "messageId": "forged",
            "clientId": CLIENT_ID,
            "extraData": {},
            "status": "SUCCESS",
            "errorCode": None,
            "transactionId": tx,
            "signatures": [{"documentId": "x", "signature": "AAAA"}],
        }
        async with httpx.AsyncClient(base_url=world.receiver_url) as api:
            wrong = await api.post("/misa/webhook/not-our-token-000000000000000000", json=forged)
            assert wrong.status_code == 401
            accepted = await api.post(f"/misa/webhook/{WEBHOOK_TOKEN}", json=forged)
            assert accepted.status_code == 200  # a well-authenticated caller's word...
        await until(lambda: world.count("status") >= 1)  # ...only made the run read
        (rec,) = world.records()
        assert rec.state is Step.ROUND1_REQUESTED  # still waiting: the provider says pending
        assert not run.done()
        # The signer refuses; the sandbox calls back; the run reads it and stops.
        async with httpx.AsyncClient(base_url=world.sandbox.provider_url) as phone:
            refused = await phone.post(
                f"/phone/api/{world.unit.username}/{tx}/reject",
                headers={"x-sandbox-token": world.sandbox.control_token},
            )
            refused.raise_for_status()
        with pytest.raises(SigningStopped):
            await asyncio.wait_for(run, 300)
    finally:
        run.cancel()
    (rec,) = world.records()
    assert not rec.has(Step.DECLARATIONS_SIGNED)
    assert world.count("status") == 2  # the forged wake-up, then the real callback
