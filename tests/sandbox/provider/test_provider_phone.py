"""The virtual phone, operated as a person would: load the page, press Đồng ý, type the PIN."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx
import pytest

from esign import Certificate, MisaESignClient, SignItem, TxStatus
from tests.esign.esign_support import (
    CONTROL,
    FAST,
    MISA_CLIENT,
    ProviderFactory,
    Running,
    assert_verifies,
    items,
    wait_terminal,
)


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)


class PageReader(HTMLParser):
    """What a person sees: forms with their buttons, the text, and alerts."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.text: list[str] = []
        self._button = False
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if tag == "form":
            self.forms.append(Form(a.get("action", "")))
        elif tag == "input" and self.forms:
            if a.get("type") == "hidden":
                self.forms[-1].fields[a["name"]] = a.get("value", "")
            else:
                self.forms[-1].inputs.append(a.get("name", ""))
        elif tag == "button":
            self._button = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = False

    def handle_data(self, data: str) -> None:
        if self._button and self.forms:
            self.forms[-1].buttons.append(data.strip())
        self.text.append(data)

    def form_with(self, button: str) -> Form:
        return next(f for f in self.forms if button in f.buttons)


def read(page: httpx.Response) -> PageReader:
    reader = PageReader()
    reader.feed(page.text)
    return reader


def misa(sb: Running) -> MisaESignClient:
    return MisaESignClient(
        sb.misa_url,
        MISA_CLIENT["client_id"],
        MISA_CLIENT["client_key"],
        "acme",
        "pw-acme",
        retry=FAST,
    )


async def _request(
    client: MisaESignClient, batch: list[SignItem], text: str
) -> tuple[Certificate, str]:
    await client.login()
    cert = next(c for c in await client.list_certificates() if c.is_usable())
    tx = await client.request_signatures(cert, batch, text, "phone-1")
    return cert, tx.id


async def test_a_person_approves_on_the_phone_page_with_the_pin(
    provider: ProviderFactory,
) -> None:
    sb = provider()  # manual policy: nobody approves but the person
    batch = items(3)
    text = "<b>Ký hồ sơ</b> kỳ 01/2025<script>alert(1)</script>"
    async with (
        misa(sb) as client,
        httpx.AsyncClient(base_url=sb.url, follow_redirects=True) as browser,
    ):
        cert, tx_id = await _request(client, batch, text)

        page = read(await browser.get("/phone/acme"))
        seen = "".join(page.text)
        assert "Ký hồ sơ" in seen and tx_id in seen
        for item in batch:
            assert item.name in seen and item.document_id in seen
        assert "Hết hạn sau" in seen
        assert "script" not in page.tags[:-1]  # only the page's own script
        agree = page.form_with("Đồng ý")
        answer = await browser.post(urljoin("/", agree.action), data=agree.fields)
        assert answer.status_code == 200
        assert [r.status_code for r in answer.history] == [303]  # post, redirect, get

        pin_page = read(answer)
        confirm = next(f for f in pin_page.forms if "pin" in f.inputs)
        answer = await browser.post(confirm.action, data={**confirm.fields, "pin": "123456"})
        assert answer.status_code == 200
        assert "Đã ký thành công" in answer.text

        done = await wait_terminal(lambda: client.get_transaction(tx_id, cert, batch))
    assert done.status is TxStatus.SUCCEEDED
    assert_verifies(sb.pki.get("esign-acme").certificate, batch, done.signatures)
    approvals = sb.events("approved", "acme")
    assert len(approvals) == 1 and approvals[0]["via"] == "phone"


async def test_reloading_after_confirming_shows_the_page_without_sending_the_form_again(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    batch = items(1)
    async with misa(sb) as client, httpx.AsyncClient(base_url=sb.url) as browser:
        await _request(client, batch, "Ký")
        agree = read(await browser.get("/phone/acme")).form_with("Đồng ý")
        pin_step = await browser.post(agree.action, data=agree.fields)
        assert pin_step.status_code == 303
        confirm = next(
            f
            for f in read(await browser.get(pin_step.headers["location"])).forms
            if "pin" in f.inputs
        )
        signed = await browser.post(confirm.action, data={**confirm.fields, "pin": "123456"})
        assert signed.status_code == 303
        # What a reload of the page after Xác nhận fetches: a GET of where it landed.
        for _ in range(2):
            again = await browser.get(signed.headers["location"])
            assert again.status_code == 200
            assert "Đã ký thành công" in again.text and "Phiên đã hết hạn" not in again.text
    assert len(sb.events("approved", "acme")) == 1


async def test_the_page_knows_when_its_list_changed(provider: ProviderFactory) -> None:
    sb = provider()
    async with misa(sb) as client, httpx.AsyncClient(base_url=sb.url) as browser:
        empty = (await browser.get("/phone/acme/version")).json()["version"]
        assert (await browser.get("/phone/acme/version")).json()["version"] == empty
        page = await browser.get("/phone/acme")
        assert f'data-version="{empty}"' in page.text and "/phone/acme/version" in page.text
        await _request(client, items(1), "Ký")
        arrived = (await browser.get("/phone/acme/version")).json()["version"]
        assert arrived != empty
        assert (await browser.get("/phone/nobody/version")).status_code == 404


async def test_a_wrong_pin_keeps_the_request_pending_with_an_error(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    batch = items(1)
    async with misa(sb) as client, httpx.AsyncClient(base_url=sb.url) as browser:
        cert, tx_id = await _request(client, batch, "Ký")
        agree = read(await browser.get("/phone/acme")).form_with("Đồng ý")
        pin_step = await browser.post(agree.action, data=agree.fields, follow_redirects=True)
        confirm = next(f for f in read(pin_step).forms if "pin" in f.inputs)
        answer = await browser.post(confirm.action, data={**confirm.fields, "pin": "000000"})
        assert answer.status_code == 400
        assert "Mã PIN không đúng" in answer.text
        tx = await client.get_transaction(tx_id, cert, batch)
    assert tx.status is TxStatus.PENDING
    assert sb.events("approved") == []


async def test_rejecting_on_the_page_rejects_the_transaction(provider: ProviderFactory) -> None:
    sb = provider()
    batch = items(1)
    async with misa(sb) as client, httpx.AsyncClient(base_url=sb.url) as browser:
        cert, tx_id = await _request(client, batch, "Ký")
        refuse = read(await browser.get("/phone/acme")).form_with("Từ chối")
        await browser.post(refuse.action, data=refuse.fields)
        tx = await client.get_transaction(tx_id, cert, batch)
    assert tx.status is TxStatus.REJECTED


async def test_the_phones_history_says_each_outcome_in_vietnamese(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    batch = items(1)
    async with misa(sb) as client, httpx.AsyncClient(base_url=sb.url) as browser:
        _cert, tx_id = await _request(client, batch, "Ký")
        refuse = read(await browser.get("/phone/acme")).form_with("Từ chối")
        await browser.post(refuse.action, data=refuse.fields)
        page = await browser.get("/phone/acme")
    (line,) = [ln for ln in page.text.split("<li>") if tx_id in ln and "tài liệu" in ln]
    assert "đã từ chối (1 tài liệu)" in line and "rejected" not in line


@pytest.mark.parametrize("csrf", ["", "forged-token"])
async def test_phone_forms_need_the_page_csrf_token(provider: ProviderFactory, csrf: str) -> None:
    sb = provider()
    batch = items(1)
    async with misa(sb) as client, httpx.AsyncClient(base_url=sb.url) as browser:
        await _request(client, batch, "Ký")
        agree = read(await browser.get("/phone/acme")).form_with("Đồng ý")
        answer = await browser.post(agree.action, data={"csrf": csrf})
        assert answer.status_code == 403
        # a token is single-use, and a cross-origin post is refused even with one
        again = await browser.post(
            agree.action, data=agree.fields, headers={"origin": "http://evil"}
        )
        assert again.status_code == 403


async def test_the_page_is_locked_down_with_headers(provider: ProviderFactory) -> None:
    sb = provider()
    async with httpx.AsyncClient(base_url=sb.url) as browser:
        page = await browser.get("/phone/acme")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'nonce-" in csp
    assert "connect-src 'self'" in csp  # the page asks its own origin whether to refresh
    assert page.headers["x-frame-options"] == "DENY"


async def test_the_control_api_lists_pending_and_approves_with_the_pin(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    batch = items(2)
    headers = {"x-sandbox-token": CONTROL}
    async with misa(sb) as client, httpx.AsyncClient(base_url=sb.url) as api:
        cert, tx_id = await _request(client, batch, "<i>Ký</i><img src=x onerror=1>")
        assert (await api.get("/phone/api/acme/pending")).status_code == 401
        pending = (await api.get("/phone/api/acme/pending", headers=headers)).json()["pending"]
        assert [p["transaction_id"] for p in pending] == [tx_id]
        assert pending[0]["documents"] == [{"id": i.document_id, "name": i.name} for i in batch]
        assert pending[0]["display_html"] == "<i>Ký</i>&lt;img src=x onerror=1&gt;"
        wrong = await api.post(
            f"/phone/api/acme/{tx_id}/approve", json={"pin": "1"}, headers=headers
        )
        assert wrong.status_code == 403
        ok = await api.post(
            f"/phone/api/acme/{tx_id}/approve", json={"pin": "123456"}, headers=headers
        )
        assert ok.json()["state"] == "approved"
        done = await client.get_transaction(tx_id, cert, batch)
    assert done.status is TxStatus.SUCCEEDED
    assert_verifies(sb.pki.get("esign-acme").certificate, batch, done.signatures)


async def test_a_policy_set_at_runtime_applies_to_pending_requests(
    provider: ProviderFactory,
) -> None:
    sb = provider()
    batch = items(1)
    headers = {"x-sandbox-token": CONTROL}
    async with misa(sb) as client, httpx.AsyncClient(base_url=sb.url) as api:
        cert, tx_id = await _request(client, batch, "Ký")
        bad = await api.put("/phone/api/acme/policy", json={"action": "dance"}, headers=headers)
        assert bad.status_code == 422
        put = await api.put("/phone/api/acme/policy", json={"action": "reject"}, headers=headers)
        assert put.json()["action"] == "reject"
        done = await wait_terminal(lambda: client.get_transaction(tx_id, cert, batch))
    assert done.status is TxStatus.REJECTED
