"""A unit's tasks hand their arguments to the task function without Prefect walking them
(issue 29: most of a monthly run's ``visit_collection`` calls walked the dossiers' journals
in every task run's arguments)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from prefect import flow
from prefect.context import TaskRunContext
from prefect.utilities import collections

from tasks.dossiers import record_receipt


@dataclass(frozen=True)
class _Step:
    data: dict[str, Any]


@dataclass(frozen=True)
class _View:
    """Shaped like a DossierView: a dataclass holding a long journal of steps."""

    id: str
    steps: tuple[_Step, ...]
    is_registration: bool = False


class _Pipeline:
    def __init__(self) -> None:
        self.given: list[Any] = []
        self.in_task_run: list[bool] = []

    def record_status(self, view: _View, receipt: object) -> None:
        self.given.append(view)
        self.in_task_run.append(TaskRunContext.get() is not None)


class _Session:
    def __init__(self) -> None:
        self.pipeline = _Pipeline()


@pytest.mark.usefixtures("prefect_api")
def test_a_unit_task_gets_its_arguments_unwalked_and_still_runs_as_a_task_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = _View("600-1", tuple(_Step({"n": n, "items": list(range(20))}) for n in range(60)))
    session = _Session()
    receipt = {"status": "received", "messages": [str(n) for n in range(50)]}
    visits = {"nested": 0}
    real = collections.visit_collection

    def counting(*args: Any, **kwargs: Any) -> Any:
        # Only Prefect's own recursion calls the module's name: one call per element
        # visited below the top of an argument.
        visits["nested"] += 1
        return real(*args, **kwargs)

    @flow(name="unwalked-test")
    async def run() -> None:
        await record_receipt(session, view, receipt)  # type: ignore[arg-type]

    monkeypatch.setattr(collections, "visit_collection", counting)
    asyncio.run(run())
    monkeypatch.setattr(collections, "visit_collection", real)

    assert session.pipeline.given == [view] and session.pipeline.given[0] is view
    assert session.pipeline.in_task_run == [True]
    # Walked, a view of 60 steps is over 1,000 visits per pass; unwalked, none but
    # the few of Prefect's own bookkeeping.
    assert visits["nested"] < 50, visits
