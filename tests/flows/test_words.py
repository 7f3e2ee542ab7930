"""The words a person reads, scanned in a representative set of runs: setup (one approval
for the 05 form, a certificate to choose), sign_and_submit (a rejection, the question,
asked again), a unit with no certificate, monthly_submission over every unit, and
track_results. Every log line, state message, artifact, event and pause text they
emit is read back from the API and checked by the rule of ``tests.words``: no English
word inside a Vietnamese sentence, no sentence said twice."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterStartTime,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.flow_runs import aresume_flow_run

import tasks.events
from demo.scenario import demo_units, many_units, tour_unit
from flows import (
    ASK_AGAIN,
    monthly_submission,
    setup_remote_signing,
    sign_and_submit,
    track_results,
)
from tests.flows.conftest import PERIOD, MakeWorld, wait_for_paused
from tests.words import offences


@dataclasses.dataclass
class Seen:
    """What the runs emitted, as (where, text) pairs."""

    texts: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    states: dict[str, list[tuple[str, str]]] = dataclasses.field(default_factory=dict)
    artifacts: list[Any] = dataclasses.field(default_factory=list)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


async def _collect(since: dt.datetime, events: list[dict[str, Any]]) -> Seen:
    seen = Seen(events=events)
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since))
        )
        ids = [r.id for r in runs]
        offset = 0
        while True:
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)),
                limit=200,
                offset=offset,
            )
            seen.texts += [
                (f"log {log.name}", log.message)
                for log in logs
                # Prefect's own line; the state message it quotes is read with the states.
                if not log.message.startswith("Finished in state")
            ]
            offset += len(logs)
            if len(logs) < 200:
                break
        for run in runs:
            flow = await client.read_flow(run.flow_id)
            states = await client.read_flow_run_states(run.id)
            seen.states.setdefault(flow.name, []).extend(
                (s.type.value, s.message or "") for s in states
            )
            seen.texts += [(f"state {flow.name} {s.type.value}", s.message or "") for s in states]
            inputs = await client.filter_flow_run_input(
                flow_run_id=run.id, key_prefix="paused-", limit=100, exclude_keys=set()
            )
            for value in inputs:
                data = json.loads(value.value)
                seen.texts += [(f"pause {value.key}", s) for s in _strings(data)]
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids))
        )
        seen.artifacts = artifacts
        for artifact in artifacts:
            data = artifact.data
            if isinstance(data, str) and artifact.type == "table":
                data = json.loads(data)
            seen.texts += [(f"artifact {artifact.key}", s) for s in _strings(data)]
            seen.texts.append((f"artifact {artifact.key} description", artifact.description or ""))
    for event in events:
        seen.texts += [(f"event {event['event']}", s) for s in _strings(event.get("resource"))]
        seen.texts += [(f"event {event['event']}", s) for s in _strings(event.get("payload"))]
    return seen


async def _answer_when_paused(flow_name: str, run_input: dict[str, Any]) -> UUID:
    flow_run_id = await wait_for_paused(flow_name)
    await aresume_flow_run(flow_run_id, run_input=run_input)
    return flow_run_id


#: The runs are made once for the module's tests (they only read what was emitted).
_SEEN: list[Seen] = []


@pytest.fixture
async def seen(make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch) -> Seen:
    if _SEEN:
        return _SEEN[0]
    events: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.events, "emit_event", lambda **event: events.append(event))
    since = dt.datetime.now(dt.UTC)
    an_phat, _binh_minh, cuu_long, *_ = demo_units()
    tour = dataclasses.replace(tour_unit(), phone_action="approve", approve_after=0.2)
    (refusing,) = many_units(1, prefix="words")
    world = await make_world([an_phat, tour, refusing, cuu_long], setup=False)
    await setup_remote_signing(an_phat.block, interactive=False)
    await setup_remote_signing(refusing.block, interactive=False)
    # The tour unit's two certificates: setup asks which one.
    setup = asyncio.create_task(setup_remote_signing(tour.block, interactive=True))
    async with get_client() as client:
        paused = await wait_for_paused("setup_remote_signing")
        schema = json.loads(await client.read_flow_run_input(paused, "paused-certificate-schema"))
    serial = schema["properties"]["serial"]["default"]
    await aresume_flow_run(paused, run_input={"serial": serial})
    await asyncio.wait_for(setup, 120)
    # A rejection, the question, asked again.
    world.set_policy(refusing, "reject")
    run = asyncio.create_task(sign_and_submit(refusing.block, period=PERIOD, interactive=True))
    paused = await wait_for_paused("sign_and_submit")
    world.set_policy(refusing, "approve")
    await aresume_flow_run(paused, run_input={"action": ASK_AGAIN})
    await asyncio.wait_for(run, 120)
    # A unit without a certificate chosen; then the month over every unit, then track.
    await sign_and_submit(cuu_long.block, period=PERIOD, return_state=True)
    # This world's units only: other modules' units may share the test API's blocks.
    ours = [u.block for u in world.scenario.units]
    await monthly_submission(period=PERIOD, units=ours, return_state=True)
    await track_results(units=ours, max_wait_seconds=0, return_state=True)
    _SEEN.append(await _collect(since, events))
    return _SEEN[0]


async def test_no_english_word_inside_a_vietnamese_sentence_in_what_runs_emit(
    seen: Seen,
) -> None:
    assert len(seen.texts) > 100 and seen.events  # the runs did emit
    (Path(tempfile.gettempdir()) / "words-seen.json").write_text(json.dumps(seen.texts))
    found = offences(seen.texts)
    if found:  # the whole list, for the one who fixes them
        (Path(tempfile.gettempdir()) / "words-offences.txt").write_text("\n".join(found))
    assert found == []


def _completed(seen: Seen, flow: str) -> list[str]:
    return [m for kind, m in seen.states.get(flow, []) if kind == "COMPLETED"]


async def test_a_completed_run_says_its_outcome_in_its_state_message(seen: Seen) -> None:
    signed = _completed(seen, "sign_and_submit")
    assert signed and all(re.search(r"số hồ sơ \d{5}/\d{4}/\d{5}", m) for m in signed)
    (setup, *_) = _completed(seen, "setup_remote_signing")
    assert "ký bằng chứng thư" in setup and " / " in setup
    assert all(_completed(seen, flow) for flow in ("track_results", "setup_remote_signing"))


async def test_a_request_sent_to_the_phone_is_named_as_the_phone_names_it(seen: Seen) -> None:
    sent = [t for w, t in seen.texts if w.startswith("log ") and "Đã gửi yêu cầu ký" in t]
    assert sent and all(re.search(r"Mã yêu cầu [0-9A-F]{8}, tới điện thoại", t) for t in sent)
    # The provider's transaction id only after the reference, for support, never first.
    assert all(not re.match(r"Đã gửi yêu cầu ký [0-9a-f]{8}-", t) for t in sent), sent


async def test_the_refusal_is_named_in_the_phones_words(seen: Seen) -> None:
    (question,) = [
        t
        for w, t in seen.texts
        if w.startswith("pause paused-ask-again-r1-") and w.endswith("-description")
    ]
    assert re.search(r"Mã yêu cầu [0-9A-F]{8}, lần duyệt 1/2, bị từ chối", question)
    assert "USER_REJECTED" not in question and "lượt" not in question.split(" / ")[0]
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", question)  # no transaction UUID
    forms = [
        e["resource"]["prefect.resource.name"]
        for e in seen.events
        if e["event"].startswith("bhxh.approval") and e["payload"]["procedures"] == ["05"]
    ]
    assert forms and all("lần duyệt 1/1 / approval 1 of 1" in name for name in forms)


async def test_runs_over_several_units_keep_a_progress_artifact(seen: Seen) -> None:
    progress = {a.key: a for a in seen.artifacts if a.type == "progress"}
    monthly = progress["hang-thang-tien-do-monthly-progress-01-2026"]
    assert float(monthly.data) == 100.0
    assert re.search(
        r"(\d+)/\1 đơn vị xong / progress of monthly submission 01/2026: \1 of \1 unit",
        monthly.description or "",
    )
    assert float(progress["ket-qua-tien-do-results-progress-open"].data) == 100.0
