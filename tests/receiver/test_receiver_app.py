"""The receiver: each provider's caller authenticated as its document says, everything
else refused with the documented answer shape, and nothing but a wake-up event sent."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bhxh.pipeline import DossierStore, Step, StoredFile
from receiver import AwaitedTransactions, ReceiverConfig, create_receiver_app
from tasks.callbacks import CALLBACK_EVENT, callback_resource_id

MISA_CLIENT = "c0ffee00-misa-client-id"
MISA_TOKEN = "misa-webhook-path-token-0123456789abcdef"
MYSIGN_ID = "bhxh-receiver"
MYSIGN_SECRET = "mysign-callback-secret-0123456789abcdef"
SIGNATURE = base64.b64encode(b"\x01" * 256).decode()


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, **event: Any) -> None:
        self.events.append(event)


@pytest.fixture
def emitted() -> Recorder:
    return Recorder()


@pytest.fixture
def awaited() -> AwaitedTransactions:
    known = AwaitedTransactions()
    known.add("misa", "misa-tx-1", unit="TA0001A")
    known.add("mysign", "vt-tx-1", unit="TB0002B")
    return known


@pytest.fixture
async def client(
    emitted: Recorder, awaited: AwaitedTransactions
) -> AsyncIterator[httpx.AsyncClient]:
    config = ReceiverConfig(
        misa_client_ids=(MISA_CLIENT,),
        misa_webhook_token=MISA_TOKEN,
        mysign_client_id=MYSIGN_ID,
        mysign_client_secret=MYSIGN_SECRET,
    )
    app = create_receiver_app(config, awaited, emit=emitted)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as c:
        yield c


def misa_webhook(tx: str = "misa-tx-1", client_id: str = MISA_CLIENT) -> dict[str, Any]:
    """The guide's 3.8 body, with invented values."""
    return {
        "messageId": "7d1c2b1e-0000-4000-8000-000000000001",
        "clientId": client_id,
        "extraData": {},
        "status": "SUCCESS",
        "errorCode": None,
        "transactionId": tx,
        "signatures": [{"documentId": "doc-1", "signature": SIGNATURE}],
    }


def mysign_result(tx: str = "vt-tx-1") -> dict[str, Any]:
    """The MySign callback's result body (async=3), with invented values."""
    return {
        "meta_data": {
            "request_id": "req-1",
            "transaction_id": tx,
            "description": "BHXH",
            "status": 1,
        },
        "data": {
            "action_timestamp": "2026-01-10T08:00:00Z",
            "signature_timestamp": "2026-01-10T08:00:01Z",
            "results": [{"document_id": "doc-1", "signature": SIGNATURE}],
        },
    }


async def mysign_token(client: httpx.AsyncClient) -> str:
    answer = await client.post(
        "/mysign/auth",
        json={
            "grant_type": "client_credentials",
            "client_id": MYSIGN_ID,
            "client_secret": MYSIGN_SECRET,
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["status_code"] == "00"
    assert body["data"]["expires_in"] == 3600
    token: str = body["data"]["access_token"]
    return token


# ---------------------------------------------------------------------------- MISA


async def test_a_misa_webhook_for_an_awaited_transaction_emits_one_wake_up(
    client: httpx.AsyncClient, emitted: Recorder
) -> None:
    answer = await client.post(f"/misa/webhook/{MISA_TOKEN}", json=misa_webhook())
    assert answer.status_code == 200
    assert answer.json()["errorCode"] == "0"
    assert set(answer.json()) == {"errorCode", "devMsg", "userMsg"}  # the guide's 3.8 answer
    assert len(emitted.events) == 1
    event = emitted.events[0]
    assert event["event"] == CALLBACK_EVENT
    assert event["resource"]["prefect.resource.id"] == callback_resource_id("misa", "misa-tx-1")
    assert event["resource"]["bhxh.unit"] == "TA0001A"  # what the unit's run listens on
    # A wake-up only: no signature travels on.
    assert SIGNATURE not in repr(event)


@pytest.mark.parametrize(
    ("path_token", "body", "status", "why"),
    [
        ("wrong-token-0123456789abcdef0123456789", misa_webhook(), 401, "wrong URL token"),
        (MISA_TOKEN, misa_webhook(client_id="someone-else"), 401, "wrong clientId"),
        (MISA_TOKEN, misa_webhook(tx="never-requested"), 404, "unknown transaction"),
        (MISA_TOKEN, {"status": "SUCCESS"}, 400, "no transactionId"),
    ],
)
async def test_a_misa_webhook_is_refused_with_the_documented_shape(
    client: httpx.AsyncClient,
    emitted: Recorder,
    path_token: str,
    body: dict[str, Any],
    status: int,
    why: str,
) -> None:
    answer = await client.post(f"/misa/webhook/{path_token}", json=body)
    assert answer.status_code == status, why
    assert set(answer.json()) == {"errorCode", "devMsg", "userMsg"}
    assert answer.json()["errorCode"] != "0"
    assert emitted.events == []


# ----------------------------------------------------------------- Viettel MySign


async def test_a_mysign_callback_authenticates_then_wakes(
    client: httpx.AsyncClient, emitted: Recorder
) -> None:
    token = await mysign_token(client)
    answer = await client.post(
        "/mysign/result", json=mysign_result(), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    assert answer.json()["status_code"] == "00"
    assert "message" in answer.json()
    assert [e["resource"]["prefect.resource.id"] for e in emitted.events] == [
        callback_resource_id("mysign", "vt-tx-1")
    ]


async def test_a_mysign_callback_sent_as_the_document_prints_it_get_with_a_body_wakes(
    client: httpx.AsyncClient, emitted: Recorder
) -> None:
    # The sandbox's MySign calls back with GET and a JSON body, as the document prints.
    auth = await client.request(
        "GET",
        "/mysign/auth",
        json={
            "grant_type": "client_credentials",
            "client_id": MYSIGN_ID,
            "client_secret": MYSIGN_SECRET,
        },
    )
    assert auth.status_code == 200
    token = auth.json()["data"]["access_token"]
    answer = await client.request(
        "GET", "/mysign/result", json=mysign_result(), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200 and answer.json()["status_code"] == "00"
    assert len(emitted.events) == 1


@pytest.mark.parametrize(
    ("credentials", "why"),
    [
        (
            {"grant_type": "client_credentials", "client_id": MYSIGN_ID, "client_secret": "x"},
            "wrong secret",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "x", "client_secret": MYSIGN_SECRET},
            "wrong client id",
        ),
        (
            {"grant_type": "password", "client_id": MYSIGN_ID, "client_secret": MYSIGN_SECRET},
            "wrong grant type",
        ),
    ],
)
async def test_a_mysign_auth_call_with_wrong_credentials_gets_no_token(
    client: httpx.AsyncClient, credentials: dict[str, str], why: str
) -> None:
    answer = await client.post("/mysign/auth", json=credentials)
    assert answer.status_code == 401, why
    assert answer.json()["status_code"] != "00"
    assert "data" not in answer.json()


@pytest.mark.parametrize("token", ["", "Bearer not-a-token-we-issued", "Basic abc"])
async def test_a_mysign_result_with_a_wrong_token_is_refused(
    client: httpx.AsyncClient, emitted: Recorder, token: str
) -> None:
    await mysign_token(client)  # a real token exists, but this call does not carry it
    headers = {"Authorization": token} if token else {}
    answer = await client.post("/mysign/result", json=mysign_result(), headers=headers)
    assert answer.status_code == 401
    assert answer.json()["status_code"] != "00"
    assert emitted.events == []


async def test_a_mysign_result_for_an_unknown_transaction_is_refused(
    client: httpx.AsyncClient, emitted: Recorder
) -> None:
    token = await mysign_token(client)
    answer = await client.post(
        "/mysign/result",
        json=mysign_result(tx="never-requested"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 404
    assert answer.json()["status_code"] != "00"
    assert emitted.events == []


async def test_a_misa_token_is_no_mysign_token_and_the_reverse(
    client: httpx.AsyncClient, emitted: Recorder
) -> None:
    misa = await client.post(
        "/mysign/result", json=mysign_result(), headers={"Authorization": f"Bearer {MISA_TOKEN}"}
    )
    token = await mysign_token(client)
    mysign = await client.post(f"/misa/webhook/{token}", json=misa_webhook())
    assert (misa.status_code, mysign.status_code) == (401, 401)
    assert emitted.events == []


# ------------------------------------------------------------- nothing else changes


async def test_refused_callbacks_leave_a_waiting_dossier_as_it_was(
    client: httpx.AsyncClient, emitted: Recorder, tmp_path: Path
) -> None:
    store = DossierStore(tmp_path / "store")
    content = b"<a/>"
    stored = StoredFile("declaration", "D02-TS", "D02-TS.xml", hashlib.sha256(content).hexdigest())
    rec = store.create("TA0001A", "01/2026", "600", "600", [(stored, "source/D02-TS.xml", content)])
    store.record(rec, Step.PREPARED, round=1)
    store.record(
        rec, Step.ROUND1_REQUESTED, client_transaction_id="TA0001A-r1-x", transaction_id="misa-tx-1"
    )
    before = {p: p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file()}
    token = await mysign_token(client)
    forged = [
        client.post("/misa/webhook/not-the-token-0123456789abcdefghij", json=misa_webhook()),
        client.post(f"/misa/webhook/{MISA_TOKEN}", json=misa_webhook(client_id="forger")),
        client.post(f"/misa/webhook/{MISA_TOKEN}", json=misa_webhook(tx="other")),
        client.post("/mysign/result", json=mysign_result(), headers={"Authorization": "Bearer x"}),
        client.post(
            "/mysign/result",
            json=mysign_result(tx="other"),
            headers={"Authorization": f"Bearer {token}"},
        ),
    ]
    for call in forged:
        assert (await call).status_code in (401, 404)
    after = {p: p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file()}
    assert after == before
    assert store.get("TA0001A", "01/2026", rec.id).state is Step.ROUND1_REQUESTED
    assert emitted.events == []


async def test_no_secret_or_signature_reaches_the_log(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await mysign_token(client)
    await client.post(f"/misa/webhook/{MISA_TOKEN}", json=misa_webhook())
    await client.post(f"/misa/webhook/{MISA_TOKEN}x", json=misa_webhook())
    await client.post(
        "/mysign/result", json=mysign_result(), headers={"Authorization": f"Bearer {token}"}
    )
    await client.post(
        "/mysign/auth",
        json={"grant_type": "client_credentials", "client_id": MYSIGN_ID, "client_secret": "bad"},
    )
    # The receiver's own log (the caller's client logs its own URL, which is MISA's side).
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.split(".")[0] == "receiver")
    assert "misa-tx-1" in text  # what was decided is logged...
    for secret in (MISA_TOKEN, MYSIGN_SECRET, token, SIGNATURE, "bad"):
        assert secret not in text  # ...never a secret or a signature


def test_the_config_hides_its_secrets() -> None:
    config = ReceiverConfig(misa_webhook_token=MISA_TOKEN, mysign_client_secret=MYSIGN_SECRET)
    assert MISA_TOKEN not in repr(config) and MYSIGN_SECRET not in repr(config)


def test_an_awaited_transaction_is_forgotten_when_its_approval_ends() -> None:
    class Ev:
        def __init__(self, event: str, **payload: Any) -> None:
            self.event, self.payload = event, payload

    awaited = AwaitedTransactions()
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    awaited.note(
        Ev(
            "bhxh.approval.requested",
            provider="misa",
            transaction_id="t",
            expires_at=soon,
            unit="TA0001A",
        )
    )
    assert ("misa", "t") in awaited and awaited.unit("misa", "t") == "TA0001A"
    awaited.note(Ev("bhxh.approval.approved", provider="misa", transaction_id="t"))
    assert ("misa", "t") not in awaited
    awaited.note(
        Ev(
            "bhxh.approval.requested",
            provider="misa",
            transaction_id="u",
            expires_at=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
        )
    )
    assert ("misa", "u") not in awaited  # long past its deadline and the grace
