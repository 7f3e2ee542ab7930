"""The README's tour in the Prefect UI and on the virtual phone, in headless Chromium.

Debian's ``/usr/bin/chromium`` driven by Playwright for Python (no browser download), on
``make server``'s stack with its tour unit ``gia-phuc`` (two certificates fit its tax
code, VSS knows it by a USB token) and a second unit:

1. setup_remote_signing from its deployment's form, the unit picked in the list of saved
   companies, each line its name, tax code and unit code; the run pauses to ask which
   certificate and says so in an artifact; the answer is chosen in the resume form's
   drop-down; the 05 change is approved on the phone page,
   which shows the request by itself and is not sent again on reload;
2. sign_and_submit: a period typed 2026-11 is refused by the form (no run is created),
   then the right one; two approvals on the phone; the run ends with the soHoSo in its
   summary artifact;
3. track_results for one unit chosen in the list of companies (name, tax code, unit
   code): the run is named and tagged by the unit.

Screenshots of every step: ``var/test/screenshots/<test>/``. The UI re-renders while it
polls, so every step waits for a state (a run state read from the API, an element
present or gone), never for a time, and re-finds elements after each change.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright

from bhxh.pipeline import Step
from demo.scenario import many_units, tour_unit
from deployments.server import Stack, running_stack
from deployments.stack import PROJECT_DIR, read_flow_run, wait_for_flow_run
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
    records,
    submissions,
    submit_run_form,
    unit_line,
    until,
)

pytestmark = pytest.mark.e2e

SCREENSHOTS = PROJECT_DIR / "var" / "test" / "screenshots"
UI_TIMEOUT_MS = 60_000


@pytest.fixture
def browser() -> Iterator[BrowserContext]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it"
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
            expect.set_options(timeout=UI_TIMEOUT_MS)
            context.route(OFF_MACHINE, lambda route: route.abort())
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# ------------------------------------------------------------------------------ helpers
def _runs_named(stack: Stack, name: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.server.api_url}/flow_runs/filter",
        json={"flow_runs": {"name": {"any_": [name]}}},
        timeout=10,
    )
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def _open_form(page: Page, stack: Stack, deployment: str, shots: Shots) -> None:
    """Deployments > ``deployment`` > Run > Custom run: the parameter form."""
    page.goto(stack.server.ui_url + "/deployments")
    page.get_by_role("link", name=deployment, exact=True).first.click()
    run = page.get_by_role("button", name="Run", exact=True)
    expect(run).to_be_visible()
    shots.take(page, f"deployment-{deployment}")
    run.click()
    page.get_by_text("Custom run", exact=True).first.click()
    expect(page.locator(".schema-form-property").first).to_be_visible()


def _field(page: Page, title: str) -> Locator:
    """The form field whose title starts with ``title`` (the innermost match)."""
    return page.locator(".schema-form-property").filter(has_text=title).last


def _pick(page: Page, trigger: Callable[[], Locator], option: str) -> None:
    """Choose ``option`` in one of the UI's drop-downs, as a keyboard user does.

    The list is opened from the keyboard (a click on the trigger is not reliable in
    headless Chromium), the option clicked, and the list closed with Escape if it is
    still open. The page re-renders while it polls, so the trigger is found again after
    every step, and the whole choice is retried until the trigger shows the option.
    """
    for _ in range(5):
        current = trigger()
        if option in current.inner_text():
            break
        current.focus()
        page.keyboard.press("ArrowDown")
        choice = page.get_by_role("option", name=option, exact=True)
        try:
            choice.click(timeout=10_000)
        except Exception:  # the list was replaced under the pointer: open it again
            page.keyboard.press("Escape")
            continue
        if page.get_by_role("option").count():
            page.keyboard.press("Escape")
        expect(page.get_by_role("option")).to_have_count(0)
    expect(trigger()).to_contain_text(option)
    expect(page.get_by_role("option")).to_have_count(0)


def _pick_unit(page: Page, stack: Stack, deployment: str, block: str) -> str:
    """Choose ``block``'s company in the form's first tab, "Chọn công ty / Company": one
    line naming the company, its tax code and unit code."""
    line = unit_line(stack, deployment, "unit_block", block)
    field = _field(page, "Đơn vị / Unit")
    expect(field.get_by_text("Chọn công ty / Company", exact=True)).to_be_visible()
    _pick(
        page, lambda: _field(page, "Đơn vị / Unit").locator(".p-select-button button").first, line
    )
    return line


def _choose_in_list(page: Page, title: str, line: str, search: str) -> None:
    """Choose ``line`` in a multiple choice (the units of track): typing part of it in the
    focused list opens the list, narrowed to what is typed."""
    options = page.get_by_role("option")
    for _ in range(5):
        _field(page, title).locator(".p-select").first.click()  # focuses the list
        page.keyboard.type(search)  # opens it (digits or lowercase: a Shift-ed letter does not)
        try:
            options.filter(has_text=line).click(timeout=10_000)
            break
        except Exception:  # the list was replaced under the pointer: open it again
            page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(_field(page, title)).to_contain_text(line)


def _submit(page: Page, stack: Stack, shots: Shots, what: str) -> str:
    """Name the run, submit the form, wait until the run exists; open its page."""
    run_name = f"e2e-{what}-{secrets.token_hex(3)}"
    page.get_by_role("textbox").first.fill(run_name)  # Run Name, the form's first box
    shots.take(page, f"{what}-form")
    submit_run_form(page, what)
    (run,) = until(f"the {what} run", lambda: _runs_named(stack, run_name), within=60)
    page.goto(f"{stack.server.ui_url}/runs/flow-run/{run['id']}")
    return str(run["id"])


def _choice_label(stack: Stack, run_id: str, key: str, field: str, serial: str) -> str:
    """The drop-down line of a paused run's form that names ``serial``."""
    response = httpx.get(
        f"{stack.server.api_url}/flow_runs/{run_id}/input/paused-{key}-schema", timeout=10
    )
    response.raise_for_status()
    schema = response.json()
    if isinstance(schema, str):
        schema = json.loads(schema)
    (label,) = [c for c in schema["properties"][field]["enum"] if serial in c]
    return str(label)


def _state(stack: Stack, run_id: str) -> dict[str, Any]:
    state: dict[str, Any] = read_flow_run(stack.server, run_id)["state"]
    return state


def _wait_until_paused(stack: Stack, run_id: str) -> dict[str, Any]:
    """Until the run is paused and its form (run input schema) is stored."""

    def paused() -> dict[str, Any] | None:
        state = _state(stack, run_id)
        assert state["type"] in {"SCHEDULED", "PENDING", "RUNNING", "PAUSED"}, state
        keyset = (state.get("state_details") or {}).get("run_input_keyset")
        return state if state["type"] == "PAUSED" and keyset else None

    found: dict[str, Any] = until(f"run {run_id} paused", paused)
    return found


def _open_tab(page: Page, name: str) -> None:
    page.get_by_role("tablist").get_by_text(name, exact=True).click()


def _see_state(page: Page, stack: Stack, run_id: str, label: str, shots: Shots, what: str) -> None:
    page.bring_to_front()
    page.goto(f"{stack.server.ui_url}/runs/flow-run/{run_id}")
    expect(page.get_by_text(label, exact=True).first).to_be_visible()
    shots.take(page, f"{what}-{label.lower()}")


# ------------------------------------------------------------------------------ the tour
# Fresh re-runs (new server, sandbox and browser profile) absorb what a loaded machine
# may still do to Prefect's own UI; every assertion stays as it is.
@pytest.mark.flaky(reruns=1)
def test_the_readme_tour_in_the_prefect_ui(
    tmp_path: Path, pki_dir: Path, browser: BrowserContext, request: pytest.FixtureRequest
) -> None:
    tour = tour_unit()
    (other,) = many_units(1, prefix="uiplain")
    shots = Shots(SCREENSHOTS / request.node.name)
    with running_stack(
        tmp_path / "stack",
        [tour, other],
        period=PERIOD,
        pki_dir=pki_dir,
        worker_env=FAST_FLOWS,
        query_seconds=2,
    ) as stack:
        second = stack.sandbox.pki.get("tour-giaphuc-2027").serial_hex.upper()
        page = browser.new_page()
        phone = browser.new_page()
        phone.goto(stack.phone_url(tour))  # left open: it refreshes by itself

        # 1. setup_remote_signing, the unit picked among the saved ones.
        page.bring_to_front()
        _open_form(page, stack, "setup", shots)
        line = _pick_unit(page, stack, "setup_remote_signing/setup", tour.block)
        assert tour.unit.code in line and "Gia Phúc" in line and "MST " in line
        setup_id = _submit(page, stack, shots, "setup")
        stored = read_flow_run(stack.server, setup_id)["parameters"]["unit_block"]
        assert stored == line  # the company's line: its block's name, not its content

        # 2. The run pauses to ask which certificate, and announces it.
        paused = _wait_until_paused(stack, setup_id)
        assert "Resume" in paused["message"] and "UTC+7" in paused["message"]
        page.reload()
        # On a worker the question suspends the run: it holds no worker while it waits.
        expect(page.get_by_text("Suspended", exact=True).first).to_be_visible()
        _open_tab(page, "Artifacts")
        card = page.get_by_text("cau-hoi-question-te0005e-certificate")
        expect(card.first).to_be_visible()
        shots.take(page, "setup-paused-announced")
        card.first.click()
        expect(page.get_by_text("Cần bạn trả lời / Your answer is needed").first).to_be_visible()
        expect(page.get_by_text(re.compile(r"giờ Việt Nam, UTC\+7")).first).to_be_visible()
        shots.take(page, "setup-question-artifact")

        # 3. The answer: the certificate drop-down of the resume form.
        page.goto(f"{stack.server.ui_url}/runs/flow-run/{setup_id}")
        page.get_by_role("button", name="Resume").first.click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("chứng thư số mang mã số thuế")
        expect(dialog).to_contain_text(second)
        # Each line names holder, issuer, validity and serial; the recommended one first.
        label = _choice_label(stack, setup_id, "certificate", "serial", second)
        assert "hiệu lực / valid" in label and "cấp bởi / issuer" in label
        _pick(page, lambda: dialog.get_by_role("group").locator("button").first, label)
        shots.take(page, "setup-certificate-chosen")
        dialog.get_by_role("button", name="Submit").click()
        expect(dialog).to_be_hidden()

        # 4. The 05 change (new certificate): one approval, 1 of 1, on the phone.
        approve_on_phone(phone, tour.unit.code, shots, 1)
        wait_for_flow_run(stack.server, setup_id, timeout=240)
        _see_state(page, stack, setup_id, "Completed", shots, "setup")
        registrations = [e for e in audit(stack) if e.get("event") == "registration"]
        assert registrations and registrations[-1]["serial"] == second

        # 5. sign_and_submit: a wrong period is refused by the form, no run is created.
        _open_form(page, stack, "manual", shots)
        _pick_unit(page, stack, "sign_and_submit/manual", tour.block)
        period = _field(page, "Kỳ kê khai / Period").get_by_role("textbox")
        expect(period).to_have_value(re.compile(r"^\d\d/\d{4}$"))  # a default, not None
        period.fill("2026-11")
        wrong_name = f"e2e-wrong-{secrets.token_hex(3)}"
        page.get_by_role("textbox").first.fill(wrong_name)
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_text(re.compile(r"field 'period'.*'2026-11'")).first).to_be_visible()
        expect(
            page.get_by_text(re.compile(r"Kỳ phải có dạng MM/YYYY, ví dụ 12/2026")).first
        ).to_be_visible()
        shots.take(page, "sign-period-refused")
        assert _runs_named(stack, wrong_name) == []
        period.fill(PERIOD)
        sign_id = _submit(page, stack, shots, "sign")
        assert read_flow_run(stack.server, sign_id)["parameters"]["period"] == PERIOD

        # 6. Two approvals: the declarations, then the envelope; the soHoSo at the end.
        approve_on_phone(phone, tour.unit.code, shots, 2)
        approve_on_phone(phone, tour.unit.code, shots, 3)
        wait_for_flow_run(stack.server, sign_id, timeout=240)
        _see_state(page, stack, sign_id, "Completed", shots, "sign")
        _open_tab(page, "Artifacts")
        shots.take(page, "sign-artifacts")
        page.get_by_text("tong-hop-summary-te0005e").first.click()
        expect(page.get_by_text("Số hồ sơ / soHoSo").first).to_be_visible()
        expect(page.get_by_text(SO_HO_SO).first).to_be_visible()
        shots.take(page, "sign-summary-with-sohoso")

        # 7. track's units: the same lines, chosen (nothing typed, so no typo to refuse
        # after the run starts); the run is named and tagged by the unit.
        _open_form(page, stack, "track", shots)
        line = unit_line(stack, "track_results/track", "units", tour.block)
        assert tour.unit.code in line and "Gia Phúc" in line
        tax_code = re.search(r"MST (\d+)", line)
        assert tax_code is not None
        _choose_in_list(page, "Các đơn vị / Units", line, tax_code.group(1))
        _field(page, "Chờ tối đa").locator("input").first.fill("0")  # read once
        track_id = _submit(page, stack, shots, "track-unit")
        assert read_flow_run(stack.server, track_id)["parameters"]["units"] == [line]
        wait_for_flow_run(stack.server, track_id, timeout=120)
        tracked = read_flow_run(stack.server, track_id)
        assert tracked["name"] == f"{tour.block}-moi-ky"
        assert f"unit:{tour.block}" in tracked["tags"]
        _see_state(page, stack, track_id, "Completed", shots, "track-unit")

        (rec,) = records(stack, tour)
        assert rec.last(Step.SUBMITTED) is not None and rec.last(Step.RECEIPT) is not None
        assert approvals(stack, via="phone") == {tour.username: 3}
        assert all(count == 1 for count in submissions(stack).values())
        assert len(submissions(stack)) == 2  # the 05 form and the month's dossier
    assert len(list(shots.folder.glob("*.png"))) >= 20
