"""The provider-callback receiver beside a stack (``make server``): its secrets block and
its process (``python -m receiver``), on loopback, following the server's events.

In production the same command runs behind a TLS reverse proxy (``docs/deployment.md``);
here the sandbox's MISA stand-in posts its webhook straight to loopback.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from blocks.callbacks import ProviderCallbackSecrets
from deployments.processes import ManagedProcess, free_port, spawn
from deployments.stack import PROJECT_DIR, PrefectServer, api_settings

__all__ = ["CALLBACK_BLOCK", "ReceiverProcess", "start_receiver"]

#: The block ``make server`` saves and the receiver loads.
CALLBACK_BLOCK = "bhxh-callbacks"


@dataclass
class ReceiverProcess:
    """A running receiver: its process, its URL and the MISA webhook URL to register."""

    process: ManagedProcess
    url: str
    misa_webhook_url: str = field(repr=False)  # carries the path token

    def stop(self) -> None:
        self.process.stop()


def _save_block(server: PrefectServer, block: ProviderCallbackSecrets) -> None:
    def work() -> None:
        with api_settings(server):
            asyncio.run(block.asave(CALLBACK_BLOCK, overwrite=True))

    with ThreadPoolExecutor(1, thread_name_prefix="save-callback-block") as pool:
        pool.submit(work).result()


def start_receiver(
    server: PrefectServer,
    *,
    misa_client_id: str,
    log_dir: Path,
    port: int | None = None,
    timeout: float = 60.0,
) -> ReceiverProcess:
    """Save the receiver's block (a fresh MISA webhook token), start it, wait for /health."""
    token = secrets.token_urlsafe(32)
    _save_block(
        server,
        ProviderCallbackSecrets(
            misa_client_ids=[misa_client_id], misa_webhook_token=SecretStr(token)
        ),
    )
    port = port or free_port()
    argv = [sys.executable, "-m", "receiver", "--block", CALLBACK_BLOCK, "--port", str(port)]
    process = spawn(
        "receiver", argv, env=server.env(), cwd=PROJECT_DIR, log_path=log_dir / "receiver.log"
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if not process.alive():
            raise RuntimeError(f"the receiver exited early:\n{process.tail()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.stop()
            raise TimeoutError(f"the receiver did not start:\n{process.tail()}")
        time.sleep(0.3)
    return ReceiverProcess(process, url, f"{url}/misa/webhook/{token}")
