"""CA2 RemoteSigning client: its whole path against a strict server of our own
(``strict_ca2.py``), and the phone's outcomes against the provider sandbox."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from esign import (
    AuthenticationFailed,
    Ca2RemoteSigningClient,
    Certificate,
    FindsRequests,
    ProviderError,
    SignatureMismatch,
    TransportError,
    TxStatus,
)
from esign.ca2 import wire_ids
from tests.esign.ca2_support import CA2_CLIENT, GAMMA_TAX, ca2_config
from tests.esign.esign_support import (
    FAST,
    ProviderFactory,
    Running,
    assert_verifies,
    items,
    wait_terminal,
)
from tests.esign.strict_ca2 import CA2, StrictCa2World, ca2_serial, strict_ca2_app
from tests.esign.strict_server import StrictCert, StrictServer, make_material

# ====================================================================== strict server


@pytest.fixture(scope="module")
def material() -> tuple[bytes, list[StrictCert]]:
    return make_material(GAMMA_TAX)


@pytest.fixture
def world(material: tuple[bytes, list[StrictCert]]) -> StrictCa2World:
    ca, certs = material
    return StrictCa2World(ca_der=ca, certs=certs)


@pytest.fixture
def strict(world: StrictCa2World) -> Iterator[StrictServer]:
    with StrictServer(world, strict_ca2_app(world)) as server:
        yield server


def client_of(server: StrictServer, **kw: Any) -> Ca2RemoteSigningClient:
    w = server.world
    assert isinstance(w, StrictCa2World)
    kw.setdefault("sp_password", w.sp_password)
    return Ca2RemoteSigningClient(
        server.url + CA2, w.sp_id, user_id=w.ca2_user, retry=FAST, timeout=10, **kw
    )


async def test_the_whole_path_passes_the_strict_server(strict: StrictServer) -> None:
    world = strict.world
    async with client_of(strict) as client:
        await client.login()
        certs = await client.list_certificates()
        assert [c.wire_serial for c in certs] == [ca2_serial(c.der) for c in world.certs]
        cert = certs[0]
        assert cert.provider == "ca2" and cert.mst == GAMMA_TAX and cert.is_usable()
        assert cert.chain == (world.ca_der, world.ca_der)
        batch = items(3)
        tx = await client.request_signatures(cert, batch, "Ký 3 tờ khai", "ca2-r1")
        assert tx.id == "ca2-r1" and tx.status is TxStatus.PENDING  # our id on the wire
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert world.refused == []
    assert done.status is TxStatus.SUCCEEDED
    assert list(done.signatures) == [i.document_id for i in batch]
    (body,) = world.sign_bodies
    assert body["serial_number"] == cert.wire_serial  # echoed as listed (lower-case here)
    assert [base64.b64decode(f["data_to_be_signed"]) for f in body["sign_files"]] == [
        i.digest for i in batch
    ]
    assert {f["file_type"] for f in body["sign_files"]} == {"xml"}


async def test_the_time_stamp_is_vietnam_time(strict: StrictServer) -> None:
    async with client_of(strict) as client:
        cert = (await client.list_certificates())[0]
        await client.request_signatures(cert, items(1), "Ký", "ca2-ts")
    (body,) = strict.world.sign_bodies
    sent = dt.datetime.strptime(body["time_stamp"], "%Y%m%d%H%M%S")
    vietnam = dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)
    assert abs(sent - vietnam.replace(tzinfo=None)) < dt.timedelta(minutes=5)


async def test_wrong_sp_credentials_raise_authentication_failed_without_the_secret(
    strict: StrictServer,
) -> None:
    async with client_of(strict, sp_password="ca2-guess-secret") as client:
        with pytest.raises(AuthenticationFailed) as err:
            await client.login()
    assert "ca2-guess-secret" not in str(err.value) and err.value.code == "401"


async def test_a_lost_sign_answer_is_found_under_our_id_and_never_sent_again(
    strict: StrictServer,
) -> None:
    world = strict.world
    world.lose_next_sign = "after"
    async with client_of(strict) as client:
        cert = (await client.list_certificates())[0]
        batch = items(2)
        tx = await client.request_signatures(cert, batch, "Ký", "ca2-lost")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert tx.id == "ca2-lost" and done.status is TxStatus.SUCCEEDED
    assert [b["transaction_id"] for b in world.sign_bodies] == ["ca2-lost"]
    assert world.counts.get("reused_transaction_id") is None


async def test_a_request_lost_on_the_way_in_goes_again_under_the_next_id(
    strict: StrictServer,
) -> None:
    world = strict.world
    world.lose_next_sign = "before"
    async with client_of(strict) as client:
        cert = (await client.list_certificates())[0]
        batch = items(2)
        tx = await client.request_signatures(cert, batch, "Ký", "ca2-in")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    # an unknown id is read from the body's status_code 400 (HTTP 200 here)
    assert [b["transaction_id"] for b in world.sign_bodies] == wire_ids("ca2-in")[:2]
    assert tx.id == "ca2-in-2" and done.status is TxStatus.SUCCEEDED
    assert world.counts["ca2_sign"] == 1


async def test_a_request_a_dead_process_sent_is_found_again_by_a_new_client(
    strict: StrictServer,
) -> None:
    batch = items(2)
    async with client_of(strict) as dead:
        cert = (await dead.list_certificates())[0]
        await dead.request_signatures(cert, batch, "Ký", "ca2-crash")
    async with client_of(strict) as client:
        assert isinstance(client, FindsRequests)
        found = await client.find_request("ca2-crash", cert, batch)
        assert found is not None and found.id == "ca2-crash"
        done = await wait_terminal(lambda: client.get_transaction(found.id, cert, batch))
        assert done.status is TxStatus.SUCCEEDED
        assert await client.find_request("ca2-never-sent", cert, batch) is None
    assert strict.world.counts["ca2_sign"] == 1


async def test_minus_two_is_a_failed_transaction_in_vietnamese(strict: StrictServer) -> None:
    world = strict.world
    assert isinstance(world, StrictCa2World)
    world.cannot_sign = True
    async with client_of(strict) as client:
        cert = (await client.list_certificates())[0]
        batch = items(2)
        tx = await client.request_signatures(cert, batch, "Ký", "ca2-minus2")
        done = await client.get_transaction(tx.id, cert, batch)
    assert done.status is TxStatus.FAILED and done.error_code == "-2"
    assert done.message is not None and "không ký được" in done.message
    assert all(i.document_id in done.message for i in batch)


async def test_an_unsigned_document_keeps_the_transaction_pending(strict: StrictServer) -> None:
    strict.world.approve_after_polls = 3
    async with client_of(strict) as client:
        cert = (await client.list_certificates())[0]
        batch = items(1)
        tx = await client.request_signatures(cert, batch, "Ký", "ca2-wait")
        first = await client.get_transaction(tx.id, cert, batch)
        assert first.status is TxStatus.PENDING and not first.signatures


# ====================================================================== the sandbox


def ca2(sb: Running, **kw: Any) -> Ca2RemoteSigningClient:
    kw.setdefault("sp_password", CA2_CLIENT["sp_password"])
    return Ca2RemoteSigningClient(
        sb.url + "/ca2/api/data", CA2_CLIENT["sp_id"], user_id=GAMMA_TAX, retry=FAST, **kw
    )


async def usable(client: Ca2RemoteSigningClient) -> Certificate:
    return next(c for c in await client.list_certificates() if c.alias == "esign-gamma-ca2")


async def test_the_sandbox_signs_a_batch_with_one_approval(provider: ProviderFactory) -> None:
    sb = provider(**ca2_config(), policies={GAMMA_TAX: {"action": "approve"}})
    async with ca2(sb) as client:
        cert = await usable(client)
        assert cert.der == sb.pki.get("esign-gamma-ca2").der
        assert cert.chain == tuple(sb.pki.chain_der("ca2"))
        batch = items(5)
        tx = await client.request_signatures(cert, batch, "Ký 5 tờ khai", "ca2-sb-1")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert done.status is TxStatus.SUCCEEDED
    assert_verifies(sb.pki.get("esign-gamma-ca2").certificate, batch, done.signatures)
    assert len(sb.events("approved", GAMMA_TAX)) == 1


@pytest.mark.parametrize(
    ("action", "status"),
    [("reject", TxStatus.REJECTED), ("fail", TxStatus.FAILED), ("expire", TxStatus.EXPIRED)],
)
async def test_the_phone_outcomes_are_normalised(
    provider: ProviderFactory, action: str, status: TxStatus
) -> None:
    sb = provider(
        **ca2_config(),
        policies={GAMMA_TAX: {"action": action}},
        signing_deadline_seconds=1 if action == "expire" else 300,
    )
    async with ca2(sb) as client:
        cert = await usable(client)
        batch = items(1)
        tx = await client.request_signatures(cert, batch, "Ký", f"ca2-{action}")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert done.status is status
    assert done.message  # a sentence for the accountant


async def test_a_wrong_key_signature_is_caught(provider: ProviderFactory) -> None:
    sb = provider(
        **ca2_config(),
        policies={GAMMA_TAX: {"action": "approve"}},
        faults={"wrong_key_signatures": True},
    )
    async with ca2(sb) as client:
        cert = await usable(client)
        batch = items(1)
        tx = await client.request_signatures(cert, batch, "Ký", "ca2-wrongkey")
        with pytest.raises(SignatureMismatch):
            await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))


async def test_a_paused_certificate_is_refused_in_a_vietnamese_sentence(
    provider: ProviderFactory,
) -> None:
    sb = provider(**ca2_config())
    async with ca2(sb) as client:
        certs = {c.alias: c for c in await client.list_certificates()}
        # CA2 lists no status (client code): the refusal comes from the sign call
        paused = certs["esign-gamma-ca2-paused"]
        with pytest.raises(ProviderError) as err:
            await client.request_signatures(paused, items(1), "Ký", "ca2-paused")
    assert err.value.status == 403 and err.value.user_message.startswith("CA2 từ chối")
    assert CA2_CLIENT["sp_password"] not in str(err.value)


async def test_a_sign_answer_lost_by_the_sandbox_is_waited_on(provider: ProviderFactory) -> None:
    sb = provider(
        **ca2_config(),
        policies={GAMMA_TAX: {"action": "approve"}},
        faults={"lose_sign_response": 1},
    )
    async with ca2(sb) as client:
        cert = await usable(client)
        batch = items(2)
        tx = await client.request_signatures(cert, batch, "Ký", "ca2-sb-lost")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert tx.id == "ca2-sb-lost" and done.status is TxStatus.SUCCEEDED
    assert len(sb.events("sign_request", GAMMA_TAX)) == 1


class _NoStatus(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/status"):
            raise httpx.ConnectError("unreachable", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_request_that_cannot_be_looked_up_is_a_transport_error(
    provider: ProviderFactory,
) -> None:
    sb = provider(**ca2_config())
    async with ca2(sb, transport=_NoStatus()) as client:
        cert = await usable(client)
        with pytest.raises(TransportError):
            await client.find_request("ca2-crash-x", cert, items(1))
