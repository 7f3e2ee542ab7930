"""Exposure: loopback-only sandbox, TLS verified by default (a CA bundle only by explicit
setting), and every callback-receiving surface authenticated.

The TLS tests run the real sandbox apps behind a real TLS listener whose server
certificate is issued here, with ``cryptography``, by a CA of the test's own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import SecretStr

from blocks import BhxhGatewayCredentials, MisaESignCredentials, VnptSmartCACredentials
from demo.scenario import CLIENT_ID, Scenario, many_units
from esign.misa import MisaESignClient
from esign.models import SignItem
from sandbox.config import Sandbox, SandboxConfig, start_sandbox
from sandbox.serve import ServerThread

# ---------------------------------------------------------------------- a TLS test PKI


@dataclass(frozen=True)
class TlsFiles:
    ca_bundle: Path
    cert: Path
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue_tls(folder: Path, label: str) -> TlsFiles:
    """A CA and a server certificate for 127.0.0.1 / localhost signed by it (PEM files)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{label} test CA"))
        .issuer_name(_name(f"{label} test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca_bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


class TlsServer:
    """An ASGI app behind uvicorn's TLS on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, app: Any, tls: TlsFiles) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            ssl_certfile=str(tls.cert),
            ssl_keyfile=str(tls.key),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()))
        self.url = ""

    def __enter__(self) -> TlsServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "no TLS server"
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"https://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)


@dataclass
class TlsWorld:
    scenario: Scenario
    sandbox: Sandbox  # apps built, not started in plain HTTP
    provider: TlsServer
    gateway: TlsServer
    tls: TlsFiles
    other_tls: TlsFiles  # another CA, trusted by nobody


@pytest.fixture(scope="module")
def tls_world(tmp_path_factory: pytest.TempPathFactory, pki_dir: Path) -> Iterator[TlsWorld]:
    root = tmp_path_factory.mktemp("tls")
    units = many_units(1, prefix="tls", approve_after=0.2)
    scenario = Scenario(units, data_dir=root / "var", pki_dir=pki_dir)
    scenario.issue_registered_certificates()
    sandbox = Sandbox(scenario.sandbox_config())
    tls = issue_tls(root / "pki-a", "A")
    other = issue_tls(root / "pki-b", "B")
    with (
        TlsServer(sandbox.provider_app, tls) as provider,
        TlsServer(sandbox.gateway_app, tls) as gateway,
    ):
        yield TlsWorld(scenario, sandbox, provider, gateway, tls, other)


def _misa(world: TlsWorld, ca_bundle: str | None = None) -> MisaESignCredentials:
    (unit,) = world.scenario.units
    return MisaESignCredentials(
        base_url=world.provider.url + "/",
        client_id=CLIENT_ID,
        client_key=SecretStr(world.scenario.client_key),
        username=unit.username,
        password=SecretStr(world.scenario.passwords[unit.username]),
        ca_bundle=ca_bundle,
    )


def _gateway(world: TlsWorld, ca_bundle: str | None = None) -> BhxhGatewayCredentials:
    return BhxhGatewayCredentials(
        base_url=world.gateway.url,
        api_key=SecretStr(world.scenario.gateway_key),
        ca_bundle=ca_bundle,
    )


def _vnpt(world: TlsWorld, ca_bundle: str | None = None) -> VnptSmartCACredentials:
    return VnptSmartCACredentials(
        base_url=world.provider.url + "/sca/sp769",
        sp_id="sp",
        sp_password=SecretStr("sp-password-1"),
        user_id="0100000000",
        ca_bundle=ca_bundle,
    )


def _transport_of(client: Any) -> httpx.AsyncClient:
    """The httpx client a project client was configured with (no retries in the way)."""
    http = client._http
    return http if isinstance(http, httpx.AsyncClient) else http.client  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- loopback


def _non_loopback_address() -> str | None:
    """This machine's outward address, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing lookup only
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address  # noqa: S104


def test_sandbox_servers_listen_on_loopback_only(tmp_path: Path, pki_dir: Path) -> None:
    units = many_units(1, prefix="loop")
    scenario = Scenario(units, data_dir=tmp_path / "var", pki_dir=pki_dir)
    scenario.issue_registered_certificates()
    assert "host" not in SandboxConfig.model_fields  # nothing to configure it away
    with pytest.raises(ValueError, match="loopback only"):
        ServerThread(object(), host="0.0.0.0")  # noqa: S104 - refused, the point of the test
    with start_sandbox(scenario.sandbox_config()) as sandbox:
        assert sandbox.gateway_url
        bound = []
        for server in sandbox._servers:
            for listener in server._server.servers:
                bound += [s.getsockname()[0] for s in listener.sockets]
        assert bound and set(bound) == {"127.0.0.1"}
        outward = _non_loopback_address()
        for url in (sandbox.provider_url, sandbox.gateway_url):
            port = int(url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
            if outward is not None:
                with pytest.raises(OSError):
                    socket.create_connection((outward, port), timeout=5).close()


# ---------------------------------------------------------------------- TLS


async def test_clients_refuse_a_tls_server_they_do_not_trust_by_default(
    tls_world: TlsWorld,
) -> None:
    clients = [_misa(tls_world).get_client(), _vnpt(tls_world).get_client()]
    gateway = _gateway(tls_world).get_client()
    try:
        for client in [*clients, gateway]:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await _transport_of(client).get("health")
    finally:
        for client in clients:
            await client.aclose()
        await gateway.aclose()


async def test_clients_given_the_ca_bundle_verify_against_it(tls_world: TlsWorld) -> None:
    bundle = str(tls_world.tls.ca_bundle)
    async with _misa(tls_world, bundle).get_client() as misa:
        await misa.login()
        (cert,) = await misa.list_certificates()
        assert cert.mst == tls_world.scenario.units[0].unit.tax_code
    async with _gateway(tls_world, bundle).get_client() as gateway:
        registration = await gateway.registration(tls_world.scenario.units[0].unit.code)
        assert registration.state == "registered"
    async with _vnpt(tls_world, bundle).get_client() as vnpt:
        wrong = {"sp_id": "not-ours", "sp_password": "not-ours", "user_id": "0100000000"}
        answer = await _transport_of(vnpt).post("v1/credentials/get_certificate", json=wrong)
        assert answer.status_code == 401  # TLS accepted; the sp credentials are not


async def test_a_ca_bundle_trusts_that_ca_only(tls_world: TlsWorld) -> None:
    """TLS stays on with a custom bundle: a server from another CA is still refused."""
    client = _gateway(tls_world, str(tls_world.other_tls.ca_bundle)).get_client()
    try:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await _transport_of(client).get("health")
    finally:
        await client.aclose()


async def test_the_environment_ca_bundle_applies_when_a_block_names_none(
    tls_world: TlsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BHXH_CA_BUNDLE", str(tls_world.tls.ca_bundle))
    async with _gateway(tls_world).get_client() as gateway:
        registration = await gateway.registration(tls_world.scenario.units[0].unit.code)
    assert registration.state == "registered"


# ---------------------------------------------------------------------- callbacks


async def test_everything_that_receives_calls_authenticates_them(
    tmp_path: Path, pki_dir: Path
) -> None:
    units = [dataclasses.replace(u, phone_action="manual") for u in many_units(2, prefix="auth")]
    scenario = Scenario(units, data_dir=tmp_path / "var", pki_dir=pki_dir)
    scenario.issue_registered_certificates()
    with start_sandbox(scenario.sandbox_config()) as sandbox:
        assert sandbox.gateway_url
        user, other = units[0].username, units[1].username
        tx_id = await _pending_request(sandbox, scenario, user)
        await _pending_request(sandbox, scenario, other)  # so that its page holds a form
        async with httpx.AsyncClient(base_url=sandbox.provider_url) as web:
            good = {"x-sandbox-token": sandbox.control_token}
            refused: list[int] = []
            for headers in ({}, {"x-sandbox-token": "guess-" + "x" * 20}):
                refused += [
                    (await web.get(f"/phone/api/{user}/pending", headers=headers)).status_code,
                    (
                        await web.put(
                            f"/phone/api/{user}/policy", json={"action": "approve"}, headers=headers
                        )
                    ).status_code,
                    (
                        await web.put("/phone/api/_faults", json={"rate_5xx": 1}, headers=headers)
                    ).status_code,
                    (
                        await web.post(
                            f"/phone/api/{user}/{tx_id}/approve", json={}, headers=headers
                        )
                    ).status_code,
                ]
            assert refused == [401] * 8
            faults = (await web.get("/phone/api/_faults", headers=good)).json()
            assert faults["rate_5xx"] == 0
            pending = (await web.get(f"/phone/api/{user}/pending", headers=good)).json()
            assert [p["transaction_id"] for p in pending["pending"]] == [tx_id]

            # The phone page: its forms need a fresh CSRF token of that user's page.
            approve = f"/phone/{user}/{tx_id}/approve"
            assert (await web.post(approve, data={})).status_code == 403
            other_page = (await web.get(f"/phone/{other}")).text
            other_token = _csrf_of(other_page)
            assert (await web.post(approve, data={"csrf": other_token})).status_code == 403
            page = (await web.get(f"/phone/{user}")).text
            token = _csrf_of(page)
            forged_origin = {"origin": "http://evil.example"}
            assert (
                await web.post(approve, data={"csrf": token}, headers=forged_origin)
            ).status_code == 403
            # Used once from the page (it leads to the PIN step), then never again.
            assert (await web.post(approve, data={"csrf": token})).status_code < 400
            assert (await web.post(approve, data={"csrf": token})).status_code == 403
            pending = (await web.get(f"/phone/api/{user}/pending", headers=good)).json()
            assert [p["transaction_id"] for p in pending["pending"]] == [tx_id]

        async with httpx.AsyncClient(base_url=sandbox.gateway_url) as api:
            for headers in ({}, {"authorization": "Bearer wrong-key-0123456789"}):
                assert (await api.get("/api/v1/dossiers/x", headers=headers)).status_code == 401
                posted = await api.post("/api/v1/dossiers", json={}, headers=headers)
                assert posted.status_code == 401
                assert scenario.gateway_key not in posted.text


def _csrf_of(page: str) -> str:
    match = re.search(r'name=csrf value="([^"]+)"', page)
    assert match, "the phone page has no CSRF token"
    return match.group(1)


async def _pending_request(sandbox: Sandbox, scenario: Scenario, user: str) -> str:
    """A signing request waiting on ``user``'s phone; its transaction id."""
    async with MisaESignClient(
        sandbox.misa_url, CLIENT_ID, scenario.client_key, user, scenario.passwords[user]
    ) as misa:
        (cert,) = await misa.list_certificates()
        item = SignItem("doc-1", "D02-TS-595.xml", b"\x01" * 32)
        tx = await misa.request_signatures(cert, [item], "Ký", f"auth-{user}")
    return tx.id
