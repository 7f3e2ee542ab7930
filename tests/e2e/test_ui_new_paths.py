"""The firm's new paths in Prefect's new UI (the one at the address ``make server`` prints),
in headless Chromium, on ``make server``'s stack.

The tour unit Gia Phúc has its sandbox account (two certificates fit its tax code, VSS
knows it by a USB token) and a dossier in its inbox, but no saved blocks: the firm adds it.
A second saved unit gives the firm's MISA integrator account. Then, every answer in the
new UI (the run's ⋮ menu, Resume, the dialog's Resume button):

1. add_company from its deployment's form (no block name typed); the run asks for the
   signer's account in a paused form; the run completes and starts setup;
2. the month overview (``track_results``, published as ``overview-MM-YYYY``) opened in the
   UI: the company's row shows its dossier waiting in the inbox and the next action,
   choosing a certificate;
3. setup asks which certificate: the second one is chosen in the drop-down;
4. the 05 change is refused on the phone; the run asks what next and the stop choice ends
   it Cancelled, not Failed; nothing is submitted;
5. later, setup again from its form (the company picked by typing its tax code): the
   certificate chosen again, the 05 change approved on the phone;
6. the company's dossier signed from the manual form: two approvals on the phone, the
   soHoSo in the completed run's state message and on its page. The firm added a company
   and signed its dossier without typing a block name or opening a terminal.

Screenshots of every step: ``var/test/screenshots/<test>/``. Every step waits for a state
(a run state read from the API, an element present or gone), never for a time.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from demo.scenario import DemoUnit, many_units, tour_unit
from deployments.server import Stack, refresh_pickers, running_stack
from deployments.stack import PROJECT_DIR, api_settings, read_flow_run, wait_for_flow_run
from flows import STOP, overview_key
from tests.e2e.support import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    FAST_FLOWS,
    OFF_MACHINE,
    PERIOD,
    SO_HO_SO,
    Shots,
    approvals,
    approve_on_phone,
    audit,
    submissions,
    submit_run_form,
    unit_line,
    until,
)

pytestmark = pytest.mark.e2e

SCREENSHOTS = PROJECT_DIR / "var" / "test" / "screenshots"
UI_TIMEOUT_MS = 60_000
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
#: From a form's Submit to its run in the API: a busy server (make test's other workers)
#: once took over a minute, and the test failed at 60 s.
FORM_RUN_SECONDS = 180


@pytest.fixture
def pages() -> Iterator[tuple[Page, Page]]:
    """The accountant's page and the signer's phone, in one headless Chromium."""
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
            context.set_default_timeout(UI_TIMEOUT_MS)
            expect.set_options(timeout=UI_TIMEOUT_MS)
            context.route(OFF_MACHINE, lambda route: route.abort())
            yield context.new_page(), context.new_page()
        finally:
            browser.close()


# ------------------------------------------------------------------------------ API reads
def _post(stack: Stack, path: str, body: dict[str, Any]) -> Any:
    """A POST to the API; a busy server (503, as Prefect's own client) is asked again."""
    for _ in range(10):
        response = httpx.post(f"{stack.server.api_url}{path}", json=body, timeout=30)
        if response.status_code != 503:
            break
        time.sleep(1)
    response.raise_for_status()
    return response.json()


def _deployment_id(stack: Stack, name: str) -> str:
    response = httpx.get(f"{stack.server.api_url}/deployments/name/{name}", timeout=10)
    response.raise_for_status()
    return str(response.json()["id"])


def _runs_of(stack: Stack, deployment: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = _post(
        stack,
        "/flow_runs/filter",
        {"deployments": {"id": {"any_": [_deployment_id(stack, deployment)]}}},
    )
    return runs


def _state(stack: Stack, run_id: str) -> dict[str, Any]:
    state: dict[str, Any] = read_flow_run(stack.server, run_id)["state"]
    return state


def _wait_until_asked(stack: Stack, run_id: str, question: str) -> dict[str, Any]:
    """Until the run is paused on ``question`` (its state message) with its form stored."""

    def paused() -> dict[str, Any] | None:
        state = _state(stack, run_id)
        assert state["type"] not in FINAL, state
        keyset = (state.get("state_details") or {}).get("run_input_keyset")
        asked = state["type"] == "PAUSED" and keyset and question in (state["message"] or "")
        return state if asked else None

    found: dict[str, Any] = until(f"run {run_id} asking {question!r}", paused, within=240)
    return found


def _wait_until_final(stack: Stack, run_id: str) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        state = _state(stack, run_id)
        return state if state["type"] in FINAL else None

    found: dict[str, Any] = until(f"run {run_id} ended", final, within=240)
    return found


def _block(stack: Stack, name: str) -> dict[str, Any] | None:
    docs = _post(stack, "/block_documents/filter", {"block_documents": {"name": {"any_": [name]}}})
    return dict(docs[0]["data"]) if docs else None


def _forget(stack: Stack, unit: DemoUnit) -> None:
    """Delete the unit's saved blocks: the company exists only at its provider and in the
    inbox, as a client the firm has not added yet; the forms stop listing it."""

    async def work() -> None:
        from prefect import get_client

        async with get_client() as client:
            for name, slug in (
                (unit.block, "bhxh-unit"),
                (unit.credentials_block, "misa-esign-credentials"),
            ):
                document = await client.read_block_document_by_name(name, slug)
                await client.delete_block_document(document.id)

    def run() -> None:
        with api_settings(stack.server):
            asyncio.run(work())

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()
    refresh_pickers(stack.server)


# ------------------------------------------------------------------------------ the new UI
def _v2(stack: Stack, path: str) -> str:
    return f"{stack.server.ui_url}/v2{path}"


def _open_run(page: Page, stack: Stack, run_id: str) -> None:
    page.bring_to_front()
    page.goto(_v2(stack, f"/runs/flow-run/{run_id}"))


def _resume_dialog(page: Page, stack: Stack, run_id: str) -> Locator:
    """On the run's page: the ⋮ menu, Resume; the resume dialog, open. The page polls and
    re-renders, so the menu is opened again (after a reload) until it offers Resume."""
    for _ in range(5):
        _open_run(page, stack, run_id)
        page.get_by_role("button", name="Open menu").first.click()
        try:
            page.get_by_role("menuitem", name="Resume", exact=True).click(timeout=10_000)
            break
        except Exception:  # the menu was replaced, or the page shows an older state
            page.keyboard.press("Escape")
    dialog = page.get_by_role("dialog", name="Resume Flow Run")
    expect(dialog).to_be_visible()
    return dialog


def _choose(page: Page, dialog: Locator, field: str, option: str | re.Pattern[str]) -> None:
    """Choose ``option`` in the dialog's drop-down titled ``field``; retried until the
    drop-down's button shows it."""
    button = dialog.get_by_role("button", name=re.compile("^Select " + re.escape(field)))
    for _ in range(5):
        button.click()
        try:
            page.get_by_role("option", name=option).click(timeout=10_000)
        except Exception:  # the list was replaced under the pointer: open it again
            page.keyboard.press("Escape")
            continue
        break
    expect(page.get_by_role("option")).to_have_count(0)
    expect(button).to_contain_text(option)


def _resume(page: Page, stack: Stack, run_id: str, dialog: Locator) -> None:
    """Resume in the dialog, and see the dialog close. On a busy server the UI's resume
    call can fail (seen once: the dialog stayed open, the run still Paused a minute
    later): while the run is still in the very state it was paused in, Resume is pressed
    again; once the run has left that state, the dialog is closed if it stayed open."""
    paused = _state(stack, run_id)["id"]
    for _ in range(3):
        dialog.get_by_role("button", name="Resume", exact=True).click()
        try:
            expect(dialog).to_be_hidden(timeout=20_000)
            return
        except AssertionError:
            if _state(stack, run_id)["id"] != paused:  # resumed; the dialog did not close
                page.keyboard.press("Escape")
                expect(dialog).to_be_hidden()
                return
    raise AssertionError(f"run {run_id}: Resume pressed three times, still paused")


def _see_state(page: Page, stack: Stack, run_id: str, label: str, shots: Shots, what: str) -> None:
    _open_run(page, stack, run_id)
    expect(page.get_by_text(label, exact=True).first).to_be_visible()
    shots.take(page, f"{what}-{label.lower()}")


def _run_from_form(
    page: Page,
    stack: Stack,
    deployment: str,
    unit: DemoUnit,
    shots: Shots,
    *,
    period: str | None = None,
) -> str:
    """The deployment's run form in the new UI: the company chosen in the unit picker by
    typing its tax code, the period typed if given, Submit; the new run's id."""
    page.bring_to_front()
    page.goto(_v2(stack, f"/deployments/deployment/{_deployment_id(stack, deployment)}/run"))
    expect(page.get_by_text("Chọn công ty / Company", exact=True)).to_be_visible()
    line = unit_line(stack, deployment, "unit_block", unit.block)
    page.get_by_role("button", name="Select").first.click()
    page.keyboard.type(unit.unit.tax_code)  # digits narrow the list to the company
    page.get_by_role("option", name=line).click()
    expect(page.get_by_text(line).first).to_be_visible()
    if period is not None:
        page.get_by_role("textbox", name=re.compile("^Kỳ kê khai")).fill(period)
    run_name = f"e2e-{deployment.split('/')[0]}-{secrets.token_hex(3)}"
    page.get_by_role("textbox", name="Run Name").fill(run_name)
    shots.take(page, f"form-{deployment.split('/')[0]}")
    submit_run_form(page, deployment)
    try:
        (run,) = until(
            f"the run {run_name}",
            lambda: [r for r in _runs_of(stack, deployment) if r["name"] == run_name],
            within=FORM_RUN_SECONDS,
        )
    except AssertionError:
        shots.take(page, f"form-{deployment.split('/')[0]}-no-run")
        raise
    assert run["parameters"]["unit_block"] == line
    return str(run["id"])


def _reject_on_phone(phone: Page, unit: DemoUnit, shots: Shots) -> None:
    phone.bring_to_front()
    request = phone.locator(".request").filter(has_text=unit.unit.code)
    expect(request.get_by_role("button", name="Từ chối")).to_be_visible(timeout=120_000)
    shots.take(phone, "phone-request")
    request.get_by_role("button", name="Từ chối").click()
    expect(phone.get_by_role("status")).to_contain_text("Đã từ chối yêu cầu ký")
    shots.take(phone, "phone-rejected")


# ------------------------------------------------------------------------------ the test
def test_add_a_company_see_it_blocked_choose_its_certificate_and_stop_in_the_new_ui(
    tmp_path: Path, pki_dir: Path, pages: tuple[Page, Page], request: pytest.FixtureRequest
) -> None:
    gia_phuc = tour_unit()
    (integrator,) = many_units(1, prefix="v2firm")  # a saved MISA account of the firm
    unit = gia_phuc.unit
    shots = Shots(SCREENSHOTS / request.node.name)
    page, phone = pages
    with running_stack(
        tmp_path / "stack",
        [gia_phuc, integrator],
        period=PERIOD,
        pki_dir=pki_dir,
        worker_env=FAST_FLOWS,
        query_seconds=2,
    ) as stack:
        _forget(stack, gia_phuc)
        assert _block(stack, gia_phuc.block) is None
        password = stack.scenario.passwords[gia_phuc.username]
        second = stack.sandbox.pki.get("tour-giaphuc-2027").serial_hex.upper()

        # 1. add_company: the form asks what the accountant knows, no block name.
        add_deployment = _deployment_id(stack, "add_company/add-company")
        page.goto(_v2(stack, f"/deployments/deployment/{add_deployment}/run"))
        page.get_by_role("textbox", name="Tên đơn vị / Company name").fill(unit.name)
        page.get_by_role("textbox", name="Mã số thuế / Tax code").fill(unit.tax_code)
        page.get_by_role("textbox", name="Mã đơn vị BHXH / Unit code").fill(unit.code)
        page.get_by_role("textbox", name="Mã cơ quan BHXH / BHXH agency code").fill(
            unit.agency_code
        )
        # No block name to type: no text field asks for one.
        expect(page.get_by_role("textbox", name=re.compile("block", re.I))).to_have_count(0)
        run_name = f"e2e-add-{secrets.token_hex(3)}"
        page.get_by_role("textbox", name="Run Name").fill(run_name)
        shots.take(page, "add-company-form")
        submit_run_form(page, "add_company/add-company")
        (added,) = until(
            "the add_company run",
            lambda: [
                r for r in _runs_of(stack, "add_company/add-company") if r["name"] == run_name
            ],
            within=FORM_RUN_SECONDS,
        )
        add_id = str(added["id"])

        # The signer's account, asked in the paused run (never a run parameter).
        _wait_until_asked(stack, add_id, "type the signer's MISA eSign account")
        dialog = _resume_dialog(page, stack, add_id)
        expect(dialog).to_contain_text(integrator.credentials_block)  # the firm's account
        dialog.get_by_role("textbox", name="Tài khoản người ký / Signer's account").fill(
            gia_phuc.username
        )
        dialog.get_by_role("textbox", name=re.compile("^Mật khẩu người ký")).fill(password)
        shots.take(page, "add-company-account", full_page=False)
        _resume(page, stack, add_id, dialog)
        wait_for_flow_run(stack.server, add_id, timeout=240)
        _see_state(page, stack, add_id, "Completed", shots, "add-company")
        done = read_flow_run(stack.server, add_id)
        assert f"khối {gia_phuc.block}" in done["state"]["message"]
        assert password not in json.dumps(done)
        saved = _block(stack, gia_phuc.block)
        assert saved is not None and saved["credentials_block"] == gia_phuc.credentials_block
        assert not saved["certificate_serial"]  # no certificate chosen yet

        # add_company started setup, which asks which certificate: nobody answers yet.
        (setup,) = until("the setup run", lambda: _runs_of(stack, "setup_remote_signing/setup"))
        setup_id = str(setup["id"])
        _wait_until_asked(stack, setup_id, "choose the certificate to sign with")

        # 2. The month overview: the company's row says what blocks it.
        track_id = str(
            _post(
                stack,
                f"/deployments/{_deployment_id(stack, 'track_results/track')}/create_flow_run",
                {"parameters": {"period": PERIOD, "max_wait_seconds": 0}},
            )["id"]
        )
        wait_for_flow_run(stack.server, track_id, timeout=240)
        _open_run(page, stack, track_id)
        page.get_by_role("tab", name="Artifacts").click()
        page.get_by_role("heading", name=overview_key(PERIOD), exact=True).click()
        # The totals count the inbox's dossiers as the headline does (not "no dossier yet").
        totals = page.get_by_role("row").filter(has_text="in the inbox, not read yet")
        expect(totals).to_have_count(1)
        expect(page.get_by_text("no dossier yet")).to_have_count(0)
        row = page.get_by_role("row").filter(has_text=unit.code)
        expect(row).to_have_count(1)
        cells = row.get_by_role("cell")
        expect(cells.nth(0)).to_contain_text("Chưa chọn chứng thư")
        expect(cells.nth(2)).to_have_text(unit.name)
        expect(cells.nth(3)).to_contain_text("để chọn chứng thư số")
        expect(cells.nth(3)).to_contain_text("to choose the certificate")
        expect(cells.nth(4)).to_have_text("1")  # in the inbox
        expect(cells.nth(6)).to_have_text("1")  # to act on
        row.scroll_into_view_if_needed()
        shots.take(page, "overview-company-blocked")

        # 3. setup's question: the second certificate, chosen in the drop-down.
        dialog = _resume_dialog(page, stack, setup_id)
        expect(dialog).to_contain_text("chứng thư số mang mã số thuế")
        dialog.get_by_role("button", name=re.compile("^Select Chứng thư số")).click()
        expect(page.get_by_role("option")).to_have_count(2)  # both fit the tax code
        shots.take(page, "setup-certificate-list", full_page=False)
        page.keyboard.press("Escape")
        _choose(page, dialog, "Chứng thư số dùng để ký", re.compile(f"serial {second} ·"))
        shots.take(page, "setup-certificate-chosen", full_page=False)
        _resume(page, stack, setup_id, dialog)

        # 4. The 05 change is refused on the phone; the run asks what next: stop.
        phone.goto(stack.phone_url(gia_phuc))
        _reject_on_phone(phone, gia_phuc, shots)
        _wait_until_asked(stack, setup_id, "ask the phone again, or stop")
        dialog = _resume_dialog(page, stack, setup_id)
        expect(dialog).to_contain_text("bị từ chối trên điện thoại")
        _choose(page, dialog, "Làm gì tiếp?", STOP)
        shots.take(page, "setup-stop-chosen", full_page=False)
        _resume(page, stack, setup_id, dialog)
        final = _wait_until_final(stack, setup_id)
        assert final["type"] in {"CANCELLED", "COMPLETED"}, final  # a stop is not a failure
        _see_state(page, stack, setup_id, final["name"], shots, "setup-stopped")

        saved = _block(stack, gia_phuc.block)
        assert saved is not None and saved["certificate_serial"] == second
        assert approvals(stack) == {}
        rejected = [e for e in audit(stack) if e.get("event") == "rejected"]
        assert [e.get("user") for e in rejected] == [gia_phuc.username]
        assert submissions(stack) == {}  # the 05 change was not submitted

        # 5. Later, setup again from its form, the company picked by name and tax code:
        # the certificate chosen again, the 05 change approved on the phone (1 of 1).
        again_id = _run_from_form(page, stack, "setup_remote_signing/setup", gia_phuc, shots)
        _wait_until_asked(stack, again_id, "choose the certificate to sign with")
        dialog = _resume_dialog(page, stack, again_id)
        _choose(page, dialog, "Chứng thư số dùng để ký", re.compile(f"serial {second} ·"))
        _resume(page, stack, again_id, dialog)
        approve_on_phone(phone, unit.code, shots, 1)
        final = _wait_until_final(stack, again_id)
        assert final["type"] == "COMPLETED", final
        _see_state(page, stack, again_id, "Completed", shots, "setup-again")

        # 6. Its dossier signed and submitted from the manual form: two approvals (the
        # declarations, then the envelope), the soHoSo in the run's state message and on
        # its page.
        sign_id = _run_from_form(
            page, stack, "sign_and_submit/manual", gia_phuc, shots, period=PERIOD
        )
        approve_on_phone(phone, unit.code, shots, 2)
        approve_on_phone(phone, unit.code, shots, 3)
        final = _wait_until_final(stack, sign_id)
        assert final["type"] == "COMPLETED", final
        number = SO_HO_SO.search(final["message"] or "")
        assert number is not None, final
        _see_state(page, stack, sign_id, "Completed", shots, "sign")
        expect(page.get_by_text(number.group(0)).first).to_be_visible()
        shots.take(page, "sign-sohoso")
        assert approvals(stack) == {gia_phuc.username: 3}
        assert len(submissions(stack)) == 2 and set(submissions(stack).values()) == {1}
    assert len(list(shots.folder.glob("*.png"))) >= 20
