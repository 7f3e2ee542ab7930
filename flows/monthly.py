"""monthly_submission: every configured unit at once; track_results: receipts and results."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from prefect import flow, get_client
from prefect.artifacts import acreate_table_artifact
from prefect.client.schemas.objects import State
from prefect.logging import get_run_logger

from bhxh.settings import Settings
from bhxh.store import DossierStore, Step
from blocks.unit import BhxhUnit
from flows._signing import artifact_key, expect_start, is_interactive
from flows.sign_and_submit import (
    Batching,
    DossierSummary,
    previous_period,
    run_unit,
    sign_and_submit,
)
from tasks._runtime import close_sessions
from tasks.dossiers import read_dossier_status, ref_of

__all__ = ["list_unit_blocks", "monthly_submission", "track_results"]

#: Longest wait for one unit's run to start before the next one is started anyway.
START_WAIT_SECONDS = 2.0


async def _start_in_turn(
    names: list[str], start: Callable[[str], Awaitable[State[Any]]]
) -> list[State[Any] | BaseException]:
    """Start the units' runs one after the other, then let them all run at once.

    Each run is started once the previous one exists (or after ``START_WAIT_SECONDS``):
    creating hundreds of flow runs in the same instant made the SQLite-backed Prefect API
    answer 503 (database is locked) and the client back off 2, 4, 8... seconds, until
    whole units failed. Started in turn, a creation costs about 0.1-0.3 s while every
    run's wait for the phone still overlaps with all the others.
    """
    runs: list[asyncio.Task[State[Any]]] = []
    for name in names:
        started = expect_start(name)
        run = asyncio.ensure_future(start(name))
        runs.append(run)
        waiter = asyncio.ensure_future(started.wait())
        await asyncio.wait({run, waiter}, timeout=START_WAIT_SECONDS, return_when="FIRST_COMPLETED")
        waiter.cancel()
    # return_exceptions: a run that could not be created or reported is one unit's failure.
    return list(await asyncio.gather(*runs, return_exceptions=True))


FINAL_STATUSES = {"accepted", "rejected", "rejected_at_receipt", "supplement_requested"}


async def list_unit_blocks() -> list[str]:
    """Names of every saved ``BhxhUnit`` block."""
    async with get_client() as client:
        documents = await client.read_block_documents_by_type("bhxh-unit", include_secrets=False)
    return sorted(d.name for d in documents if d.name and not d.is_anonymous)


@flow(name="monthly_submission")
async def monthly_submission(
    period: str | None = None,
    units: list[str] | None = None,
    batching: Batching = "per_unit",
    dry_run: bool = False,
    interactive: bool | None = None,
) -> list[DossierSummary]:
    """Sign and submit the period's dossiers of every configured unit, concurrently.

    Every unit's phone is pinged at once and the approval waits overlap; one unit's
    failure does not stop the others (it is reported, and the run ends Failed).
    An unattended run (the schedule) does every unit's work inside this flow run, as
    task runs (no subflow per unit: hundreds of concurrent subflows stall the
    SQLite-backed local API); a run started by hand runs one ``sign_and_submit`` subflow
    per unit, started in turn, so that a pause (one-time code, ask again) holds one unit.

    Args:
        period: ``MM/yyyy``; default the previous month.
        units: ``BhxhUnit`` block names; default every saved unit.
        batching: ``per_unit`` (at most two approvals per unit) or ``per_dossier``.
        dry_run: validate and list, sign nothing.
        interactive: whether a person answers pauses (default: manual deployment runs).

    Example:
        ```python
        import asyncio
        from flows import monthly_submission

        asyncio.run(monthly_submission(period="01/2026"))
        ```
    """
    logger = get_run_logger()
    period = period or previous_period()
    names = units if units is not None else await list_unit_blocks()
    attended = await is_interactive(interactive)
    logger.info("Monthly submission %s for %d unit(s)", period, len(names))
    try:
        if attended:
            # A person may answer pauses (one-time code, ask again): one subflow per unit,
            # so that each pause holds its own unit only.
            outcomes: list[Any] = await _start_in_turn(
                names,
                lambda name: sign_and_submit(
                    unit_block=name,
                    period=period,
                    batching=batching,
                    dry_run=dry_run,
                    interactive=True,
                    return_state=True,
                ),
            )
        else:
            # Unattended (the schedule): every unit inside this flow run, no subflows. On
            # the SQLite-backed local API, flow runs created and finished concurrently
            # conflict in the database (503, then client back-off of 2, 4, 8... s): 50
            # units as subflows took minutes and some failed, while the same work as task
            # runs of one flow run takes seconds. Nothing else changes: same tasks, same
            # journal and resume, same approvals, one unit's failure reported per unit.
            outcomes = await asyncio.gather(
                *(
                    run_unit(name, period, batching, dry_run, False, owns_sessions=False)
                    for name in names
                ),
                return_exceptions=True,
            )
    finally:
        await close_sessions()
    rows: list[DossierSummary] = []
    failures: list[str] = []
    for name, state in zip(names, outcomes, strict=True):
        if isinstance(state, list):  # an inline unit's summary
            rows += state
            continue
        if isinstance(state, BaseException):
            if not isinstance(state, Exception):
                raise state
            message = (
                str(state)
                if not attended
                else (f"the run could not be orchestrated ({type(state).__name__}: {state})")
            )
            failures.append(f"{name}: {message}")
            rows.append(DossierSummary(name, "-", "-", 0, "", "failed", message[:500]))
            continue
        if state.is_completed():
            rows += await state.aresult()
        else:
            message = state.message or state.name or "failed"
            try:
                await state.aresult()
            except Exception as exc:
                message = str(exc)
            failures.append(f"{name}: {message}")
            rows.append(DossierSummary(name, "-", "-", 0, "", "failed", message[:500]))
    await acreate_table_artifact(
        table=[r.__dict__ for r in rows],
        key=artifact_key("monthly", period),
        description=f"Monthly submission {period}: {len(names)} unit(s), {len(failures)} failed",
    )
    if failures:
        raise RuntimeError(
            f"{len(failures)} of {len(names)} unit(s) did not finish:\n- " + "\n- ".join(failures)
        )
    return rows


@flow(name="track_results")
async def track_results(
    period: str | None = None,
    units: list[str] | None = None,
    max_wait_seconds: float = 60,
    poll_seconds: float = 5,
) -> list[dict[str, Any]]:
    """Follow submitted dossiers until VSS gives a final outcome (or the wait ends).

    Reads the gateway for every submitted dossier of the period, records receipts
    (``soHoSo``, ``dot``) and results in the dossier store, and publishes what changed.

    Example:
        ```python
        import asyncio
        from flows import track_results

        asyncio.run(track_results(period="01/2026"))
        ```
    """
    settings = Settings()
    period = period or previous_period()
    names = units if units is not None else await list_unit_blocks()
    store = DossierStore(settings.store_dir)
    refs = []
    gateways: dict[str, str] = {}
    for name in names:
        unit = await BhxhUnit.aload_unit(name)
        for rec in store.list(unit.unit_code, period):
            if rec.has(Step.SUBMITTED):
                refs.append(ref_of(rec))
                gateways[rec.id] = unit.gateway_block
    changes: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}
    deadline = asyncio.get_running_loop().time() + max_wait_seconds
    try:
        while True:
            for ref in refs:
                if latest.get(ref.id, {}).get("status") in FINAL_STATUSES:
                    continue
                data = await read_dossier_status(ref, gateways[ref.id], str(settings.store_dir))
                if latest.get(ref.id) != data:
                    changes.append({"unit": ref.unit_code, "dossier": ref.id, **data})
                latest[ref.id] = data
            open_ = [r for r in refs if latest.get(r.id, {}).get("status") not in FINAL_STATUSES]
            if not open_ or asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(poll_seconds)
    finally:
        await close_sessions()  # a failed run must not leave clients (and keys) cached
    table = [
        {
            "unit": r.unit_code,
            "dossier": r.id,
            "procedure": r.procedure,
            "status": latest[r.id].get("status"),
            "so_ho_so": latest[r.id].get("so_ho_so"),
            "dot": latest[r.id].get("dot"),
            "outcome": latest[r.id].get("outcome"),
        }
        for r in refs
    ]
    await acreate_table_artifact(
        table=table,
        key=artifact_key("results", period),
        description=f"Results {period}: {len(changes)} change(s)",
    )
    get_run_logger().info("%d dossier(s) followed, %d change(s)", len(refs), len(changes))
    return table
