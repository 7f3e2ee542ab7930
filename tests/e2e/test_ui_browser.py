"""The Prefect UI and the virtual phone, operated in headless Chromium as a person would.

Debian's ``/usr/bin/chromium`` driven by Playwright for Python (no browser download). A
unit whose signing account holds two certificates with its MST: ``setup_remote_signing``
is started from the deployment page with a form, pauses to ask which certificate, the
answer is chosen in the UI's resume form, the 05 change is approved on the phone page
(Đồng ý, then PIN); then ``sign_and_submit`` is started from its deployment page with a
period, and its two approvals are given on the phone page. Screenshots of every step are
kept under ``var/test/screenshots/``.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from bhxh.store import Step
from demo.scenario import CertSpec, DemoUnit, many_units
from deployments.server import Stack, running_stack
from deployments.stack import PROJECT_DIR, read_flow_run, wait_for_flow_run
from tests.e2e.support import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    FAST_FLOWS,
    OFF_MACHINE,
    PERIOD,
    approvals,
    audit,
    records,
    submissions,
)

pytestmark = pytest.mark.e2e

SCREENSHOTS = PROJECT_DIR / "var" / "test" / "screenshots"
PIN = "123456"  # the sandbox account's PIN (test material)
UI_TIMEOUT_MS = 60_000


class Shots:
    """Numbered screenshots of one test."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.n = 0

    def take(self, page: Page, name: str) -> None:
        self.n += 1
        page.screenshot(path=self.folder / f"{self.n:02d}-{name}.png")


@pytest.fixture
def browser() -> Iterator[BrowserContext]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make install` installs it"
    profile = tempfile.mkdtemp(prefix="bhxh-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1400, "height": 1000},
                locale="vi-VN",
            )
            context.set_default_timeout(UI_TIMEOUT_MS)
            context.route(OFF_MACHINE, lambda route: route.abort())
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _twin_unit() -> DemoUnit:
    """A unit whose account holds two usable certificates with its MST; phone: a person."""
    (unit,) = many_units(1, prefix="uitwin")
    second = CertSpec("uitwin-0-second", unit.unit.tax_code, unit.unit.name, "SECOND")
    return dataclasses.replace(
        unit, certificates=(*unit.certificates, second), phone_action="manual"
    )


def _start_custom_run(page: Page, stack: Stack, deployment: str, shots: Shots) -> None:
    """Deployments > ``deployment`` > Run > Custom run: the parameter form."""
    page.goto(stack.server.ui_url + "/")
    page.get_by_role("link", name="Deployments").first.click()
    page.get_by_role("link", name=deployment, exact=True).first.click()
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_visible()
    shots.take(page, f"deployment-{deployment}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()
    expect(page.get_by_text("unit_block", exact=True)).to_be_visible()


def _submit_and_open_run(page: Page, stack: Stack, shots: Shots, what: str) -> str:
    """Name the run, submit the form, then open the run from the deployment's run list.

    When a click on Submit leaves the form as it was and no run of that name exists, it
    is clicked again (once), as a person would.
    """
    run_name = f"e2e-{what}-{secrets.token_hex(3)}"
    page.get_by_role("textbox", name="Run Name").fill(run_name)
    expect(page.get_by_role("option")).to_have_count(0)  # no drop-down left open
    shots.take(page, f"{what}-form")
    back_on_deployment = re.compile(r"/deployments/deployment/[0-9a-f-]{36}\?tab=Runs")
    for attempt in range(2):
        page.get_by_role("button", name="Submit").click()
        try:  # on success the UI goes back to the deployment page, its runs tab
            expect(page).to_have_url(back_on_deployment, timeout=15_000)
            break
        except AssertionError:
            shots.take(page, f"{what}-not-started-{attempt + 1}")
            notices = page.locator("[data-sonner-toast]").all_inner_texts()
            if attempt or notices or _runs_named(stack, run_name):
                raise AssertionError(f"the UI did not start the {what} run: {notices}") from None
    page.get_by_role("link", name=run_name, exact=True).click()
    match = re.search(r"flow-run/([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def _runs_named(stack: Stack, name: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.server.api_url}/flow_runs/filter",
        json={"flow_runs": {"name": {"any_": [name]}}},
        timeout=10,
    )
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def _pick(page: Page, select: Locator, option: str) -> None:
    """Choose ``option`` in one of the UI's drop-downs.

    The paused run's page refreshes while the list is open, which can replace the list
    under the pointer: open it again and retry, as a person would.
    """
    for _ in range(12):
        try:
            if option in select.inner_text(timeout=5_000):
                return
            # The page re-renders under polling: the trigger is rarely "stable" for long,
            # so click it without waiting for stability, and retry if it was replaced.
            select.click(timeout=5_000, force=True)
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            continue
        if option in select.inner_text():
            expect(page.get_by_role("option")).to_have_count(0)
            return
    expect(select).to_contain_text(option)


def _wait_until_paused(stack: Stack, run_id: str, within: float = 180) -> None:
    """Until the run is paused and its form (run input schema) is stored."""
    deadline = time.monotonic() + within
    while True:
        state = read_flow_run(stack.server, run_id)["state"]
        keyset = (state.get("state_details") or {}).get("run_input_keyset")
        if state["type"] == "PAUSED" and keyset:
            return
        assert state["type"] in {"SCHEDULED", "PENDING", "RUNNING", "PAUSED"}, state
        assert time.monotonic() < deadline, f"run {run_id} not paused: {state['type']}"
        time.sleep(1)


def _approve_on_phone(phone: Page, stack: Stack, unit: DemoUnit, shots: Shots, n: int) -> None:
    """Open the phone page until a request shows, press Đồng ý, type the PIN, confirm."""
    phone.bring_to_front()
    phone.goto(stack.phone_url(unit))
    agree = phone.get_by_role("button", name="Đồng ý")
    deadline = time.monotonic() + 120
    while agree.count() == 0:
        assert time.monotonic() < deadline, "no signing request reached the phone"
        phone.wait_for_timeout(1000)
        phone.reload()
    expect(phone.locator(".request .display")).to_contain_text(unit.unit.code)
    shots.take(phone, f"phone-request-{n}")
    agree.first.click()
    phone.get_by_label("Mã PIN").fill(PIN)
    shots.take(phone, f"phone-pin-{n}")
    phone.get_by_role("button", name="Xác nhận").click()
    expect(phone.get_by_role("status")).to_contain_text("Đã ký thành công")
    shots.take(phone, f"phone-signed-{n}")


def _see_completed(page: Page, stack: Stack, run_id: str, shots: Shots, what: str) -> None:
    wait_for_flow_run(stack.server, run_id, timeout=240)
    page.bring_to_front()
    page.reload()
    expect(page.get_by_text("Completed", exact=True).first).to_be_visible()
    shots.take(page, f"{what}-completed")


# It drives Prefect's own web UI, whose paused-run page re-renders while a person (here,
# Playwright) works in it: fresh re-runs (new server, new sandbox, new browser profile)
# absorbs a lost click without loosening any assertion.
@pytest.mark.flaky(reruns=2)
def test_manual_runs_from_the_ui_with_certificate_form_and_phone_approvals(
    tmp_path: Path, pki_dir: Path, browser: BrowserContext, request: pytest.FixtureRequest
) -> None:
    unit = _twin_unit()
    shots = Shots(SCREENSHOTS / request.node.name)
    with running_stack(
        tmp_path / "stack",
        [unit],
        period=PERIOD,
        pki_dir=pki_dir,
        worker_env=FAST_FLOWS,
        query_seconds=2,
    ) as stack:
        second = stack.sandbox.pki.get("uitwin-0-second").serial_hex.upper()
        page = browser.new_page()
        phone = browser.new_page()

        # 1. setup_remote_signing from its deployment page, with the unit in the form.
        _start_custom_run(page, stack, "setup", shots)
        page.locator("textarea").first.fill(unit.block)
        setup_id = _submit_and_open_run(page, stack, shots, "setup")
        _wait_until_paused(stack, setup_id)

        # 2. The paused run asks which certificate: answer in the UI's resume form.
        page.reload()
        expect(page.get_by_text("Paused", exact=True).first).to_be_visible()
        shots.take(page, "setup-paused")
        page.get_by_role("button", name="Open menu").first.click()
        page.get_by_role("menuitem", name="Resume").click()
        dialog = page.get_by_role("dialog")
        # The drop-down reads "Select Serial" when empty, or shows the pre-filled serial.
        choice = dialog.get_by_role("button", name=re.compile(r"^(Select Serial|[0-9A-F]{16,})"))
        expect(dialog).to_contain_text("several certificates carry MST")
        expect(dialog).to_contain_text(second)
        _pick(page, choice, second)
        shots.take(page, "setup-certificate-chosen")
        dialog.get_by_role("button", name="Resume").click()
        expect(dialog).to_be_hidden()

        # 3. The 05 change (new certificate) needs one approval on the phone.
        _approve_on_phone(phone, stack, unit, shots, 1)
        _see_completed(page, stack, setup_id, shots, "setup")
        registrations = [e for e in audit(stack) if e.get("event") == "registration"]
        assert registrations and registrations[-1]["serial"] == second

        # 4. sign_and_submit from its deployment page: unit, period, batching.
        _start_custom_run(page, stack, "manual", shots)
        page.locator("textarea").first.fill(unit.block)
        page.get_by_role("tab", name="str", exact=True).click()  # period: a string, not None
        page.locator("textarea").nth(1).fill(PERIOD)
        _pick(page, page.get_by_role("button", name="Select batching"), "per_unit")
        sign_id = _submit_and_open_run(page, stack, shots, "sign")
        assert read_flow_run(stack.server, sign_id)["parameters"]["period"] == PERIOD

        # 5. Two approvals: the declarations, then the envelope.
        _approve_on_phone(phone, stack, unit, shots, 2)
        _approve_on_phone(phone, stack, unit, shots, 3)
        _see_completed(page, stack, sign_id, shots, "sign")
        page.get_by_role("tab", name="Artifacts").click()
        expect(page.get_by_text(f"summary-{unit.unit.code.lower()}")).to_be_visible()
        shots.take(page, "sign-artifacts")

        (rec,) = records(stack, unit)
        submitted = rec.last(Step.SUBMITTED)
        assert submitted is not None and submitted.data.get("gateway_transaction_id")
        assert approvals(stack, via="phone") == {unit.username: 3}
        assert all(count == 1 for count in submissions(stack).values())
        assert len(submissions(stack)) == 2  # the 05 form and the month's dossier
    assert len(list(shots.folder.glob("*.png"))) >= 12
