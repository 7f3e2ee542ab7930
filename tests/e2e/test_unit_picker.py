"""The unit pickers in headless Chromium, on a real Prefect server: each saved company on
one line (name, tax code, unit code) in both of Prefect's UIs, found by typing part of a
tax code, and the line chosen is what the run is given.

A lighter stack than the tour's: a Prefect server, two saved units and two deployments
made through the API (no worker, no sandbox); the runs created stay scheduled. Screenshots:
``var/test/screenshots/<test>/``.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from blocks import BhxhUnit
from deployments.stack import PROJECT_DIR, PrefectServer, api_settings, start_prefect_server
from flows import refresh_unit_pickers, sign_and_submit, track_results
from tests.e2e.support import CHROMIUM, CHROMIUM_FLAGS, OFF_MACHINE, submit_run_form

pytestmark = pytest.mark.e2e

SCREENSHOTS = PROJECT_DIR / "var" / "test" / "screenshots"
UNITS = {
    "an-phat": ("Công ty TNHH An Phát", "0101234567", "TA0001A"),
    "hai-dang": ("Công ty TNHH Hải Đăng", "0201234567", "TM0006M"),
}
HAI_DANG = "Công ty TNHH Hải Đăng · MST 0201234567 · mã đơn vị TM0006M · hai-dang"
AN_PHAT = "Công ty TNHH An Phát · MST 0101234567 · mã đơn vị TA0001A · an-phat"


def _in_thread(server: PrefectServer, work: Any) -> Any:
    def run() -> Any:
        with api_settings(server):
            return asyncio.run(work())

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


async def _prepare() -> dict[str, str]:
    from prefect import get_client

    for block, (name, tax, code) in UNITS.items():
        unit = BhxhUnit(
            unit_code=code, tax_code=tax, name=name, agency_code="07906", credentials_block=""
        )
        await unit.asave(block, overwrite=True)
    ids: dict[str, str] = {}
    async with get_client() as client:
        for flow, name in ((sign_and_submit, "manual"), (track_results, "track")):
            flow_id = await client.create_flow_from_name(flow.name)
            deployment_id = await client.create_deployment(
                flow_id,
                name,
                parameter_openapi_schema=flow.parameters.model_dump(),
                enforce_parameter_schema=True,
            )
            ids[name] = str(deployment_id)
    await refresh_unit_pickers()
    return ids


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PrefectServer, dict[str, str]]]:
    prefect = start_prefect_server(tmp_path_factory.mktemp("picker") / "prefect")
    try:
        yield prefect, _in_thread(prefect, _prepare)
    finally:
        prefect.stop()


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
            page.set_default_timeout(30_000)
            page.route(OFF_MACHINE, lambda route: route.abort())
            yield page
        finally:
            browser.close()


def _shots(request: pytest.FixtureRequest) -> Path:
    folder = SCREENSHOTS / str(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _runs(server: PrefectServer, deployment_id: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{server.api_url}/flow_runs/filter",
        json={"deployments": {"id": {"any_": [deployment_id]}}},
        timeout=10,
    )
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def test_the_new_ui_offers_each_company_by_name_and_tax_code(
    server: tuple[PrefectServer, dict[str, str]], page: Page, request: pytest.FixtureRequest
) -> None:
    prefect, ids = server
    folder = _shots(request)
    page.goto(f"{prefect.ui_url}/v2/deployments/deployment/{ids['manual']}/run")
    expect(page.get_by_text("Chọn công ty / Company", exact=True)).to_be_visible()
    page.get_by_role("button", name="Select").first.click()
    expect(page.get_by_role("option", name=AN_PHAT)).to_be_visible()
    expect(page.get_by_role("option", name=HAI_DANG)).to_be_visible()
    page.screenshot(path=folder / "01-manual-list.png")
    page.keyboard.type("0201")  # part of a tax code narrows the list
    expect(page.get_by_role("option")).to_have_count(1)
    page.screenshot(path=folder / "02-manual-typed.png")
    page.get_by_role("option", name=HAI_DANG).click()
    submit_run_form(page, "sign_and_submit/manual")
    expect(page.get_by_text("scheduled to start", exact=False).first).to_be_visible()
    page.screenshot(path=folder / "03-manual-submitted.png")
    (run,) = _runs(prefect, ids["manual"])
    assert run["parameters"]["unit_block"] == HAI_DANG


def test_the_classic_ui_offers_the_same_lines_for_several_units(
    server: tuple[PrefectServer, dict[str, str]], page: Page, request: pytest.FixtureRequest
) -> None:
    prefect, ids = server
    folder = _shots(request)
    page.goto(f"{prefect.ui_url}/deployments/deployment/{ids['track']}/run")
    field = page.locator(".schema-form-property").filter(has_text="Các đơn vị / Units").last
    expect(field.get_by_text("No items selected")).to_be_visible()
    options = page.get_by_role("option")
    for _ in range(5):  # typing in the focused list opens it, narrowed to what is typed
        field.locator(".p-select").first.click()  # focuses the list; typing opens it (digits
        page.keyboard.type("01")  # or lowercase: a Shift-ed letter does not)
        try:
            expect(options.first).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    expect(options.filter(has_text=AN_PHAT)).to_be_visible()
    expect(options.filter(has_text=HAI_DANG)).to_be_visible()
    options.filter(has_text=AN_PHAT).click()
    options.filter(has_text=HAI_DANG).click()
    page.keyboard.press("Escape")
    expect(field).to_contain_text(AN_PHAT)
    page.screenshot(path=folder / "01-track-two-chosen.png", full_page=True)


def test_a_form_answered_503_by_a_busy_server_is_submitted_again_and_makes_one_run(
    server: tuple[PrefectServer, dict[str, str]], page: Page, request: pytest.FixtureRequest
) -> None:
    """The tours' ``submit_run_form``: the UI's first ``create_flow_run`` is answered 503,
    as a Prefect server on SQLite answers while its database is busy. The form stays,
    Submit is pressed again, and exactly one run is made."""
    prefect, ids = server
    folder = _shots(request)
    refused: list[str] = []

    def busy_once(route: Route) -> None:
        if refused:
            route.continue_()
            return
        refused.append(route.request.url)
        route.fulfill(status=503, json={"exception_message": "Service Unavailable"})

    page.route("**/create_flow_run", busy_once)
    page.goto(f"{prefect.ui_url}/v2/deployments/deployment/{ids['track']}/run")
    run_name = f"e2e-busy-{secrets.token_hex(3)}"
    page.get_by_role("textbox", name="Run Name").fill(run_name)
    submit_run_form(page, "track_results/track")
    page.screenshot(path=folder / "01-submitted-after-a-503.png")
    assert len(refused) == 1
    named = [run for run in _runs(prefect, ids["track"]) if run["name"] == run_name]
    assert len(named) == 1
