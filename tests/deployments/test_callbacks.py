"""``make server``'s receiver: its block saved against the server, its process started,
the MISA webhook URL it gives the sandbox accepted by it (here against the test harness's
API standing in for the stack's server)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from prefect.settings import PREFECT_API_URL

from blocks.callbacks import ProviderCallbackSecrets
from deployments.callbacks import CALLBACK_BLOCK, start_receiver
from deployments.processes import ManagedProcess
from deployments.stack import PrefectServer

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_the_stack_starts_a_receiver_that_knows_its_webhook_token(tmp_path: Path) -> None:
    api = urlsplit(str(PREFECT_API_URL.value()))
    assert api.port is not None
    idle = subprocess.Popen([sys.executable, "-c", "pass"])
    server = PrefectServer(
        ManagedProcess("harness", idle, tmp_path / "h.log"), api.port, tmp_path, ""
    )
    receiver = start_receiver(server, misa_client_id="prefect-bhxh-demo", log_dir=tmp_path)
    try:
        token = receiver.misa_webhook_url.rsplit("/", 1)[1]
        block = ProviderCallbackSecrets.load(CALLBACK_BLOCK)
        assert isinstance(block, ProviderCallbackSecrets)
        assert block.misa_webhook_token.get_secret_value() == token
        assert token not in repr(receiver)
        answer = httpx.post(
            receiver.misa_webhook_url,
            json={"clientId": "prefect-bhxh-demo", "transactionId": "nobody-waits"},
        )
        assert answer.status_code == 404  # authenticated; the transaction is unknown
        wrong = httpx.post(
            f"{receiver.url}/misa/webhook/x{token}",
            json={"clientId": "prefect-bhxh-demo", "transactionId": "nobody-waits"},
        )
        assert wrong.status_code == 401
    finally:
        receiver.stop()
    assert token not in (tmp_path / "receiver.log").read_text(errors="replace")
