"""A question that may wait long suspends a run a worker took from the pool (the process
ends, the worker holds nothing); answered, the run is rescheduled and runs again from the
top, continuing from the journal and finding its answer: no approval asked twice.

No worker here: the test plays it, creating the run from a deployment on a process pool
and running it in this process with Prefect's flow engine, once until it suspends and
once more after the answer. The end-to-end test (``tests/e2e/test_suspend_workers.py``)
does the same with a real server and two workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any
from uuid import UUID

import pytest
from prefect import Flow, get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.objects import State, StateType
from prefect.exceptions import ObjectAlreadyExists, Pause
from prefect.flow_engine import run_flow
from prefect.flow_runs import aresume_flow_run

from blocks import BhxhUnit
from demo.scenario import CertSpec, DemoUnit, many_units
from flows import setup_remote_signing, sign_and_submit
from flows._pauses import ASK_AGAIN, STOP, SUSPENDED
from flows.errors import StoppedByOperator
from tasks import dossiers, signing
from tests.flows.conftest import PERIOD, MakeWorld, wait_for_paused

POOL = "suspend-test-pool"


async def _label_of(run_id: UUID, serial: str) -> str:
    """The drop-down line of the certificate ``serial`` in the run's certificate form."""
    import json

    from prefect import get_client

    async with get_client() as client:
        schema = json.loads(await client.read_flow_run_input(run_id, "paused-certificate-schema"))
    (label,) = [c for c in schema["properties"]["serial"]["enum"] if serial in c]
    return str(label)


async def _deployment_run(flow: Flow[Any, Any], entrypoint: str, **parameters: Any) -> UUID:
    """A manual run of a deployment of ``flow`` on a process pool (no worker polls it)."""
    async with get_client() as client:
        with contextlib.suppress(ObjectAlreadyExists):
            await client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
        flow_id = await client.create_flow(flow)
        deployment_id = await client.create_deployment(
            flow_id=flow_id,
            name="suspend-test",
            work_pool_name=POOL,
            entrypoint=entrypoint,
        )
        run = await client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
    assert run.work_pool_name == POOL and run.deployment_id == deployment_id
    return run.id


async def _execute(flow: Flow[Any, Any], run_id: UUID) -> State[Any]:
    """What a worker's flow-run process does: run the flow run; a suspension raises Pause."""
    async with get_client() as client:
        flow_run = await client.read_flow_run(run_id)
    outcome = run_flow(flow, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")
    assert asyncio.iscoroutine(outcome)
    state = await outcome
    assert isinstance(state, State)
    return state


async def _suspended(flow: Flow[Any, Any], run_id: UUID) -> State[Any]:
    with pytest.raises(Pause):
        await _execute(flow, run_id)
    async with get_client() as client:
        run = await client.read_flow_run(run_id)
    assert run.state is not None
    assert run.state.type == StateType.PAUSED and run.state.name == "Suspended"
    assert run.state.state_details.pause_reschedule
    return run.state


async def _state(run_id: UUID) -> State[Any]:
    async with get_client() as client:
        run = await client.read_flow_run(run_id)
    assert run.state is not None
    return run.state


def _twin(prefix: str, **changes: Any) -> DemoUnit:
    (unit,) = many_units(1, prefix=prefix)
    second = CertSpec(f"{prefix}-0-second", unit.unit.tax_code, unit.unit.name, "SECOND")
    return dataclasses.replace(unit, certificates=(*unit.certificates, second), **changes)


def test_tasks_persist_no_result_so_a_suspension_writes_nothing() -> None:
    """A suspended run needs no result storage: the journal is the record; a task's result
    (a logged-in client's account, certificates, signatures) is never written anywhere."""
    found = [
        obj
        for module in (dossiers, signing)
        for obj in vars(module).values()
        if hasattr(obj, "persist_result") and hasattr(obj, "cache_policy")
    ]
    assert len(found) >= 10
    for task in found:
        assert task.persist_result is False, task.name
        assert type(task.cache_policy).__name__ == "_None", task.name


async def test_the_certificate_choice_suspends_and_the_answer_is_found_on_the_re_run(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture
) -> None:
    unit = _twin("susp", two_factor=True)
    world = await make_world([unit], setup=False, dossiers=0)
    second = world.sandbox.pki.get("susp-0-second").serial_hex.upper()
    code = world.scenario.two_factor_codes[unit.username]
    run_id = await _deployment_run(
        setup_remote_signing, "flows/setup.py:setup_remote_signing", unit_block=unit.block
    )

    async def answer_the_code() -> None:  # the one-time code pauses in-process
        paused = await wait_for_paused("setup_remote_signing")
        assert paused == run_id and (await _state(run_id)).name == "Paused"
        await aresume_flow_run(run_id, run_input={"code": code})

    answering = asyncio.create_task(answer_the_code())
    state = await _suspended(setup_remote_signing, run_id)
    await answering
    assert state.state_details.pause_key == "certificate"
    assert "chọn chứng thư số để ký" in (state.message or "")
    assert SUSPENDED in caplog.text
    assert (await BhxhUnit.aload_unit(unit.block)).certificate_serial != second

    await aresume_flow_run(run_id, run_input={"serial": await _label_of(run_id, second)})
    assert (await _state(run_id)).type == StateType.SCHEDULED  # back to the pool
    answering = asyncio.create_task(answer_the_code())  # the re-run logs in again
    state = await _execute(setup_remote_signing, run_id)
    await answering
    assert state.is_completed(), state.message
    result = await state.aresult()
    assert result.certificate_serial == second
    assert (await BhxhUnit.aload_unit(unit.block)).certificate_alias == "SECOND"
    # One log-in with a code per run of the flow: the re-run needed a new one.
    assert world.count("login", user=unit.username, two_factor=True) == 2
    # The second certificate is not the one VSS has: one 05 change, one approval.
    assert (result.registration_dossier or "").startswith("05-")
    assert world.count("sign_request", user=unit.username) == 1
    assert world.count("approved", user=unit.username) == 1
    async with get_client() as client:
        run = await client.read_flow_run(run_id)
        inputs = await client.filter_flow_run_input(
            run_id, key_prefix="paused", limit=50, exclude_keys=set()
        )
    assert run.empirical_policy.pause_keys == {"otp-0", "certificate", "otp-0-2"}
    keys = {i.key for i in inputs}
    assert "paused-certificate-response" in keys
    assert not any(k.startswith("paused-otp") and k.endswith("-response") for k in keys)
    assert all(code not in i.value for i in inputs)


@pytest.mark.parametrize("answer", [ASK_AGAIN, STOP], ids=["ask-again", "stop"])
async def test_ask_again_after_a_rejection_suspends_and_the_answer_decides_the_re_run(
    make_world: MakeWorld, answer: str
) -> None:
    (unit,) = units = many_units(1, prefix="susagain" if answer == ASK_AGAIN else "susstop")
    world = await make_world(units)
    world.set_policy(unit, "reject")
    run_id = await _deployment_run(
        sign_and_submit,
        "flows/sign_and_submit.py:sign_and_submit",
        unit_block=unit.block,
        period=PERIOD,
        receipt_wait_seconds=5,
    )
    state = await _suspended(sign_and_submit, run_id)
    assert (state.state_details.pause_key or "").startswith("ask-again-r1-")
    assert world.count("sign_request", user=unit.username) == 1
    assert world.count("rejected", user=unit.username) == 1

    world.set_policy(unit, "approve")
    await aresume_flow_run(run_id, run_input={"action": answer})
    state = await _execute(sign_and_submit, run_id)
    if answer == STOP:
        assert state.is_cancelled()
        with pytest.raises(StoppedByOperator):
            await state.aresult()
        assert world.count("sign_request", user=unit.username) == 1
        assert world.submissions() == {}
        return
    assert state.is_completed(), state.message
    (row,) = await state.aresult()
    assert row.acknowledgement
    # The same counts as the run that paused in-process: nothing asked twice.
    assert world.count("sign_request", user=unit.username) == 3
    assert world.count("approved", user=unit.username) == 2
    assert world.count("rejected", user=unit.username) == 1
    assert list(world.submissions().values()) == [1]


async def test_an_export_receipt_suspends_after_the_approvals_and_none_is_asked_again(
    make_world: MakeWorld,
) -> None:
    (unit,) = units = [dataclasses.replace(many_units(1, prefix="susexp")[0], route="export")]
    world = await make_world(units)
    run_id = await _deployment_run(
        sign_and_submit,
        "flows/sign_and_submit.py:sign_and_submit",
        unit_block=unit.block,
        period=PERIOD,
    )
    state = await _suspended(sign_and_submit, run_id)
    assert (state.state_details.pause_key or "").startswith("receipt-")
    assert world.count("approved", user=unit.username) == 2
    (record,) = world.records(unit)
    steps_before = [s.step for s in record.steps]

    await aresume_flow_run(run_id, run_input={"so_ho_so": "04567/2026/07906", "dot": 2})
    state = await _execute(sign_and_submit, run_id)
    assert state.is_completed(), state.message
    (row,) = await state.aresult()
    assert row.status == "receipt" and row.so_ho_so == "04567/2026/07906"
    assert world.count("approved", user=unit.username) == 2
    assert world.count("sign_request", user=unit.username) == 2
    (record,) = world.records(unit)
    assert [s.step for s in record.steps][: len(steps_before)] == steps_before
    assert [s.step.value for s in record.steps[len(steps_before) :]] == ["receipt"]


async def test_a_run_without_a_deployment_still_pauses_in_process(
    make_world: MakeWorld,
) -> None:
    unit = _twin("inproc")
    world = await make_world([unit], setup=False, dossiers=0)
    second = world.sandbox.pki.get("inproc-0-second").serial_hex.upper()
    run = asyncio.create_task(setup_remote_signing(unit.block, interactive=True))
    run_id = await wait_for_paused("setup_remote_signing")
    assert (await _state(run_id)).name == "Paused"
    await aresume_flow_run(run_id, run_input={"serial": await _label_of(run_id, second)})
    result = await asyncio.wait_for(run, 120)
    assert result.certificate_serial == second
