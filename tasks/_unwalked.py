"""``unit_task``: a task of a unit's run whose arguments Prefect does not walk.

Before a task run starts, Prefect walks every argument twice, element by element (once
to find upstream futures for the run's dependency graph, once to resolve them): a
``DossierView`` is a dataclass holding the dossier's whole journal, so a round of four
dossiers was thousands of visits per task run, and most of a monthly run's
``visit_collection`` calls (issue 29's profile). The arguments of these tasks are never
futures or states: the flows await each task and hand plain values on. So every argument
goes in ``prefect.utilities.annotations.quote``, which Prefect documents for exactly this
("parameter introspection can be a significant performance hit"): the task's function
receives the value itself, unwalked. The UI loses nothing: a task run's arguments are not
sent to the API, and with no future among them its dependency graph was empty already.

The task run is the same otherwise: its name, its logs, its states, no cache, no result
persisted. The Prefect task stays reachable as ``.task``, and its attributes read through
(``.fn``, ``.name``, ``.persist_result``, ``.cache_policy``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Generic, ParamSpec, TypeVar, cast

from prefect import Task
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

__all__ = ["UnitTask", "unit_task"]

P = ParamSpec("P")
R = TypeVar("R")


class UnitTask(Generic[P, R]):
    """An async Prefect task (no cache, no persisted result) called with its arguments
    quoted; any other attribute is the Prefect task's."""

    def __init__(self, fn: Callable[P, Coroutine[Any, Any, R]], name: str) -> None:
        self.task: Task[P, Coroutine[Any, Any, R]] = Task(
            fn=fn, name=name, cache_policy=NONE, persist_result=False
        )
        functools.update_wrapper(self, fn)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        run = cast(Callable[..., Coroutine[Any, Any, R]], self.task)
        return await run(*(quote(a) for a in args), **{k: quote(v) for k, v in kwargs.items()})

    def __getattr__(self, attr: str) -> Any:
        if attr == "task":  # not set yet (a copy being built): no recursion
            raise AttributeError(attr)
        return getattr(self.task, attr)


def unit_task(name: str) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], UnitTask[P, R]]:
    """A :class:`UnitTask` named ``name``.

    Example:
        >>> @unit_task("prepare_round")                    # doctest: +SKIP
        ... async def prepare_round(session, views, round_no, certificate): ...
    """

    def wrap(fn: Callable[P, Coroutine[Any, Any, R]]) -> UnitTask[P, R]:
        return UnitTask(fn, name)

    return wrap
