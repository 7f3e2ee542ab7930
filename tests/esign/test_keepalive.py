"""Lost connections under load: a request on a pooled connection the server is closing.

``IdleCloseServer`` drops, unanswered, a request that arrives on a connection idle for
longer than its keep-alive window: the race a benchmark hit as ``ReadError`` on a sign
POST. A sign request must travel on a connection of its own; a read must not reuse a
connection idle for longer than the client's ``keepalive_expiry``.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from esign import TxStatus, VnptSmartCAClient
from esign._http import KEEPALIVE_EXPIRY
from sandbox.pki import IssuedCertificate, TestPKI
from tests.esign.esign_support import FAST, items
from tests.esign.idle_close_server import IdleCloseServer

WINDOW = 0.3  # the server's keep-alive window in these tests
GAP = 0.45  # an idle gap longer than the window


@pytest.fixture
def server(pki: TestPKI) -> Iterator[IdleCloseServer]:
    issued = pki.issue("keepalive-unit", tax_code="0316000111", unit_name="Công ty Giữ Kết Nối")
    with IdleCloseServer(_vnpt_handler(issued), window=WINDOW) as running:
        yield running


def _vnpt_handler(issued: IssuedCertificate) -> Any:
    serial = format(issued.certificate.serial_number, "x")

    def handler(method: str, path: str, body: Any) -> tuple[int, Any]:
        if path.endswith("/get_certificate"):
            entry = {
                "cert_id": "ka-1",
                "cert_status": "Đang hoạt động",
                "serial_number": serial,
                "cert_data": base64.b64encode(issued.der).decode(),
                "chain_data": {"ca_cert": None, "root_cert": None},
                "transaction_id": body["transaction_id"],
            }
            return 200, {
                "status_code": 200,
                "message": "Success",
                "data": {"user_certificates": [entry]},
            }
        if path.endswith("/sign"):
            return 200, {
                "status_code": 200,
                "message": "sig_wait_for_user_confirm",
                "data": {"transaction_id": body["transaction_id"], "tran_code": "tc"},
            }
        return 404, {"status_code": 404, "message": "NOT_FOUND", "data": None}

    return handler


def _client(server: IdleCloseServer, **kw: Any) -> VnptSmartCAClient:
    return VnptSmartCAClient(
        server.url + "/sca/sp769", "sp", "sp-secret", "0316000111", retry=FAST, timeout=5, **kw
    )


async def test_a_sign_request_after_an_idle_gap_travels_on_a_connection_of_its_own(
    server: IdleCloseServer,
) -> None:
    async with _client(server) as client:  # default settings
        (cert,) = await client.list_certificates()
        await asyncio.sleep(GAP)  # the pooled connection is now past the server's window
        tx = await client.request_signatures(cert, items(1), "Ký", "ka-sign")
    assert tx.status is TxStatus.PENDING
    assert server.dropped == []  # never sent on the connection the server was closing
    assert server.answered[-1] == "POST /sca/sp769/v1/signatures/sign"


async def test_reads_do_not_reuse_a_connection_idle_longer_than_keepalive_expiry(
    server: IdleCloseServer,
) -> None:
    async with _client(server, keepalive_expiry=WINDOW / 2) as client:
        await client.list_certificates()
        await asyncio.sleep(GAP)
        await client.list_certificates()
    assert server.dropped == []  # no retry was needed: a new connection was opened
    assert server.connections == 2


async def test_brisk_reads_share_one_connection(pki: TestPKI) -> None:
    issued = pki.issue("keepalive-unit", tax_code="0316000111", unit_name="Công ty Giữ Kết Nối")
    with IdleCloseServer(_vnpt_handler(issued), window=30) as server:
        async with _client(server) as client:
            for _ in range(3):
                await client.list_certificates()
    assert server.connections == 1  # the pool still works for back-to-back calls


def test_the_default_idle_reuse_is_shorter_than_common_server_windows() -> None:
    # uvicorn 5 s (the sandbox's server), gunicorn 2 s, Apache 5 s, nginx 75 s
    assert KEEPALIVE_EXPIRY < 2.0
    assert uvicorn.Config(app=None).timeout_keep_alive > KEEPALIVE_EXPIRY
