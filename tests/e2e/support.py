"""Helpers of the end-to-end tests: the API read-outs they assert on, the browser."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx

from bhxh.pipeline import DossierRecord, DossierStore
from demo.scenario import DemoUnit
from deployments.processes import ManagedProcess
from deployments.server import Stack
from deployments.stack import PrefectServer
from sandbox.audit import read_audit

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

PERIOD = "01/2026"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

#: Flow runs poll the sandbox phone and answer pauses quickly in tests.
FAST_FLOWS = {
    "BHXH_POLL_INITIAL_SECONDS": "0.5",
    "BHXH_POLL_MAX_SECONDS": "1",
    "BHXH_PAUSE_POLL_SECONDS": "1",
    "BHXH_PAUSE_TIMEOUT_SECONDS": "600",
}

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Anything not on loopback (the UI's product analytics, fonts) is refused in the browser.
SO_HO_SO = re.compile(r"\d{5}/\d{4}/\d{5}")  # a soHoSo as VSS numbers it
PIN = "123456"  # the sandbox accounts' PIN (test material)
OFF_MACHINE = re.compile(r"^(https?|wss?)://(?!127\.0\.0\.1[:/])")


class Shots:
    """Numbered screenshots of one browser test, in a folder emptied first."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.n = 0

    def take(self, page: Page, name: str, *, full_page: bool = True) -> None:
        """A shot of the whole page; ``full_page=False`` for an open dialog, which a whole
        page shot draws scrolled inside."""
        self.n += 1
        page.screenshot(path=self.folder / f"{self.n:02d}-{name}.png", full_page=full_page)


def until(what: str, check: Callable[[], Any], within: float = 180) -> Any:
    """Poll ``check`` (an API read) until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def submit_run_form(page: Page, what: str, *, tries: int = 4) -> None:
    """Press the run form's Submit until the UI's ``create_flow_run`` call is answered 2xx.

    A Prefect server on SQLite answers 503 while its database is busy (the stack's API
    client met it before: ``deployments.stack.BusyRetry``). The UI then shows the error
    and stays on the form, where a person presses Submit again. CI on 6ad096e, a busy
    machine, saw a form whose run never came within 180 s; this is the likeliest cause.
    Submit is pressed again only after the server answered an error, so a run is never
    made twice; a form that sends nothing (a value it refuses) fails here, saying so."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        try:
            with page.expect_response(_creates_a_run, timeout=120_000) as answer:
                page.get_by_role("button", name="Submit").click()
        except PlaywrightTimeout as error:
            raise AssertionError(f"{what}: Submit sent no create_flow_run within 120 s") from error
        if answer.value.ok:
            return
        time.sleep(2**attempt)
    raise AssertionError(f"{what}: create_flow_run answered {answer.value.status} {tries} times")


def _creates_a_run(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/create_flow_run")


def unit_line(stack: Stack, deployment: str, field: str, block: str) -> str:
    """The line of ``block``'s company in a deployment's unit picker, as the server holds
    it (``make server`` wrote the saved companies into every form)."""
    response = httpx.get(f"{stack.server.api_url}/deployments/name/{deployment}", timeout=10)
    response.raise_for_status()
    prop = response.json()["parameter_openapi_schema"]["properties"][field]
    lines = prop["items"]["enum"] if "items" in prop else prop["anyOf"][0]["enum"]
    (line,) = [str(x) for x in lines if str(x).endswith(f" · {block}")]
    return line


def approve_on_phone(phone: Page, unit_code: str, shots: Shots, n: int) -> None:
    """The phone page, already open, shows the request by itself: Đồng ý, PIN, Xác nhận."""
    from playwright.sync_api import expect

    phone.bring_to_front()
    request = phone.locator(".request").filter(has_text=unit_code)
    expect(request.get_by_role("button", name="Đồng ý")).to_be_visible(timeout=120_000)
    shots.take(phone, f"phone-request-{n}")
    request.get_by_role("button", name="Đồng ý").click()
    phone.get_by_label("Mã PIN").fill(PIN)
    shots.take(phone, f"phone-pin-{n}")
    phone.get_by_role("button", name="Xác nhận").click()
    expect(phone.get_by_role("status")).to_contain_text("Đã ký thành công")
    shots.take(phone, f"phone-signed-{n}")
    # Reloading after Xác nhận shows the page again; the form is not sent twice.
    phone.reload()
    expect(phone.get_by_role("alert")).to_have_count(0)  # no "Phiên đã hết hạn"


def read_deployment(server: PrefectServer, name: str) -> dict[str, Any]:
    flow, deployment = name.split("/", 1)
    response = httpx.get(f"{server.api_url}/deployments/name/{flow}/{deployment}", timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def scheduled_starts(
    server: PrefectServer, deployment_id: str, within: float = 90
) -> list[dt.datetime]:
    """Expected start times of the deployment's scheduled runs (once the scheduler made some)."""
    deadline = time.monotonic() + within
    while True:
        response = httpx.post(
            f"{server.api_url}/flow_runs/filter",
            json={
                "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
                "deployments": {"id": {"any_": [deployment_id]}},
            },
            timeout=10,
        )
        response.raise_for_status()
        runs = [r for r in response.json() if r.get("auto_scheduled")]
        if runs:
            return sorted(dt.datetime.fromisoformat(r["expected_start_time"]) for r in runs)
        if time.monotonic() > deadline:
            raise TimeoutError(f"no scheduled run of deployment {deployment_id}")
        time.sleep(1)


def records(stack: Stack, unit: DemoUnit, period: str = PERIOD) -> list[DossierRecord]:
    return DossierStore(stack.data_dir / "store").list(unit.unit.code, period)


def audit(stack: Stack) -> list[dict[str, Any]]:
    return read_audit(stack.sandbox.config.audit_path)


def approvals(stack: Stack, *, via: str | None = None) -> Counter[str]:
    return Counter(
        str(e.get("user"))
        for e in audit(stack)
        if e.get("event") == "approved" and (via is None or e.get("via") == via)
    )


def submissions(stack: Stack) -> Counter[str]:
    return Counter(
        str(e.get("dossier_id"))
        for e in audit(stack)
        if e.get("service") == "gateway" and e.get("event") == "submitted"
    )


def workers_that_ran(stack: Stack, flow_run_ids: list[str]) -> dict[str, str]:
    """Flow run id -> name of the worker whose log says it submitted that run."""
    found: dict[str, str] = {}
    for name, proc in zip(stack.worker_names, stack.workers, strict=True):
        text = proc.log_path.read_text(encoding="utf-8", errors="replace")
        for run_id in flow_run_ids:
            if f"submitting flow run '{run_id}'" in text:
                found[run_id] = name
    return found


@contextmanager
def stopped_at_exit(process: ManagedProcess) -> Iterator[ManagedProcess]:
    try:
        yield process
    finally:
        process.stop()
