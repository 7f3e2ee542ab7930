"""What a run tells a person: failures in one sentence, pauses that announce themselves,
approval cards that are right, receipts where the run ends, quiet logs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import Artifact, State
from prefect.flow_runs import aresume_flow_run

from blocks import BhxhUnit, MisaESignCredentials
from demo.scenario import CertSpec, demo_units, many_units
from flows import (
    ASK_AGAIN,
    monthly_submission,
    setup_remote_signing,
    sign_and_submit,
    track_results,
)
from tests.flows.conftest import PERIOD, MakeWorld, World, wait_for_paused


async def _artifacts(flow_run_id: UUID) -> list[Artifact]:
    async with get_client() as client:
        return await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )


def _run_id(state: State[Any]) -> UUID:
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    return run_id


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records a person would see (INFO and above) that carry a traceback."""
    return [r for r in caplog.records if r.levelno >= logging.INFO and r.exc_info]


async def _assert_one_sentence(
    state: State[Any], caplog: pytest.LogCaptureFixture, vi: str, en: str, *names: str
) -> str:
    assert state.is_failed()
    message = state.message or ""
    headline = message.split(". ", 1)[0]
    assert vi in headline and en in headline, message
    for name in names:
        assert name in message, (name, message)
    assert "Traceback" not in message and "Flow run encountered" not in message
    assert _tracebacks(caplog) == []
    cards = [a for a in await _artifacts(_run_id(state)) if (a.key or "").startswith("loi-error")]
    (card,) = cards
    assert vi in str(card.data) and "Việc cần làm / what to do" in str(card.data)
    return message


async def test_an_unknown_unit_is_refused_with_the_saved_units_named(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture
) -> None:
    units = many_units(2, prefix="known")
    await make_world(units, setup=False, dossiers=0)
    caplog.set_level(logging.INFO)
    state = await sign_and_submit("known0", period=PERIOD, return_state=True)
    message = await _assert_one_sentence(
        state, caplog, "Không tìm thấy đơn vị", "unit not found", "'known0'", "known-0", "known-1"
    )
    assert "did you mean 'known-0'" in message
    # The same for a run over several units: nothing starts.
    state = await monthly_submission(period=PERIOD, units=["known-1", "nobody"], return_state=True)
    assert state.is_failed() and "'nobody'" in (state.message or "")


async def test_a_wrong_period_fails_before_anything_with_one_sentence(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture
) -> None:
    units = many_units(1, prefix="period")
    world = await make_world(units, setup=False)
    caplog.set_level(logging.INFO)
    state = await sign_and_submit(units[0].block, period="2026-11", return_state=True)
    await _assert_one_sentence(
        state, caplog, "Kỳ kê khai không hợp lệ", "the period is not valid", "2026-11", "MM/yyyy"
    )
    assert world.count("login") == 0


async def test_no_certificate_chosen_says_run_setup(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture
) -> None:
    units = many_units(1, prefix="nochoice")
    world = await make_world(units, setup=False)
    caplog.set_level(logging.INFO)
    state = await sign_and_submit(units[0].block, period=PERIOD, return_state=True)
    await _assert_one_sentence(
        state, caplog, "chưa chọn chứng thư số", "no certificate has been chosen", "T00000X"
    )
    assert world.count("sign_request") == 0


async def test_an_expired_certificate_is_one_sentence(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture
) -> None:
    (unit,) = many_units(1, prefix="expcert")
    old = CertSpec("expcert-0-old", unit.unit.tax_code, unit.unit.name, "OLD", variant="expired")
    unit = dataclasses.replace(unit, certificates=(*unit.certificates, old))
    world = await make_world([unit])
    block = await BhxhUnit.aload_unit(unit.block)
    block.certificate_serial = world.sandbox.pki.get("expcert-0-old").serial_hex.upper()
    await block.asave(unit.block, overwrite=True)
    caplog.set_level(logging.INFO)
    state = await sign_and_submit(unit.block, period=PERIOD, return_state=True)
    await _assert_one_sentence(state, caplog, "không còn dùng được", "can no longer be used", "OLD")
    assert world.count("sign_request") == 0


async def test_a_provider_that_refuses_the_log_in_is_one_sentence(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture
) -> None:
    units = many_units(1, prefix="badpw")
    await make_world(units)
    credentials = await MisaESignCredentials.aload(f"{units[0].block}-misa")
    assert isinstance(credentials, MisaESignCredentials)
    credentials.password = credentials.password.__class__("not-the-password")
    await credentials.asave(f"{units[0].block}-misa", overwrite=True)
    caplog.set_level(logging.INFO)
    state = await sign_and_submit(units[0].block, period=PERIOD, return_state=True)
    message = await _assert_one_sentence(
        state, caplog, "từ chối đăng nhập", "refused the log-in", "T00000X"
    )
    assert "not-the-password" not in message


async def test_vss_refusing_a_dossier_is_one_sentence(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture
) -> None:
    units = many_units(1, prefix="vssno")
    world = await make_world(units)
    block = await BhxhUnit.aload_unit(units[0].block)
    block.ivan_code, block.ivan_name = "00040", None  # VSS has the unit with MISA
    await block.asave(units[0].block, overwrite=True)
    caplog.set_level(logging.INFO)
    state = await sign_and_submit(units[0].block, period=PERIOD, return_state=True)
    await _assert_one_sentence(
        state, caplog, "BHXH từ chối hồ sơ", "VSS refused", "I-VAN 00110, không phải I-VAN 00040"
    )
    assert world.submissions() == {}


async def test_an_unexpected_error_keeps_its_traceback_at_debug_only(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    units = many_units(1, prefix="oops")
    await make_world(units)

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("journal field")

    monkeypatch.setattr("bhxh.pipeline.Pipeline.load", broken)
    caplog.set_level(logging.DEBUG, logger="prefect")
    state = await sign_and_submit(units[0].block, period=PERIOD, return_state=True)
    assert state.is_failed()
    assert (state.message or "").startswith("T00000X: Lỗi không mong đợi / unexpected error.")
    assert "KeyError" in (state.message or "")
    assert _tracebacks(caplog) == []  # nothing a person reads carries it...
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG and r.exc_info]
    assert any(isinstance(r.exc_info[1], KeyError) for r in debug if r.exc_info)  # ...DEBUG does


async def _pending_on_phone(world: World, user: str, within: float = 60) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=world.sandbox.provider_url) as api:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            answer = await api.get(
                f"/phone/api/{user}/pending",
                headers={"x-sandbox-token": world.sandbox.control_token},
            )
            pending: list[dict[str, Any]] = answer.json()["pending"]
            if pending:
                return pending
            assert asyncio.get_running_loop().time() < deadline, "nothing reached the phone"
            await asyncio.sleep(0.2)


async def test_a_pause_announces_what_it_asks_how_to_answer_and_until_when(
    make_world: MakeWorld,
) -> None:
    (unit,) = units = many_units(1, prefix="announce")
    world = await make_world(units)
    world.set_policy(unit, "reject")
    run = asyncio.create_task(sign_and_submit(unit.block, period=PERIOD, interactive=True))
    flow_run_id = await wait_for_paused("sign_and_submit")
    async with get_client() as client:
        paused = await client.read_flow_run(flow_run_id)
        assert paused.state is not None and paused.state.state_details.pause_key
        key = paused.state.state_details.pause_key  # named by the refused request
        assert key.startswith("ask-again-r1-")
        form = json.loads(await client.read_flow_run_input(flow_run_id, f"paused-{key}-schema"))
    assert paused.state is not None
    # The resume form keeps its words: a title and a description for the drop-down.
    action = form["properties"]["action"]
    assert action["title"] == "Làm gì tiếp? / What next?" and " / " in action["description"]
    assert action["default"] == ASK_AGAIN
    message = paused.state.message or ""
    for words in ("gửi lại yêu cầu", "ask the phone again", "⋮", "Resume", "UTC+7", "Hạn / until"):
        assert words in message, (words, message)
    (card,) = [
        a for a in await _artifacts(flow_run_id) if (a.key or "").startswith("cau-hoi-question")
    ]
    assert "⋮" in str(card.data) and "giờ Việt Nam, UTC+7" in str(card.data)
    world.set_policy(unit, "approve")
    await aresume_flow_run(flow_run_id, run_input={"action": ASK_AGAIN})
    await asyncio.wait_for(run, 120)
    (card,) = [
        a for a in await _artifacts(flow_run_id) if (a.key or "").startswith("cau-hoi-question")
    ]
    assert "Đã trả lời lúc / answered at" in str(card.data)
    # One approval card per request: three requests (a rejected one, then two approved).
    approvals = [a for a in await _artifacts(flow_run_id) if (a.key or "").startswith("duyet")]
    assert len({a.key for a in approvals}) == len(approvals) == 3
    described = sorted(a.description or "" for a in approvals)
    assert sum("bị từ chối / rejected" in d for d in described) == 1
    assert sum("đã duyệt / approved" in d for d in described) == 2
    assert all("đang chờ" not in d for d in described)  # none is left saying "waiting"


async def test_a_05_form_is_approval_1_of_1_with_vietnam_time(make_world: MakeWorld) -> None:
    an_phat = dataclasses.replace(demo_units()[0], phone_action="manual")
    world = await make_world([an_phat], setup=False, dossiers=0)
    run = asyncio.create_task(
        setup_remote_signing(an_phat.block, interactive=False, return_state=True)
    )
    (request,) = await _pending_on_phone(world, an_phat.username)
    assert "lần ký 1/1" in request["display_text"]
    async with httpx.AsyncClient(base_url=world.sandbox.provider_url) as api:
        approved = await api.post(
            f"/phone/api/{an_phat.username}/{request['transaction_id']}/approve",
            json={"pin": "123456"},
            headers={"x-sandbox-token": world.sandbox.control_token},
        )
        approved.raise_for_status()
    state = await asyncio.wait_for(run, 120)
    assert state.is_completed()
    (card,) = [a for a in await _artifacts(_run_id(state)) if (a.key or "").startswith("duyet")]
    assert "1 / 1" in str(card.data) and "lần 1/1" in (card.description or "")
    assert "(giờ Việt Nam, UTC+7)" in str(card.data) and "UTC)" not in str(card.data)


async def test_sign_and_submit_ends_with_the_receipt_in_its_summary(
    make_world: MakeWorld,
) -> None:
    units = many_units(1, prefix="receipt")
    await make_world(units, gateway={"numbering_delay_seconds": 1.5, "result_delay_seconds": 60})
    state = await sign_and_submit(
        units[0].block, period=PERIOD, receipt_wait_seconds=30, return_state=True
    )
    (row,) = await state.aresult()
    assert row.so_ho_so and row.dot == 1
    (summary,) = [
        a for a in await _artifacts(_run_id(state)) if (a.key or "").startswith("tong-hop")
    ]
    (shown,) = json.loads(str(summary.data))
    assert shown["Số hồ sơ / soHoSo"] == row.so_ho_so and shown["Đợt / dot"] == 1
    assert "1 có số hồ sơ" in (summary.description or "")


async def test_without_a_wait_the_summary_says_the_receipt_is_awaited(
    make_world: MakeWorld,
) -> None:
    units = many_units(1, prefix="nowait")
    await make_world(units, gateway={"numbering_delay_seconds": 30})
    (row,) = await sign_and_submit(units[0].block, period=PERIOD, receipt_wait_seconds=0)
    assert row.status == "submitted" and not row.so_ho_so


async def test_track_results_by_default_follows_every_open_dossier_05_form_included(
    make_world: MakeWorld,
) -> None:
    an_phat = demo_units()[0]
    await make_world([an_phat], setup=True)  # the 05 change form, then a period's dossier
    await sign_and_submit(an_phat.block, period=PERIOD, receipt_wait_seconds=0)
    # No period: every open dossier of the unit (other tests' units share this API).
    table = await track_results(units=[an_phat.block], max_wait_seconds=0)
    procedures = sorted(row["procedure"] for row in table)
    assert procedures == ["05", "600"]
    assert all(row["so_ho_so"] for row in table)


async def test_task_bookkeeping_lines_are_not_shown_at_info(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture
) -> None:
    units = many_units(1, prefix="quiet")
    await make_world(units)
    caplog.set_level(logging.INFO)
    await sign_and_submit(units[0].block, period=PERIOD)
    # What the run's log in the UI shows: Prefect's run loggers.
    shown = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.INFO and r.name.startswith("prefect")
    ]
    task_lines = [
        r for r in caplog.records if r.name == "prefect.task_runs" and r.levelno >= logging.INFO
    ]
    assert all(not r.getMessage().startswith("Finished in state") for r in task_lines)
    # What carries information stays: the run's own lines, in both languages.
    assert any("Đã nộp hồ sơ" in m and "dossier submitted" in m for m in shown)
    assert not any("1 documents" in m for m in shown)
