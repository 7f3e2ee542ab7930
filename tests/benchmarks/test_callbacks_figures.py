"""The callbacks benchmark counts from the sandbox audit (no timing asserted)."""

from __future__ import annotations

from benchmarks.callbacks import _figures, callback_goal, render_callbacks


def _event(event: str, second: float, **fields: object) -> dict[str, object]:
    return {"time": f"2026-01-10T01:00:{second:06.3f}+00:00", "event": event, **fields}


def test_status_calls_and_the_time_to_the_read_that_saw_the_approval() -> None:
    audit = [
        _event("sign_request", 0, service="misa", transaction="a"),
        _event("status", 1, service="misa", transaction="a", state="pending"),
        _event("approved", 2, service="misa", transaction="a"),
        _event("status", 3.5, service="misa", transaction="a", state="approved"),
        _event("webhook", 2.1, service="misa", transaction="a"),
        _event("approved", 4, service="misa", transaction="b"),
        _event("status", 4.25, service="misa", transaction="b", state="approved"),
    ]
    figures = _figures(audit)
    assert figures["approvals"] == 2
    assert figures["status_calls"] == 3
    assert figures["status_calls_per_approval"] == 1.5
    assert figures["approval_to_next_step_s"] == {"median": 0.875, "max": 1.5}
    assert figures["webhooks"] == 1


def test_the_goal_is_five_times_fewer_status_calls() -> None:
    row = {"approvals": 2, "status_calls": 2, "status_calls_per_approval": 1.0,
           "approval_to_next_step_s": {"median": 0.1, "max": 0.2}, "webhooks": 2,
           "wall_s": 9.0, "units": 1}  # fmt: skip
    polling = {**row, "status_calls_per_approval": 6.0}
    fig = {"scale": 4.0, "approve_after_s": 5.0, "polling": polling, "callbacks": row,
           "fewer_status_calls": 6.0}  # fmt: skip
    assert callback_goal(fig)[2] is True
    assert callback_goal({**fig, "fewer_status_calls": 4.0})[2] is False
    assert "6. Provider callbacks against polling" in "\n".join(render_callbacks(fig))
