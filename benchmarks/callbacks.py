"""``python -m benchmarks.callbacks [--units N] [--out FILE]``: callbacks against polling.

On the MISA sandbox, ``sign_and_submit`` for N units at once (two approvals each, the
phone approving ``SIGNER_SECONDS / scale`` after each request), twice: polling only, then
with MISA's result webhook going to the receiver (``receiver/``, in this process,
following the approval events of the Prefect API) and the waits listening for its events.
Measured from the sandbox audit, that is from what the provider saw: the status calls per
approval, and the time from the phone's approval to the status read that returned it (the
run's next step).

The clock is the defaults divided by ``SCALE`` (4; ``make bench``'s default divides by 8,
``--scale``): polling 0.5 s growing 1.6x to 3.75 s (2 s to 15 s at full scale), the slow
poll when a callback is expected 7.5 s to 15 s (30 s to 60 s), the signer approving after
7.5 s (30 s). Every interval and the approval scale together, so the status calls per
approval are those of full scale; the polling latency is a quarter (an eighth) of full
scale's.

Run in a fresh process (``python -m benchmarks`` does): it sets ``PREFECT_HOME`` and
``BHXH_*`` for itself.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["SCALE", "bench_callbacks", "callback_goal", "main", "measure", "render_callbacks"]

SCALE = 4.0
#: When the signer approves on the phone at full scale (the defaults' clock), in seconds.
SIGNER_SECONDS = 30.0
PERIOD = "01/2026"


def _settings_env(callbacks: bool, data_dir: Path, scale: float = SCALE) -> dict[str, str]:
    return {
        "BHXH_DATA_DIR": str(data_dir),
        "BHXH_POLL_INITIAL_SECONDS": str(2.0 / scale),
        "BHXH_POLL_MAX_SECONDS": str(15.0 / scale),
        "BHXH_CALLBACK_POLL_INITIAL_SECONDS": str(30.0 / scale),
        "BHXH_CALLBACK_POLL_MAX_SECONDS": str(60.0 / scale),
        "BHXH_PROVIDER_CALLBACKS": '["misa"]' if callbacks else "[]",
    }


def _figures(audit: list[dict[str, Any]]) -> dict[str, Any]:
    """Status calls per approval, and approval -> the read that saw it, from the audit."""
    approved = {e["transaction"]: e for e in audit if e.get("event") == "approved"}
    statuses = [e for e in audit if e.get("event") == "status" and e.get("service") == "misa"]
    latencies = []
    for tx, event in approved.items():
        at = dt.datetime.fromisoformat(event["time"])
        seen = [
            dt.datetime.fromisoformat(s["time"])
            for s in statuses
            if s["transaction"] == tx and s.get("state") == "approved"
        ]
        if seen:
            latencies.append((min(seen) - at).total_seconds())
    n = len(approved)
    return {
        "approvals": n,
        "status_calls": len(statuses),
        "status_calls_per_approval": len(statuses) / n if n else None,
        "approval_to_next_step_s": {
            "median": statistics.median(latencies) if latencies else None,
            "max": max(latencies) if latencies else None,
        },
        "webhooks": sum(1 for e in audit if e.get("event") == "webhook"),
    }


async def _mode(
    callbacks: bool, units_n: int, root: Path, pki_dir: Path, scale: float
) -> dict[str, Any]:
    from demo.scenario import CLIENT_ID, Scenario, many_units
    from flows import setup_remote_signing, sign_and_submit
    from receiver import AwaitedTransactions, ReceiverConfig, create_receiver_app
    from receiver.service import follow_approval_stream
    from sandbox.audit import read_audit
    from sandbox.config import start_sandbox
    from sandbox.serve import ServerThread

    label = "callbacks" if callbacks else "polling"
    data_dir = root / label
    os.environ.update(_settings_env(callbacks, data_dir, scale))
    token = secrets.token_urlsafe(32)
    awaited = AwaitedTransactions()
    receiver = ServerThread(
        create_receiver_app(
            ReceiverConfig(misa_client_ids=(CLIENT_ID,), misa_webhook_token=token), awaited
        )
    ).start()
    follower = asyncio.create_task(follow_approval_stream(awaited))
    units = many_units(units_n, prefix=f"cb{label[0]}", approve_after=SIGNER_SECONDS / scale)
    scenario = Scenario(
        units,
        data_dir=data_dir,
        pki_dir=pki_dir,
        misa_webhook_url=f"{receiver.url}/misa/webhook/{token}" if callbacks else None,
    )
    scenario.issue_registered_certificates()
    sandbox = start_sandbox(scenario.sandbox_config())
    try:
        assert sandbox.gateway_url
        await scenario.save_blocks(sandbox.misa_url, sandbox.gateway_url)
        scenario.fill_inbox(PERIOD, dossiers=1, workers=3)
        # Not measured: each unit's certificate chosen, the units at once.
        await asyncio.gather(*(setup_remote_signing(u.block, interactive=False) for u in units))
        started = time.perf_counter()
        await asyncio.gather(*(sign_and_submit(u.block, period=PERIOD) for u in units))
        wall = time.perf_counter() - started
        figures = _figures(read_audit(sandbox.config.audit_path))
    finally:
        follower.cancel()
        sandbox.stop()
        receiver.stop()
    return {"mode": label, "units": units_n, "wall_s": wall, **figures}


async def measure(
    units_n: int, root: Path, scale: float = SCALE, pki_dir: Path | None = None
) -> dict[str, Any]:
    """Both modes, polling first, on one Prefect API (the bench's server, or run alone a
    temporary local one); the test PKI ``pki_dir`` (default: a new one under ``root``)."""
    from sandbox.pki import TestPKI

    pki_dir = pki_dir or root / "pki"
    TestPKI.load_or_create(pki_dir)
    polling = await _mode(False, units_n, root, pki_dir, scale)
    callbacks = await _mode(True, units_n, root, pki_dir, scale)
    ratio = (
        polling["status_calls_per_approval"] / callbacks["status_calls_per_approval"]
        if callbacks["status_calls_per_approval"]
        else None
    )
    return {
        "scale": scale,
        "approve_after_s": SIGNER_SECONDS / scale,
        "polling": polling,
        "callbacks": callbacks,
        "fewer_status_calls": ratio,
    }


def bench_callbacks(
    root: Path, quick: bool, full: bool = False, pki: Path | None = None
) -> dict[str, Any]:
    """``make bench``'s part 6: this module in a fresh process under ``root``, on the
    bench's test PKI ``pki``. Full mode at 1/``SCALE`` of the defaults' clock; by default
    at 1/8 (the phone approving after 3.75 s): the status calls per approval are the same,
    the run half as long."""
    from benchmarks._runner import run_part

    args = ["--units", "2" if quick else "5", "--root", "{folder}"]
    args += ["--scale", str(SCALE if full else 2 * SCALE)]
    return run_part(root, "callbacks", args + (["--pki", str(pki)] if pki else []))


def render_callbacks(fig: dict[str, Any]) -> list[str]:
    """Part 6 as markdown lines."""
    lines = [
        f"**6. Provider callbacks against polling** (MISA sandbox, {fig['polling']['units']} "
        f"units at once, 2 approvals each, the phone approving after "
        f"{fig['approve_after_s']:g} s; every interval at 1/{fig['scale']:g} of the defaults)",
        "",
        "| wait | approvals | status calls | per approval | approval -> next step, median / max s "
        "| webhooks | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in ("polling", "callbacks"):
        m = fig[mode]
        lat = m["approval_to_next_step_s"]
        lines.append(
            f"| {mode} | {m['approvals']} | {m['status_calls']} | "
            f"{m['status_calls_per_approval']:.2f} | {lat['median']:.2f} / {lat['max']:.2f} | "
            f"{m['webhooks']} | {m['wall_s']:.1f} |"
        )
    lines.append("")
    return lines


def callback_goal(fig: dict[str, Any]) -> tuple[str, str, bool]:
    """(goal, measured, met) for the goals table."""
    ratio = fig.get("fewer_status_calls") or 0.0
    return ("callbacks: at least 5x fewer status calls than polling", f"{ratio:.1f}x", ratio >= 5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.callbacks")
    parser.add_argument("--units", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--scale", type=float, default=SCALE, help="the clock's divisor")
    parser.add_argument("--pki", type=Path, default=None, help="the test PKI's folder")
    args = parser.parse_args(argv)
    root = (args.root or Path(tempfile.mkdtemp(prefix="bench-callbacks-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(root / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    result = asyncio.run(measure(args.units, root, args.scale, args.pki))
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)
    ratio = result["fewer_status_calls"]
    return 0 if ratio is not None and ratio >= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
