"""VNPT SmartCA sp769 client against the provider sandbox over real HTTP on loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from esign import (
    AuthenticationFailed,
    Certificate,
    FindsRequests,
    MisaESignClient,
    SignatureMismatch,
    TransportError,
    TxStatus,
    VnptSmartCAClient,
)
from esign.vnpt import wire_ids
from tests.esign.esign_support import (
    BETA_TAX,
    FAST,
    VNPT_CLIENT,
    ProviderFactory,
    Running,
    assert_verifies,
    items,
    until,
    wait_terminal,
)


def vnpt(sb: Running, **kw: Any) -> VnptSmartCAClient:
    kw.setdefault("sp_password", VNPT_CLIENT["sp_password"])
    return VnptSmartCAClient(
        sb.vnpt_url, VNPT_CLIENT["sp_id"], user_id=BETA_TAX, retry=FAST, timeout=10, **kw
    )


async def usable(client: VnptSmartCAClient) -> Certificate:
    return next(c for c in await client.list_certificates() if c.is_usable())


async def test_certificates_are_normalised_with_the_chain(provider: ProviderFactory) -> None:
    sb = provider()
    async with vnpt(sb) as client:
        await client.login()
        certs = await client.list_certificates()
    assert client.account == BETA_TAX
    by_alias = {c.alias: c for c in certs}
    good = by_alias["esign-beta-vnpt"]
    assert good.provider == "vnpt" and good.mst == BETA_TAX and good.is_usable()
    assert good.der == sb.pki.get("esign-beta-vnpt").der
    assert good.chain == tuple(sb.pki.chain_der("vnpt"))
    assert by_alias["esign-beta-vnpt-paused"].status == "inactive"


async def test_wrong_service_credentials_raise_authentication_failed(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    async with vnpt(sb, sp_password="nope") as client:
        with pytest.raises(AuthenticationFailed) as err:
            await client.login()
    assert err.value.code == "SP_CREDENTIAL_INVALID"
    assert "nope" not in str(err.value)


async def test_a_batch_of_20_hex_digests_is_approved_with_one_approval(
    provider: ProviderFactory,
) -> None:
    sb = provider(policies={BETA_TAX: {"action": "approve"}})
    async with vnpt(sb) as client:
        cert = await usable(client)
        batch = items(20)
        tx = await client.request_signatures(cert, batch, "Ký <i>20</i> tờ khai", "vnpt-r1")
        assert tx.id == "vnpt-r1"  # our id is the wire transaction_id
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert done.status is TxStatus.SUCCEEDED
    assert_verifies(sb.pki.get("esign-beta-vnpt").certificate, batch, done.signatures)
    assert len(sb.events("approved", BETA_TAX)) == 1
    assert [e["documents"] for e in sb.events("sign_request", BETA_TAX)] == [20]


@pytest.mark.parametrize(
    ("policy", "status", "code"),
    [
        ({"action": "reject"}, TxStatus.REJECTED, "REJECTED"),
        ({"action": "fail", "fail_code": "HSM_DOWN"}, TxStatus.FAILED, "HSM_DOWN"),
    ],
)
async def test_phone_outcomes_are_normalised(
    provider: ProviderFactory, policy: dict[str, Any], status: TxStatus, code: str
) -> None:
    sb = provider(policies={BETA_TAX: policy})
    async with vnpt(sb) as client:
        cert = await usable(client)
        batch = items(2)
        tx = await client.request_signatures(cert, batch, "Ký", "vnpt-out")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert (done.status, done.error_code) == (status, code)


async def test_an_unanswered_request_expires(provider: ProviderFactory) -> None:
    sb = provider(signing_deadline_seconds=0.3)
    async with vnpt(sb) as client:
        cert = await usable(client)
        batch = items(1)
        tx = await client.request_signatures(cert, batch, "Ký", "vnpt-exp")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert done.status is TxStatus.EXPIRED
    assert len(sb.events("expired", BETA_TAX)) == 1


async def test_429_then_success(provider: ProviderFactory) -> None:
    sb = provider(faults={"burst_429": 2, "retry_after_seconds": 0})
    async with vnpt(sb) as client:
        assert len(await client.list_certificates()) == 2


async def test_a_wrong_key_signature_is_caught(provider: ProviderFactory) -> None:
    sb = provider(policies={BETA_TAX: {"action": "approve"}}, faults={"wrong_key_signatures": True})
    async with vnpt(sb) as client:
        cert = await usable(client)
        batch = items(3)
        tx = await client.request_signatures(cert, batch, "Ký", "vnpt-wk")
        await until(lambda: sb.events("approved", BETA_TAX))
        with pytest.raises(SignatureMismatch) as err:
            await client.get_transaction(tx.id, cert, batch)
    assert err.value.document_id == "doc-00"


class _LoseFirstSignAnswer(httpx.AsyncBaseTransport):
    """Loses the answer to the first sign request: after VNPT got it, or on the way in."""

    def __init__(self, *, delivered: bool) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.delivered = delivered
        self.sign_ids: list[str] = []
        self.status_bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/status"):
            self.status_bodies.append(request.content)
        if request.url.path.endswith("/v1/signatures/sign"):
            self.sign_ids.append(json.loads(request.content)["transaction_id"])
            if len(self.sign_ids) == 1:
                if self.delivered:
                    response = await self.inner.handle_async_request(request)
                    await response.aread()
                    raise httpx.ReadTimeout("answer lost", request=request)
                raise httpx.ReadError("connection reset while sending", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_lost_sign_answer_is_found_under_its_transaction_id_and_waited_on(
    provider: ProviderFactory,
) -> None:
    sb = provider(policies={BETA_TAX: {"action": "approve"}})
    transport = _LoseFirstSignAnswer(delivered=True)
    async with vnpt(sb, transport=transport) as client:
        cert = await usable(client)
        batch = items(2)
        tx = await client.request_signatures(cert, batch, "Ký", "vnpt-lost")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert transport.sign_ids == ["vnpt-lost"]  # never sent again under the same id
    assert tx.id == "vnpt-lost" and done.status is TxStatus.SUCCEEDED
    assert len(sb.events("sign_request", BETA_TAX)) == 1  # the phone saw one request
    assert set(transport.status_bodies) == {b"{}"}


async def test_a_sign_request_lost_on_the_way_in_goes_again_under_a_new_transaction_id(
    provider: ProviderFactory,
) -> None:
    sb = provider(policies={BETA_TAX: {"action": "approve"}})
    transport = _LoseFirstSignAnswer(delivered=False)
    async with vnpt(sb, transport=transport) as client:
        cert = await usable(client)
        batch = items(2)
        tx = await client.request_signatures(cert, batch, "Ký", "vnpt-in")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    # The ids a request goes under are fixed in advance: a new process can find it again.
    assert transport.sign_ids == wire_ids("vnpt-in")[:2] == ["vnpt-in", "vnpt-in-2"]
    assert tx.id == "vnpt-in-2" and done.status is TxStatus.SUCCEEDED
    assert len(sb.events("sign_request", BETA_TAX)) == 1


async def test_a_request_a_dead_process_sent_is_found_again_under_our_id(
    provider: ProviderFactory,
) -> None:
    """The send window: a process sent a request and died before journalling the answer.
    A new client, knowing only the client id journalled before the send, finds it (under
    whichever of its ids it went), reads it, and never sends it again."""
    sb = provider(policies={BETA_TAX: {"action": "approve"}})
    batch = items(2)
    transport = _LoseFirstSignAnswer(delivered=False)
    async with vnpt(sb, transport=transport) as dead:
        cert = await usable(dead)
        await dead.request_signatures(cert, batch, "Ký", "crash-a")  # went as crash-a-2
        await dead.request_signatures(cert, batch, "Ký", "crash-b")
    async with vnpt(sb) as client:
        assert isinstance(client, FindsRequests)
        cert = await usable(client)
        for client_id, wire_id in (("crash-a", "crash-a-2"), ("crash-b", "crash-b")):
            found = await client.find_request(client_id, cert, batch)
            assert found is not None and found.id == wire_id
            done = await wait_terminal(lambda f=found: client.get_transaction(f.id, cert, batch))
            assert done.status is TxStatus.SUCCEEDED
            found = await client.find_request(client_id, cert, batch)
            assert found is not None and found.status is TxStatus.SUCCEEDED  # verified
            assert set(found.signatures) == {i.document_id for i in batch}
        assert await client.find_request("never-sent", cert, batch) is None
    assert len(sb.events("sign_request", BETA_TAX)) == 2  # nothing sent twice


class _NoStatus(httpx.AsyncBaseTransport):
    """The provider cannot be reached for status reads."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/status"):
            raise httpx.ConnectError("unreachable", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_request_that_cannot_be_looked_up_is_a_transport_error_not_an_absence(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    async with vnpt(sb, transport=_NoStatus()) as client:
        cert = await usable(client)
        with pytest.raises(TransportError):
            await client.find_request("crash-c", cert, items(1))


def test_only_a_provider_that_takes_our_transaction_id_finds_requests_by_it() -> None:
    # MISA gives its id only in the sign answer (guide 3.5) and reads a status by that id
    # alone (3.6): no call finds a request by anything of ours.
    misa = MisaESignClient("https://misa.invalid/", "cid", "ckey", "user", "pw")
    assert not isinstance(misa, FindsRequests)


async def test_a_sign_answer_lost_by_the_provider_is_waited_on(provider: ProviderFactory) -> None:
    sb = provider(policies={BETA_TAX: {"action": "approve"}}, faults={"lose_sign_response": 1})
    async with vnpt(sb) as client:
        cert = await usable(client)
        batch = items(1)
        tx = await client.request_signatures(cert, batch, "Ký", "vnpt-502")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert tx.id == "vnpt-502" and done.status is TxStatus.SUCCEEDED
    assert len(sb.events("sign_request", BETA_TAX)) == 1


async def test_the_sign_request_echoes_the_listed_serial_byte_for_byte(
    provider: ProviderFactory,
) -> None:
    sb = provider(policies={BETA_TAX: {"action": "approve"}})
    issued = sb.pki.get("esign-beta-vnpt").certificate
    async with vnpt(sb) as client:
        cert = await usable(client)
        assert cert.wire_serial == format(issued.serial_number, "x")  # lower case, as listed
        assert cert.serial == format(issued.serial_number, "X")  # the flows' normal form
        tx = await client.request_signatures(cert, items(1), "Ký", "vnpt-serial")
    assert tx.status is TxStatus.PENDING  # a server comparing serials as written took it


async def test_an_unknown_user_id_raises_authentication_failed(provider: ProviderFactory) -> None:
    sb = provider()
    async with VnptSmartCAClient(
        sb.vnpt_url, VNPT_CLIENT["sp_id"], VNPT_CLIENT["sp_password"], "000000000000", retry=FAST
    ) as client:
        with pytest.raises(AuthenticationFailed) as err:
            await client.login()
    assert err.value.code == "SP_CREDENTIAL_INVALID"
    assert "000000000000" in str(err.value)
