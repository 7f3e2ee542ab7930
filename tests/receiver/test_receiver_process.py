"""``python -m receiver``: its own process, its secrets from a block, following the
approval events of the Prefect API (here the test harness's)."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prefect.events import emit_event
from prefect.settings import PREFECT_API_URL
from pydantic import SecretStr

from blocks.callbacks import ProviderCallbackSecrets
from deployments.processes import free_port

pytestmark = pytest.mark.usefixtures("prefect_api")

ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_urlsafe(32)
CLIENT = "misa-client-of-the-firm"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[str]:
    ProviderCallbackSecrets(misa_client_ids=[CLIENT], misa_webhook_token=SecretStr(TOKEN)).save(
        "test-callbacks", overwrite=True
    )
    port = free_port()
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    log = (tmp_path / "receiver.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "receiver", "--block", "test-callbacks", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "receiver.log").read_text()
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        text = (tmp_path / "receiver.log").read_text(errors="replace")
        assert TOKEN not in text  # no access log: the webhook URL carries the token


def _webhook(tx: str) -> dict[str, object]:
    return {"messageId": "m", "clientId": CLIENT, "extraData": {}, "status": "SUCCESS",
            "errorCode": None, "transactionId": tx, "signatures": None}  # fmt: skip


async def test_the_receiver_knows_a_transaction_once_a_run_announced_it(receiver: str) -> None:
    tx = f"tx-{secrets.token_hex(4)}"
    async with httpx.AsyncClient(base_url=receiver) as api:
        for _ in range(600):  # the approval stream opens a moment after the app serves
            if (await api.get("/health")).json()["following"]:
                break
            await asyncio.sleep(0.2)
        before = await api.post(f"/misa/webhook/{TOKEN}", json=_webhook(tx))
        assert before.status_code == 404  # no run waits for it yet
        emit_event(  # what tasks.events sends when a request goes to the phone
            event="bhxh.approval.requested",
            resource={"prefect.resource.id": f"bhxh.approval.{tx}"},
            payload={"provider": "misa", "transaction_id": tx, "unit": "TA0001A"},
        )
        for _ in range(900):  # the receiver follows the event stream: on a busy machine, late
            answer = await api.post(f"/misa/webhook/{TOKEN}", json=_webhook(tx))
            if answer.status_code == 200:
                break
            await asyncio.sleep(0.2)
        assert answer.status_code == 200 and answer.json()["errorCode"] == "0"
        health = (await api.get("/health")).json()
    assert health["counts"]["misa.accepted"] == 1
    assert TOKEN not in str(health)
