"""Each client runs its whole path against a second, deliberately strict server.

The strict server (``strict_server.py``) is written from the vendor documents alone and
shares no code with the sandbox: guide auth paths only, flat refresh answers, minimal
bodies, serials compared as written, VNPT transaction ids accepted once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from esign import MisaESignClient, TransportError, TxStatus, VnptSmartCAClient
from tests.esign.esign_support import FAST, items, wait_terminal
from tests.esign.strict_server import StrictCert, StrictServer, StrictWorld, make_material


@pytest.fixture(scope="module")
def material() -> tuple[bytes, list[StrictCert]]:
    return make_material()


@pytest.fixture
def strict(material: tuple[bytes, list[StrictCert]]) -> Iterator[StrictServer]:
    ca, certs = material
    with StrictServer(StrictWorld(ca_der=ca, certs=certs)) as server:
        yield server


async def test_misa_full_path_against_the_strict_server(strict: StrictServer) -> None:
    world = strict.world
    asked: list[str] = []

    async def otp() -> str:
        asked.append("asked")
        return world.otp

    async with MisaESignClient(
        strict.url + "/",
        world.client_id,
        world.client_key,
        world.username,
        world.password,
        retry=FAST,
        timeout=10,
    ) as client:
        await client.login(otp=otp)  # login-api, 122, two-factor-auth with its headers
        certs = await client.list_certificates()
        assert [c.alias for c in certs] == [c.misa_alias for c in world.certs]
        cert = certs[0]
        batch = items(3)

        world.lose_next_sign = "after"  # the phone has it, the answer is lost
        with pytest.raises(TransportError) as lost:
            await client.request_signatures(cert, batch, "Ký <b>3</b> tờ khai", "strict-1")
        assert lost.value.maybe_sent
        tx = await client.request_signatures(cert, batch, "Ký <b>3</b> tờ khai", "strict-2")

        world.expire_tokens()  # next call: 401, refresh (a flat answer), same call again
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert done.status is TxStatus.SUCCEEDED
    assert list(done.signatures) == [i.document_id for i in batch]  # 3.6: by order
    assert asked == ["asked"]  # one one-time code for the whole path
    assert world.counts == {
        "login": 1,
        "two_factor": 1,
        "misa_sign": 2,
        "esrm_401": 1,
        "refresh": 1,
    }
    assert world.refused == []
    assert client.auth_prefix == "api/auth/api/v1/auth/"


async def test_vnpt_full_path_against_the_strict_server(strict: StrictServer) -> None:
    world = strict.world
    async with VnptSmartCAClient(
        strict.url + "/sca/sp769",
        world.sp_id,
        world.sp_password,
        world.vnpt_user,
        retry=FAST,
        timeout=10,
    ) as client:
        await client.login()
        full, minimal = await client.list_certificates()
        assert (full.wire_serial, minimal.wire_serial) == tuple(c.vnpt_serial for c in world.certs)
        assert minimal.is_usable()  # 4.2: no cert_status
        batch = items(2)

        world.lose_next_sign = "after"  # VNPT holds it under our id: found and waited on
        found = await client.request_signatures(full, batch, "Ký tờ khai", "strict-v1")
        assert found.id == "strict-v1"
        done = await wait_terminal(lambda: client.get_transaction(found.id, full, batch))
        assert done.status is TxStatus.SUCCEEDED

        world.lose_next_sign = "before"  # never arrived: a new request under a new id
        again = await client.request_signatures(minimal, batch, "Ký lại", "strict-v2")
        assert again.id.startswith("strict-v2-")
        done = await wait_terminal(lambda: client.get_transaction(again.id, minimal, batch))
        assert done.status is TxStatus.SUCCEEDED
    assert world.refused == [
        "404: unknown transaction",  # the orphan lookup of the request lost on the way in
    ]
    assert world.counts == {"vnpt_sign": 2}
    ids = [b["transaction_id"] for b in world.sign_bodies]
    assert ids == ["strict-v1", "strict-v2", again.id] and len(set(ids)) == 3
    assert [b["serial_number"] for b in world.sign_bodies] == [
        full.wire_serial,
        minimal.wire_serial,
        minimal.wire_serial,
    ]
    assert world.status_bodies and all(json.loads(b) == {} for b in world.status_bodies)
