"""The firm's month on a real Prefect server: events, the example automation, the overview.

One stack for the module (``prefect server start``, a process worker, the deployments,
the sandbox): three units go through setup, ``monthly_submission`` and ``track_results``
as deployment runs: Cửu Long through the gateway, Đông Á by export (its accountant types
the receipt into ``receipts.csv``), and a third unit whose dossier VSS refuses. Before the
runs, the example automation (``deployments/automations/notify-refusal.yaml``) is created
with its own command, notifying through a Custom Webhook block pointed at a receiver on
127.0.0.1. Then:

* the server holds an event for every state the dossiers passed through, with the unit,
  dossier, period and procedure as labels, and the automation fired on the refusal (the
  receiver got the notification, naming the dossier and VSS's words), and only on it;
* headless Chromium opens the overview artifact in the Prefect UI and finds every unit.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from bhxh.pipeline import DossierRecord, DossierStore
from demo.scenario import DemoUnit, demo_units, export_demo_unit, many_units
from deployments.server import Stack, running_stack
from deployments.stack import PROJECT_DIR, run_deployment, unit_ref, wait_for_flow_run
from flows import overview_key
from tests.e2e.support import CHROMIUM, CHROMIUM_FLAGS, FAST_FLOWS, OFF_MACHINE, PERIOD

pytestmark = pytest.mark.e2e

SCREENSHOTS = PROJECT_DIR / "var" / "test" / "screenshots" / "overview"
WEBHOOK_BLOCK = "custom-webhook/bhxh-e2e"


class _Receiver(BaseHTTPRequestHandler):
    """Keeps every POST body (the notification block's JSON)."""

    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        self.received.append({"path": self.path, "json": json.loads(body or b"{}")})
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Month:
    stack: Stack
    units: list[DemoUnit]
    refused: DemoUnit
    started: dt.datetime
    notifications: list[dict[str, Any]]

    def records(self, unit: DemoUnit) -> list[DossierRecord]:
        return DossierStore(self.stack.data_dir / "store").list(unit.unit.code, PERIOD)


def _create_automation(stack: Stack, webhook_url: str) -> str:
    """The README's command, as a person would type it, against this server."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deployments.automations",
            "notify-refusal",
            "--block",
            WEBHOOK_BLOCK,
            "--webhook-url",
            webhook_url,
        ],
        env=stack.server.env(),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _write_receipts(month: Month, unit: DemoUnit) -> None:
    rows = [f"{r.id},00777/2026/{unit.unit.agency_code},1,accepted" for r in month.records(unit)]
    (month.stack.data_dir / "outbox" / "receipts.csv").write_text(
        "\ufeffdossier_id,so_ho_so,dot,status\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory, pki_dir: Path) -> Iterator[Month]:
    _, _, cuu_long, *_ = demo_units()
    dong_a = export_demo_unit()
    (refused,) = many_units(1, prefix="e2erefuse")
    units = [cuu_long, dong_a, refused]
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    received: list[dict[str, Any]] = []
    _Receiver.received = received
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with running_stack(
            tmp_path_factory.mktemp("overview") / "stack",
            units,
            period=PERIOD,
            pki_dir=pki_dir,
            worker_env=FAST_FLOWS,
            query_seconds=2,
            gateway={"outcomes": {"by_unit": {refused.unit.code: "rejected"}}},
        ) as stack:
            out = _create_automation(stack, f"http://127.0.0.1:{receiver.server_port}/hook")
            assert "bhxh-notify-refusal" in out or "notify-refusal" in out
            started = dt.datetime.now(dt.UTC)
            server = stack.server
            blocks = [u.block for u in units]
            setups = [
                run_deployment(server, "setup_remote_signing/setup", unit_block=unit_ref(b))
                for b in blocks
            ]
            for run_id in setups:
                wait_for_flow_run(server, run_id, timeout=240)
            monthly = run_deployment(
                server, "monthly_submission/monthly", period=PERIOD, units=blocks
            )
            wait_for_flow_run(server, monthly, timeout=300)
            month = Month(stack, units, refused, started, received)
            _write_receipts(month, dong_a)
            track = run_deployment(
                server,
                "track_results/track",
                period=PERIOD,
                units=blocks,
                max_wait_seconds=30,
                poll_seconds=1,
            )
            wait_for_flow_run(server, track, timeout=240)
            yield month
    finally:
        receiver.shutdown()
        receiver.server_close()


def _events(
    month: Month, expected: set[tuple[str, str]], within: float = 90
) -> list[dict[str, Any]]:
    """Every ``bhxh.*`` event since the runs began, once ``expected`` (unit, event name)
    pairs are all stored (events go through the worker's queue and the persister)."""
    api = month.stack.server.api_url
    deadline = time.monotonic() + within
    while True:
        body = {
            "filter": {
                "event": {"prefix": ["bhxh."]},
                "occurred": {
                    "since": (month.started - dt.timedelta(minutes=5)).isoformat(),
                    "until": (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat(),
                },
            },
            "limit": 50,
        }
        response = httpx.post(f"{api}/events/filter", json=body, timeout=10)
        response.raise_for_status()
        page = response.json()
        events = list(page["events"])
        while page.get("next_page"):
            page = httpx.get(page["next_page"], timeout=10).json()
            events += page["events"]
        seen = {(e["resource"].get("bhxh.unit", ""), e["event"]) for e in events}
        if expected <= seen or time.monotonic() > deadline:
            return events
        time.sleep(1)


def test_an_event_for_every_state_and_the_example_automation_fires_on_the_refusal(
    month: Month,
) -> None:
    cuu_long, dong_a, refused = month.units
    gateway_states = {
        "bhxh.approval.requested",
        "bhxh.approval.approved",
        "bhxh.dossier.signed",
        "bhxh.dossier.submitted",
        "bhxh.dossier.numbered",
        "bhxh.dossier.accepted",
    }
    export_states = gateway_states - {"bhxh.dossier.submitted"} | {"bhxh.dossier.exported"}
    expected = (
        {(cuu_long.unit.code, name) for name in gateway_states}
        | {(dong_a.unit.code, name) for name in export_states}
        | {(refused.unit.code, "bhxh.dossier.rejected")}
    )
    events = _events(month, expected)
    seen = {(e["resource"].get("bhxh.unit", ""), e["event"]) for e in events}
    assert expected <= seen, sorted(expected - seen)
    assert (refused.unit.code, "bhxh.dossier.accepted") not in seen
    # Each dossier event names its unit, dossier, period and procedure.
    for unit in month.units:
        (record,) = month.records(unit)
        mine = [
            e for e in events if e["resource"]["prefect.resource.id"] == f"bhxh.dossier.{record.id}"
        ]
        assert mine, unit.block
        for event in mine:
            labels = event["resource"]
            assert (labels["bhxh.unit"], labels["bhxh.dossier"]) == (unit.unit.code, record.id)
            assert (labels["bhxh.period"], labels["bhxh.procedure"]) == (PERIOD, "600")
            assert any(r["prefect.resource.role"] == "flow-run" for r in event["related"])
    # No secret in any payload.
    text = json.dumps(events, ensure_ascii=False)
    scenario = month.stack.scenario
    for secret in [scenario.client_key, scenario.gateway_key, *scenario.passwords.values()]:
        assert secret not in text

    # The automation fired on the refusal, through the webhook block, and on nothing else.
    (refused_record,) = month.records(refused)
    deadline = time.monotonic() + 90
    while not month.notifications and time.monotonic() < deadline:
        time.sleep(1)
    assert len(month.notifications) == 1, month.notifications
    (note,) = month.notifications
    assert note["path"] == "/hook"
    assert refused.unit.code in note["json"]["subject"]
    assert "bị từ chối / refused" in note["json"]["subject"]
    body = note["json"]["body"]
    assert refused_record.id in body
    assert "Hồ sơ bị từ chối sau khi xử lý" in body  # VSS's words
    assert "Next action: refused: Hồ sơ bị từ chối sau khi xử lý" in body


def _latest_artifact_id(month: Month, key: str) -> str:
    response = httpx.post(
        f"{month.stack.server.api_url}/artifacts/filter",
        json={"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC", "limit": 1},
        timeout=10,
    )
    response.raise_for_status()
    (artifact,) = response.json()
    return str(artifact["id"])


def test_the_overview_artifact_in_the_prefect_ui_lists_every_unit(month: Month) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make install` installs it"
    key = overview_key(PERIOD)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1400}, locale="vi-VN")
            context.set_default_timeout(60_000)
            context.route(OFF_MACHINE, lambda route: route.abort())
            page = context.new_page()
            page.goto(month.stack.server.ui_url + "/artifacts")
            page.get_by_text(key, exact=True).first.click()
            # The key's page lists its versions, newest first: open the newest.
            latest = _latest_artifact_id(month, key)
            page.get_by_role("link", name=latest[:8], exact=True).click()
            expect(page).to_have_url(f"{month.stack.server.ui_url}/artifacts/artifact/{latest}")
            expect(
                page.get_by_text("Tổng quan kỳ 01/2026 · Period overview 01/2026").first
            ).to_be_visible()
            for unit in month.units:
                expect(page.get_by_text(unit.unit.code, exact=True).first).to_be_visible()
            expect(
                page.get_by_text("refused: Hồ sơ bị từ chối sau khi xử lý").first
            ).to_be_visible()
            page.screenshot(path=SCREENSHOTS / "overview-01-2026.png", full_page=True)
        finally:
            browser.close()
