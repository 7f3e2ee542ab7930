"""A month over a work pool: one child run per unit that any worker takes, a parent that
follows them and schedules again a child whose worker died.

With ``BHXH_MONTHLY_SPREAD_DEPLOYMENT`` set (``sign_and_submit/manual``), the monthly run
starts each unit as a run of that deployment (``run_deployment``, linked to the monthly
run as its child, idempotent per monthly run and unit: a monthly run that is itself run
again finds the children it already started). The work pool is the queue: each worker
takes the next scheduled child; nothing here assigns units to machines.

A child whose machine died stays Running until Prefect marks it Crashed (flow-run
heartbeats and the automation in ``deployments/automations/crashed-when-silent.yaml``).
The parent then puts that same run back to Scheduled, up to ``BHXH_CHILD_CRASH_RETRIES``
times, and another worker takes it: the run continues from the dossier journal, so no
approval already given is asked again and no dossier is submitted twice (the journal must
be shared by the workers: the PostgreSQL store).

Children never pause for a person (a monthly run has nobody to answer); a unit that needs
one is reported with what to do, as in a monthly run on one machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar
from uuid import UUID

import httpx
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment
from prefect.logging import get_run_logger
from prefect.runtime import flow_run
from prefect.states import Scheduled

from bhxh.settings import Settings
from flows._artifacts import UnitProgress, artifact_key
from flows._forms import ATTENDED_LABELS
from flows._naming import run_name, run_tags

__all__ = ["ChildOutcome", "spread_month"]

#: How many child runs are being created at once: each creation is several API calls,
#: one after another a month of hundreds of units takes minutes to hand out on a busy
#: server (60 units took 11 minutes on a loaded two-core machine); more at once, with
#: the workers' own calls, exhausted the API's database connections. Our choice.
START_AT_ONCE = 4

#: Waits between tries of an API call the server answered with a 5xx (a busy server: its
#: database connections all taken, a worker's heartbeat and a month's children at once).
#: Prefect's client repeats 429, 502 and 503 by itself, not 500; the calls repeated here
#: are safe to repeat (a child's creation carries an idempotency key, a read, a forced
#: Scheduled). Our choice: about a minute in all, then the monthly run fails as before.
API_RETRY_WAITS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)

_T = TypeVar("_T")
_P = ParamSpec("_P")

_FINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED}


@dataclass(frozen=True)
class ChildOutcome:
    """How one unit's child run ended (its state and message, as Prefect shows them)."""

    unit: str
    flow_run_id: UUID
    state: str
    message: str
    crashes: int

    @property
    def completed(self) -> bool:
        return self.state == StateType.COMPLETED.value


async def patiently(
    what: str, call: Callable[_P, Awaitable[_T]], *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """``call(*args, **kwargs)``, tried again after each of :data:`API_RETRY_WAITS` (read at
    each call) while the API answers 5xx."""
    for wait in (*API_RETRY_WAITS, None):
        try:
            return await call(*args, **kwargs)
        except httpx.HTTPStatusError as exc:
            if wait is None or exc.response.status_code < 500:
                raise
            get_run_logger().warning(
                "Máy chủ Prefect bận (%s) khi %s, thử lại sau %.0f giây / the Prefect API "
                "answered %s; trying again in %.0f s",
                exc.response.status_code,
                what,
                wait,
                exc.response.status_code,
                wait,
            )
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # the last try returns or raises


def _unit_ref(name: str) -> dict[str, dict[str, str]]:
    return {"$ref": {"block_document_slug": name}}


async def _start_children(
    names: Sequence[str], period: str, batching: str, dry_run: bool, deployment: str
) -> dict[str, UUID]:
    parent = flow_run.id or "local"
    gate = asyncio.Semaphore(START_AT_ONCE)

    async def start(name: str) -> UUID:
        async with gate:
            child = await patiently(f"giao đơn vị {name} / handing out unit {name}", _create, name)
        run_id: UUID = child.id
        return run_id

    async def _create(name: str) -> FlowRun:
        created: FlowRun = await run_deployment(  # type: ignore[misc]  # sync_compatible
            deployment,
            parameters={
                "unit_block": _unit_ref(name),
                "period": period,
                "batching": batching,
                "dry_run": dry_run,
                "interactive": ATTENDED_LABELS[False],
                "receipt_wait_seconds": 0,
            },
            timeout=0,
            as_subflow=True,
            idempotency_key=f"monthly-{parent}-{name}",
            flow_run_name=run_name([name], period),
            tags=["bhxh", "monthly-child", *run_tags([name], period)],
        )
        return created

    ids = await asyncio.gather(*(start(name) for name in names))
    return dict(zip(names, ids, strict=True))


async def _read(ids: Sequence[UUID]) -> list[FlowRun]:
    async with get_client() as client:
        return await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(ids))), limit=len(ids)
        )


async def _schedule_again(run: FlowRun, crashes: int, retries: int) -> None:
    async with get_client() as client:
        await client.set_flow_run_state(
            run.id,
            Scheduled(
                message=(
                    f"Chạy lại trên máy khác lần {crashes}/{retries}, tiếp tục từ nhật ký hồ "
                    f"sơ / scheduled again on any worker ({crashes} of {retries}), continuing "
                    "from the dossier journal"
                )
            ),
            force=True,
        )


async def spread_month(
    names: Sequence[str],
    period: str,
    batching: str,
    dry_run: bool,
    deployment: str,
    settings: Settings,
) -> list[ChildOutcome]:
    """Start one child run per unit on ``deployment`` and follow them to the end.

    Returns every unit's outcome, in ``names`` order. A child that crashed is scheduled
    again (the same run) up to ``settings.child_crash_retries`` times.
    """
    logger = get_run_logger()
    children = await _start_children(names, period, batching, dry_run, deployment)
    unit_of = {run_id: name for name, run_id in children.items()}
    logger.info(
        "Đã giao %d đơn vị cho các máy của nhóm / %d unit run(s) handed to the work pool (%s)",
        len(children),
        len(children),
        deployment,
    )
    progress = await UnitProgress.start(
        len(children),
        artifact_key("hang-thang-tien-do", "monthly-progress", period),
        f"nộp hằng tháng kỳ {period} trên các máy",
        f"monthly submission {period} over the work pool",
    )
    crashes: dict[str, int] = dict.fromkeys(names, 0)
    done: dict[str, ChildOutcome] = {}
    while len(done) < len(children):
        pending = [run_id for name, run_id in children.items() if name not in done]
        runs = await patiently(
            "đọc trạng thái các đơn vị / reading the units' runs", _read, pending
        )
        for run in runs:
            name = unit_of[run.id]
            state = run.state
            if state is None or state.type not in _FINAL:
                continue
            if state.type is StateType.CRASHED and crashes[name] < settings.child_crash_retries:
                crashes[name] += 1
                logger.warning(
                    "%s: lượt chạy bị dừng đột ngột (máy hỏng?), cho chạy lại lần %d / the "
                    "unit's run crashed (its machine died?); scheduled again (%d)",
                    name,
                    crashes[name],
                    crashes[name],
                )
                await patiently(
                    f"cho chạy lại {name} / scheduling {name} again",
                    _schedule_again,
                    run,
                    crashes[name],
                    settings.child_crash_retries,
                )
                continue
            done[name] = ChildOutcome(
                name, run.id, state.type.value, state.message or "", crashes[name]
            )
            await progress.finished(name)
        if len(done) < len(children):
            await asyncio.sleep(settings.spread_poll_seconds)
    return [done[name] for name in names]
