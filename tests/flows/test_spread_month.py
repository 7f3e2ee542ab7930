"""The month over a work pool: one child run per unit on the sign_and_submit deployment,
followed by the monthly run, a crashed child scheduled again (the same run), every unit
reported. The test plays the workers of the pool (it moves the children's states as a
worker would), so that what is checked is the parent's part; the end-to-end test runs real
workers."""

from __future__ import annotations

import asyncio
from uuid import UUID

import httpx
import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.states import Completed, Crashed, Failed, Running

from demo.scenario import demo_units
from flows import monthly_submission, sign_and_submit
from flows.errors import UnitsFailed
from tests.flows.conftest import MakeWorld

PERIOD = "01/2026"


@pytest.fixture
async def deployment(monkeypatch: pytest.MonkeyPatch) -> str:
    await (await sign_and_submit.to_deployment(name="spread-test")).apply()  # type: ignore[misc]
    monkeypatch.setenv("BHXH_MONTHLY_SPREAD_DEPLOYMENT", "sign_and_submit/spread-test")
    monkeypatch.setenv("BHXH_SPREAD_POLL_SECONDS", "0.2")
    monkeypatch.setenv("BHXH_CHILD_CRASH_RETRIES", "1")
    return "sign_and_submit/spread-test"


async def _children(n: int) -> list[FlowRun]:
    async with get_client() as client:
        for _ in range(600):
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["monthly-child"]))
            )
            if len(runs) >= n:
                return runs
            await asyncio.sleep(0.1)
    raise AssertionError("the monthly run did not start its children")


async def _set(run_id: UUID, state: object) -> None:
    async with get_client() as client:
        await client.set_flow_run_state(run_id, state, force=True)  # type: ignore[arg-type]


async def _state(run_id: UUID) -> StateType | None:
    async with get_client() as client:
        run = await client.read_flow_run(run_id)
    return run.state.type if run.state else None


async def _wait_for(run_id: UUID, state: StateType) -> None:
    for _ in range(600):
        if await _state(run_id) is state:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the run did not reach {state.value}")


async def _clear_children() -> None:
    async with get_client() as client:
        for run in await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["monthly-child"]))
        ):
            await client.delete_flow_run(run.id)


async def test_each_unit_is_a_child_run_and_a_crashed_one_is_scheduled_again(
    make_world: MakeWorld, deployment: str
) -> None:
    await _clear_children()
    an_phat, binh_minh, *_ = demo_units()
    await make_world([an_phat, binh_minh], dossiers=0, setup=False)
    parent = asyncio.create_task(
        monthly_submission(period=PERIOD, units=[an_phat.block, binh_minh.block])
    )
    children = await _children(2)
    by_unit = {next(t for t in r.tags if t.startswith("unit:"))[5:]: r for r in children}
    assert set(by_unit) == {an_phat.block, binh_minh.block}
    for run in children:
        assert run.deployment_id is not None
        assert run.parent_task_run_id is not None  # linked to the monthly run
        assert run.parameters["interactive"].startswith("Không ai trả lời")  # never pauses
        assert run.parameters["unit_block"] == {"$ref": {"block_document_slug": run.name[:-8]}}
        assert run.name.endswith("-01-2026")

    # A worker takes an-phat's run and dies with it: Prefect marks it Crashed.
    crashed = by_unit[an_phat.block].id
    await _set(crashed, Running())
    await _set(crashed, Crashed(message="the worker's machine stopped answering"))
    await _wait_for(crashed, StateType.SCHEDULED)  # the same run, back in the queue
    assert not parent.done()

    # Another worker takes it and finishes; binh-minh's run completes too.
    for run in children:
        await _set(run.id, Running())
        await _set(run.id, Completed(message="Đã nộp / submitted"))
    rows = await parent
    assert [r.unit for r in rows] == [an_phat.block, binh_minh.block]
    assert all(r.status == "submitted" for r in rows)
    assert len(await _children(2)) == 2  # no second run for a unit
    # The month's progress bar (the same artifact as a month on one machine) reached 100 %.
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        (bar, *_) = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["hang-thang-tien-do-monthly-progress-01-2026"])
            ),
            sort="CREATED_DESC",
        )
    assert bar.type == "progress" and float(bar.data) == 100.0
    assert "2/2" in (bar.description or "")


async def test_a_unit_whose_run_failed_or_kept_crashing_is_reported(
    make_world: MakeWorld, deployment: str
) -> None:
    await _clear_children()
    an_phat, binh_minh, *_ = demo_units()
    await make_world([an_phat, binh_minh], dossiers=0, setup=False)
    parent = asyncio.create_task(
        monthly_submission(period=PERIOD, units=[an_phat.block, binh_minh.block])
    )
    children = await _children(2)
    by_unit = {next(t for t in r.tags if t.startswith("unit:"))[5:]: r for r in children}
    await _set(by_unit[binh_minh.block].id, Failed(message="Chưa chọn chứng thư số"))
    keeps_crashing = by_unit[an_phat.block].id
    # Its worker dies; it is scheduled again once (the retry allowed), and dies again.
    await _set(keeps_crashing, Running())
    await _set(keeps_crashing, Crashed(message="worker lost"))
    await _wait_for(keeps_crashing, StateType.SCHEDULED)
    await _set(keeps_crashing, Running())
    await _set(keeps_crashing, Crashed(message="worker lost again"))
    with pytest.raises(UnitsFailed) as failed:
        await parent
    message = str(failed.value)
    assert "2/2" in message and "Chưa chọn chứng thư số" in message
    assert an_phat.block in message and binh_minh.block in message


def _busy() -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/api/flow_runs/filter")
    return httpx.HTTPStatusError(
        "Server error '500 Internal Server Error'",
        request=request,
        response=httpx.Response(500, request=request),
    )


async def test_a_busy_api_answering_500_is_tried_again_and_no_unit_is_started_twice(
    make_world: MakeWorld, deployment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure seen in the month over the pool: one 500 from a loaded server ended the
    monthly run. Creating a child and reading the children are now tried again."""
    import flows._spread as spread

    await _clear_children()
    an_phat, binh_minh, *_ = demo_units()
    await make_world([an_phat, binh_minh], dossiers=0, setup=False)
    monkeypatch.setattr(spread, "API_RETRY_WAITS", (0.05, 0.05, 0.05))
    real_create, real_read = spread.run_deployment, spread._read
    failures = {"create": 0, "read": 0}

    async def create_after_a_500(*args: object, **kwargs: object) -> FlowRun:
        run: FlowRun = await real_create(*args, **kwargs)  # created, then the answer is lost
        if failures["create"] < 2:
            failures["create"] += 1
            raise _busy()
        return run

    async def read_after_a_500(ids: list[UUID]) -> list[FlowRun]:
        if failures["read"] < 2:
            failures["read"] += 1
            raise _busy()
        return await real_read(ids)

    monkeypatch.setattr(spread, "run_deployment", create_after_a_500)
    monkeypatch.setattr(spread, "_read", read_after_a_500)
    parent = asyncio.create_task(
        monthly_submission(period=PERIOD, units=[an_phat.block, binh_minh.block])
    )
    children = await _children(2)
    for run in children:
        await _set(run.id, Running())
        await _set(run.id, Completed(message="Đã nộp / submitted"))
    rows = await parent
    assert failures == {"create": 2, "read": 2}
    assert all(r.status == "submitted" for r in rows)
    assert len(await _children(2)) == 2  # the repeated creation found the same run


async def test_a_refusal_4xx_is_not_tried_again(
    make_world: MakeWorld, deployment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows._spread as spread

    await _clear_children()
    an_phat, *_ = demo_units()
    await make_world([an_phat], dossiers=0, setup=False)
    calls = 0

    async def refused(*args: object, **kwargs: object) -> FlowRun:
        nonlocal calls
        calls += 1
        request = httpx.Request("POST", "http://127.0.0.1/api/deployments/x/create_flow_run")
        raise httpx.HTTPStatusError(
            "Client error '422'", request=request, response=httpx.Response(422, request=request)
        )

    monkeypatch.setattr(spread, "run_deployment", refused)
    with pytest.raises(Exception, match="422"):
        await monthly_submission(period=PERIOD, units=[an_phat.block])
    assert calls == 1
