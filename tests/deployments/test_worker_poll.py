"""A person who presses Submit in ``make server``'s UI waits for the phone, not for the
worker: its workers ask the pool for runs every few seconds (Prefect's default is 10)."""

from __future__ import annotations

import inspect

from deployments.server import running_stack
from deployments.stack import INTERACTIVE_QUERY_SECONDS, start_worker


def test_make_servers_workers_poll_within_a_few_seconds() -> None:
    assert INTERACTIVE_QUERY_SECONDS <= 3
    for started in (running_stack, start_worker):
        default = inspect.signature(started).parameters["query_seconds"].default
        assert default == INTERACTIVE_QUERY_SECONDS, started.__name__
