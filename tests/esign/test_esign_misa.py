"""MISA eSign client against the provider sandbox over real HTTP on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from esign import (
    AuthenticationFailed,
    Certificate,
    CertificateNotFound,
    InvalidResponse,
    MisaESignClient,
    RemoteSigningClient,
    SignatureMismatch,
    TransportError,
    TwoFactorFailed,
    TwoFactorRequired,
    TxStatus,
)
from tests.esign.esign_support import (
    ACME_TAX,
    CONTROL,
    FAST,
    MISA_CLIENT,
    ProviderFactory,
    Running,
    assert_verifies,
    items,
    until,
    wait_terminal,
)


def misa(sb: Running, user: str = "acme", password: str = "pw-acme", **kw: Any) -> MisaESignClient:  # noqa: S107
    return MisaESignClient(
        sb.misa_url,
        MISA_CLIENT["client_id"],
        MISA_CLIENT["client_key"],
        user,
        password,
        retry=FAST,
        timeout=10,
        **kw,
    )


async def active(client: MisaESignClient) -> Certificate:
    return next(c for c in await client.list_certificates() if c.is_usable())


@pytest.fixture
async def acme(provider: ProviderFactory) -> AsyncIterator[tuple[Running, MisaESignClient]]:
    sb = provider(policies={"acme": {"action": "approve"}})
    async with misa(sb) as client:
        await client.login()
        yield sb, client


async def test_client_satisfies_the_protocol(acme: tuple[Running, MisaESignClient]) -> None:
    _, client = acme
    assert isinstance(client, RemoteSigningClient)
    assert client.account == "acme"


async def test_login_then_certificates_are_normalised_with_chain_inactive_and_expired(
    acme: tuple[Running, MisaESignClient],
) -> None:
    sb, client = acme
    certs = {c.alias: c for c in await client.list_certificates()}
    assert set(certs) == {"ACME-2025", "ACME-2022", "ACME-PAUSED"}
    good = certs["ACME-2025"]
    issued = sb.pki.get("esign-acme")
    assert good.serial == format(issued.certificate.serial_number, "X")
    assert good.mst == ACME_TAX
    assert good.status == "active" and good.is_usable()
    assert good.der == issued.der
    assert good.chain == tuple(sb.pki.chain_der("misa"))  # from "certiticateChain"
    assert "CN=Công ty TNHH ACME" in good.subject
    assert good.not_after.tzinfo is not None
    assert "ACME-2025" in good.describe() and good.serial in good.describe()
    assert certs["ACME-PAUSED"].status == "inactive" and not certs["ACME-PAUSED"].is_usable()
    old = certs["ACME-2022"]
    assert old.status == "active" and not old.is_usable()
    assert old.not_after < dt.datetime.now(dt.UTC)
    assert len(sb.events("login", "acme")) == 1
    assert len(sb.events("certificates", "acme")) == 1


async def test_two_factor_login_asks_the_callback_for_the_code(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    asked: list[str] = []

    async def otp() -> str:
        asked.append("asked")
        return "246810"

    async with misa(sb, "acme2fa", "pw-2fa") as client:
        await client.login(otp=otp)
        assert len(await client.list_certificates()) == 1
    assert asked == ["asked"]
    assert [e["step"] for e in sb.events("two_factor", "acme2fa")] == ["challenge", "verified"]


async def test_two_factor_without_a_callback_raises_two_factor_required(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    async with misa(sb, "acme2fa", "pw-2fa") as client:
        with pytest.raises(TwoFactorRequired) as err:
            await client.login()
    assert err.value.code == "122"


async def test_a_wrong_one_time_code_raises_two_factor_failed_without_the_code(
    provider: ProviderFactory,
) -> None:
    sb = provider()

    async def otp() -> str:
        return "999111"

    async with misa(sb, "acme2fa", "pw-2fa") as client:
        with pytest.raises(TwoFactorFailed) as err:
            await client.login(otp=otp)
    assert "999111" not in str(err.value)


async def test_a_wrong_password_raises_authentication_failed_without_the_password(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    async with misa(sb, password="not-the-password") as client:
        with pytest.raises(AuthenticationFailed) as err:
            await client.login()
    assert err.value.code == "101"
    assert "not-the-password" not in str(err.value)
    assert "ckey-test-secret" not in str(err.value)


async def test_the_account_locks_after_repeated_wrong_passwords(
    provider: ProviderFactory,
) -> None:
    sb = provider(lockout_after=3)
    async with misa(sb, password="wrong") as client:
        codes = []
        for _ in range(3):
            with pytest.raises(AuthenticationFailed) as err:
                await client.login()
            codes.append(err.value.code)
    assert codes == ["101", "101", "124"]
    async with misa(sb) as client:  # the right password no longer opens it
        with pytest.raises(AuthenticationFailed) as err:
            await client.login()
    assert err.value.code == "124"
    assert len(sb.events("locked", "acme")) == 2
    assert len(sb.events("login_failed", "acme")) == 2


async def test_an_expired_token_is_refreshed_once_and_the_call_repeated(
    provider: ProviderFactory,
) -> None:
    sb = provider(faults={"token_expires_early": True})
    async with misa(sb) as client:
        await client.login()
        await client.list_certificates()
        certs = await client.list_certificates()  # 401 -> refresh -> retried
    assert len(certs) == 3
    refreshes = sb.events("token_refresh", "acme")
    assert [r["ok"] for r in refreshes] == [True]
    assert len(sb.events("login", "acme")) == 1


async def test_a_short_lived_token_is_renewed_after_it_expires(
    provider: ProviderFactory,
) -> None:
    import asyncio

    sb = provider(token_ttl_seconds=0.3)
    async with misa(sb) as client:
        await client.login()
        await client.list_certificates()
        await asyncio.sleep(0.35)
        await client.list_certificates()
    assert [r["ok"] for r in sb.events("token_refresh", "acme")] == [True]


async def test_a_refused_refresh_falls_back_to_a_new_login(provider: ProviderFactory) -> None:
    sb = provider(faults={"token_expires_early": True, "refresh_fails": True})
    async with misa(sb) as client:
        await client.login()
        await client.list_certificates()
        await client.list_certificates()
    assert [r["ok"] for r in sb.events("token_refresh")] == [False]
    assert len(sb.events("login", "acme")) == 2


async def test_a_batch_of_20_digests_is_approved_with_one_approval(
    acme: tuple[Running, MisaESignClient],
) -> None:
    sb, client = acme
    cert = await active(client)
    batch = items(20)
    tx = await client.request_signatures(cert, batch, "<b>Ký 20 tờ khai</b> kỳ 01/2025", "r1")
    assert tx.status is TxStatus.PENDING and tx.expires_at is not None
    done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert done.status is TxStatus.SUCCEEDED
    assert_verifies(sb.pki.get("esign-acme").certificate, batch, done.signatures)
    assert len(sb.events("approved", "acme")) == 1
    requests = sb.events("sign_request", "acme")
    assert len(requests) == 1 and requests[0]["documents"] == 20


async def test_the_same_client_transaction_id_is_sent_only_once(
    acme: tuple[Running, MisaESignClient],
) -> None:
    sb, client = acme
    cert = await active(client)
    batch = items(2)
    first = await client.request_signatures(cert, batch, "Ký", "same-id")
    again = await client.request_signatures(cert, batch, "Ký", "same-id")
    assert again == first
    assert len(sb.events("sign_request", "acme")) == 1


@pytest.mark.parametrize(
    ("policy", "status", "code"),
    [
        ({"action": "reject"}, TxStatus.REJECTED, "USER_REJECTED"),
        ({"action": "fail", "fail_code": "HSM_ERROR"}, TxStatus.FAILED, "HSM_ERROR"),
    ],
)
async def test_phone_outcomes_are_normalised(
    provider: ProviderFactory, policy: dict[str, Any], status: TxStatus, code: str
) -> None:
    sb = provider(policies={"acme": policy})
    async with misa(sb) as client:
        await client.login()
        cert = await active(client)
        batch = items(3)
        tx = await client.request_signatures(cert, batch, "Ký", "r1")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert done.status is status
    assert done.error_code == code
    assert done.signatures == {}
    event = {"reject": "rejected", "fail": "failed"}[policy["action"]]
    assert len(sb.events(event, "acme")) == 1


async def test_an_unanswered_request_expires_at_the_deadline(provider: ProviderFactory) -> None:
    sb = provider(signing_deadline_seconds=0.3, policies={"acme": {"action": "expire"}})
    async with misa(sb) as client:
        await client.login()
        cert = await active(client)
        batch = items(1)
        tx = await client.request_signatures(cert, batch, "Ký", "r1")
        done = await wait_terminal(lambda: client.get_transaction(tx.id, cert, batch))
    assert done.status is TxStatus.EXPIRED
    assert done.error_code == "TRANSACTION_EXPIRED"
    assert len(sb.events("expired", "acme")) == 1


async def test_429_with_retry_after_is_retried_until_success(provider: ProviderFactory) -> None:
    sb = provider(faults={"burst_429": 3, "retry_after_seconds": 0})
    async with misa(sb) as client:
        await client.login()
        assert len(await client.list_certificates()) == 3


async def test_a_wrong_key_signature_raises_signature_mismatch_naming_the_document(
    provider: ProviderFactory,
) -> None:
    sb = provider(policies={"acme": {"action": "approve"}}, faults={"wrong_key_signatures": True})
    async with misa(sb) as client:
        await client.login()
        cert = await active(client)
        batch = items(2)
        tx = await client.request_signatures(cert, batch, "Ký", "r1")
        await until(lambda: sb.events("approved", "acme"))
        with pytest.raises(SignatureMismatch) as err:
            await client.get_transaction(tx.id, cert, batch)
    assert err.value.document_id == "doc-00"
    assert "doc-00" in str(err.value)


async def test_a_wrong_base_url_answering_html_is_invalid_response(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    async with MisaESignClient(
        sb.url + "/app/", "cid-test", "ckey-test-secret", "acme", "pw-acme", retry=FAST
    ) as client:
        with pytest.raises(InvalidResponse) as err:
            await client.login()
    assert "text/html" in str(err.value)


async def test_an_html_certificate_answer_is_an_error_not_an_empty_list(
    provider: ProviderFactory,
) -> None:
    sb = provider()

    def html_for_certs(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("by-userId"):
            return httpx.Response(
                200, text="<html>app</html>", headers={"content-type": "text/html"}
            )
        return None

    async with misa(sb, transport=_Intercept(html_for_certs)) as client:
        await client.login()
        with pytest.raises(InvalidResponse):
            await client.list_certificates()


async def test_an_inactive_certificate_is_refused_before_anything_is_sent(
    acme: tuple[Running, MisaESignClient],
) -> None:
    sb, client = acme
    paused = next(c for c in await client.list_certificates() if c.alias == "ACME-PAUSED")
    with pytest.raises(CertificateNotFound):
        await client.request_signatures(paused, items(1), "Ký", "r1")
    assert sb.events("sign_request") == []


async def test_a_sign_request_failing_with_5xx_is_not_sent_again(
    acme: tuple[Running, MisaESignClient],
) -> None:
    sb, client = acme
    cert = await active(client)
    async with httpx.AsyncClient() as raw:
        await raw.put(
            sb.url + "/phone/api/_faults",
            json={"rate_5xx": 1.0},
            headers={"x-sandbox-token": CONTROL},
        )
    with pytest.raises(TransportError) as first:
        await client.request_signatures(cert, items(1), "Ký", "r-5xx")
    assert first.value.maybe_sent
    with pytest.raises(TransportError, match="not sent again"):
        await client.request_signatures(cert, items(1), "Ký", "r-5xx")


class _Intercept(httpx.AsyncBaseTransport):
    """Answers some requests itself, forwards the others to the real server."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response | None]) -> None:
        self.answer = answer
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = self.answer(request)
        if response is not None:
            return response
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_flat_refresh_answer_is_accepted_without_a_second_one_time_code(
    provider: ProviderFactory,
) -> None:
    sb = provider(faults={"token_expires_early": True})
    asked: list[str] = []

    async def otp() -> str:
        asked.append("asked")
        return "246810"

    async with misa(sb, "acme2fa", "pw-2fa") as client:
        await client.login(otp=otp)
        await client.list_certificates()
        await client.list_certificates()  # 401 -> refresh (the guide's flat answer)
    assert asked == ["asked"]
    assert [r["ok"] for r in sb.events("token_refresh", "acme2fa")] == [True]
    assert len(sb.events("login", "acme2fa")) == 1
