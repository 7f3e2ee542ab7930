"""Viettel MySign client against a strict server written from the document alone."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from esign import (
    AuthenticationFailed,
    CertificateNotFound,
    FindsRequests,
    SignatureMismatch,
    SigningBlocked,
    TransportError,
    TxStatus,
    ViettelMySignClient,
)
from esign.mysign import MAX_TEXT_BYTES, MYSIGN_STATUS, document_label, phone_text
from tests.esign.esign_support import FAST, items, wait_terminal
from tests.esign.strict_mysign import MySignWorld, mysign_app, mysign_world

BASE = "https://remotesigning.test"
DISPLAY = (
    "<b>BHXH điện tử</b>: Công ty TNHH Kiểm Thử Hải Đăng (TM0006M)<br>Kỳ 12/2026, lần ký "
    "1/2: 2 tờ khai của 1 hồ sơ<br>Mã yêu cầu: AB12CD34"
)


@pytest.fixture
def world() -> MySignWorld:
    return mysign_world()


def client(world: MySignWorld, **kw: Any) -> ViettelMySignClient:
    kw.setdefault("client_secret", world.client_secret)
    kw.setdefault("user_id", world.user_id)
    return ViettelMySignClient(
        BASE,
        kw.pop("client_id", world.client_id),
        kw.pop("client_secret"),
        kw.pop("profile_id", world.profile_id),
        kw.pop("user_id"),
        transport=httpx.ASGITransport(app=mysign_app(world)),
        retry=FAST,
        **kw,
    )


async def test_certificates_carry_the_chain_and_the_credential_id(world: MySignWorld) -> None:
    async with client(world) as c:
        await c.login()
        certs = await c.list_certificates()
    first, second = certs
    assert first.alias == world.certs[0].vnpt_id  # credential_id, sent back as credentialID
    assert first.der == world.certs[0].der and first.chain == (world.ca_der,)
    assert first.status == "active" and first.mst == "0318765432"
    assert first.wire_serial.isdigit()  # the sample's serialNumber: decimal, kept as listed
    assert second.status == "inactive"  # cert.status "revoked"
    assert world.refused == []


async def test_a_batch_is_signed_after_the_signer_confirms(world: MySignWorld) -> None:
    batch = items(3)
    async with client(world) as c:
        await c.login()
        cert = (await c.list_certificates())[0]
        tx = await c.request_signatures(cert, batch, DISPLAY, "TM0006M-r1-0001")
        assert tx.status is TxStatus.PENDING
        seen = []

        async def poll() -> Any:
            t = await c.get_transaction(tx.id, cert, batch)
            seen.append(t.status)
            return t

        done = await wait_terminal(poll)
    assert world.refused == []
    assert seen[:2] == [TxStatus.PENDING, TxStatus.PENDING]  # 4000, then 6000
    assert done.status is TxStatus.SUCCEEDED
    assert list(done.signatures) == [i.document_id for i in batch]
    (body,) = world.sign_bodies
    assert body["async"] == 1 and body["numSignatures"] == 3
    description = base64.b64decode(body["description"]).decode()
    assert description == phone_text(DISPLAY) and "Mã yêu cầu: AB12CD34" in description
    names = [base64.b64decode(d["document_name"]).decode() for d in body["documents"]]
    assert names == [i.name for i in batch]


async def test_callback_mode_asks_for_async_3(world: MySignWorld) -> None:
    async with client(world, callback=True) as c:
        cert = (await c.list_certificates())[0]
        await c.request_signatures(cert, items(1), DISPLAY, "TM0006M-r1-0002")
    assert world.sign_bodies[0]["async"] == 3 and c.async_mode == 3


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"client_id": "nobody"}, "58007", "client_id"),
        ({"user_id": "MST_0000000000"}, "58008", "user_id"),
        ({"profile_id": "adss:ras:profile:999"}, "59033", "user_id"),
        ({"client_secret": "wrong-secret-value"}, "86024", "client_secret"),
    ],
)
async def test_each_login_error_has_its_sentence(
    world: MySignWorld, change: dict[str, str], code: str, words: str
) -> None:
    async with client(world, **change) as c:
        with pytest.raises(AuthenticationFailed) as caught:
            await c.login()
    assert caught.value.code == code
    message = str(caught.value)
    assert code in message and words in message
    assert world.client_secret not in message and "wrong-secret-value" not in message


async def test_an_expired_token_logs_in_again_and_sends_the_request_once(
    world: MySignWorld,
) -> None:
    async with client(world) as c:
        cert = (await c.list_certificates())[0]
        world.expire_tokens()
        await c.request_signatures(cert, items(1), DISPLAY, "TM0006M-r1-0003")
    assert world.counts["login"] == 2
    assert len(world.transactions) == 1  # the 401 was not processed; one request exists


@pytest.mark.parametrize(
    ("code", "status", "ask_again"),
    [
        ("4001", TxStatus.EXPIRED, True),
        ("4002", TxStatus.REJECTED, True),
        ("4004", TxStatus.FAILED, True),
        ("50000", TxStatus.FAILED, True),
        ("4005", TxStatus.FAILED, False),
        ("13004", TxStatus.FAILED, False),
    ],
)
async def test_status_codes_map_to_outcomes_with_their_sentence(
    world: MySignWorld, code: str, status: TxStatus, ask_again: bool
) -> None:
    world.final_status = code
    batch = items(1)
    async with client(world) as c:
        cert = (await c.list_certificates())[0]
        tx = await c.request_signatures(cert, batch, DISPLAY, f"TM0006M-r1-{code}")
        done = await wait_terminal(lambda: c.get_transaction(tx.id, cert, batch))
    assert done.status is status and done.error_code == code
    assert done.ask_again is ask_again
    assert done.message is not None and MYSIGN_STATUS[code].vi in done.message


async def test_out_of_quota_at_sign_time_blocks_the_unit(world: MySignWorld) -> None:
    world.sign_error = "4005"
    async with client(world) as c:
        cert = (await c.list_certificates())[0]
        with pytest.raises(SigningBlocked) as caught:
            await c.request_signatures(cert, items(1), DISPLAY, "TM0006M-r1-0004")
    assert "hết lượt ký" in caught.value.user_message


async def test_a_revoked_certificate_at_sign_time_is_not_found(world: MySignWorld) -> None:
    world.sign_error = "13004"
    async with client(world) as c:
        cert = (await c.list_certificates())[0]
        with pytest.raises(CertificateNotFound, match="thu hồi"):
            await c.request_signatures(cert, items(1), DISPLAY, "TM0006M-r1-0005")


async def test_a_signature_from_another_key_is_refused(world: MySignWorld) -> None:
    batch = items(2)
    async with client(world) as c:
        certs = await c.list_certificates()
        tx = await c.request_signatures(certs[0], batch, DISPLAY, "TM0006M-r1-0006")
        world.transactions[tx.id].cert = world.certs[1]  # the server signs with another key
        with pytest.raises(SignatureMismatch):
            await wait_terminal(lambda: c.get_transaction(tx.id, certs[0], batch))


async def test_a_lost_sign_answer_is_not_sent_again(world: MySignWorld) -> None:
    world.lose_next_sign = True
    async with client(world) as c:
        cert = (await c.list_certificates())[0]
        with pytest.raises(TransportError) as caught:
            await c.request_signatures(cert, items(1), DISPLAY, "TM0006M-r1-0007")
        assert caught.value.maybe_sent
        with pytest.raises(TransportError):
            await c.request_signatures(cert, items(1), DISPLAY, "TM0006M-r1-0007")
    assert len(world.transactions) == 1
    # transactionId comes only in the lost answer: the request cannot be found again
    assert not isinstance(c, FindsRequests)


def test_the_phone_text_keeps_the_reference_within_the_limit() -> None:
    # the flows' text: the void notice, then the request's own reference, last
    head, _, own = DISPLAY.rpartition("<br>")
    void = f"{head}<br><b>Đã hủy, đừng duyệt</b>: Mã yêu cầu 9F8E7D6C<br>{own}"
    for text in (DISPLAY, void):
        shown = phone_text(text)
        encoded = base64.b64encode(shown.encode()).decode()
        assert len(shown.encode()) <= MAX_TEXT_BYTES and len(encoded) < 100
        assert "<" not in shown and shown.endswith("Mã yêu cầu: AB12CD34")
    assert phone_text(DISPLAY).startswith("BHXH điện tử: Công ty")


def test_a_long_document_name_keeps_its_start_and_end() -> None:
    name = "Tờ khai điều chỉnh đóng BHXH, BHYT, BHTN của người lao động D02-TS-595.xml"
    label = document_label(name)
    assert len(label.encode()) <= MAX_TEXT_BYTES and "…" in label
    assert label.startswith("Tờ khai") and label.endswith("D02-TS-595.xml")
    assert document_label("D02-TS-595.xml") == "D02-TS-595.xml"


def test_calls_are_paced_under_the_integrators_client_id(world: MySignWorld) -> None:
    from esign.pacing import pace_key

    c = client(world)
    assert c._http.pace == pace_key("mysign", world.client_id, BASE)
    assert world.client_id.lower().replace("_", "-") in c._http.pace
    assert world.client_secret not in c._http.pace
