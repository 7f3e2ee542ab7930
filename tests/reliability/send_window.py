"""Helpers for the send-window tests: kill a flow process the moment the provider logs its
sign request, and read what the provider, the journal and the approval cards say after.

The kill comes from inside the sandbox's audit writer, in the server thread, right after
the provider has created the transaction and logged it and before it answers: the state
of the one window a step-boundary crash point cannot reach (the provider holds a request,
the journal holds only our reference). Nothing in ``sandbox/`` changes: the test wraps
the running sandbox's audit writer.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from bhxh.pipeline import Step
from demo.scenario import DemoUnit
from sandbox.audit import AuditLog
from tests.reliability.conftest import World

__all__ = [
    "Counts",
    "SignRequestTrap",
    "approved",
    "cards_of",
    "counts",
    "display_text",
    "journalled_transactions",
    "orphans",
    "reference_of",
    "sign_request_trap",
    "sign_requests",
    "submissions_of",
]

#: The journal steps that name a provider's transaction id.
_TX_STEPS = (
    Step.ROUND1_REQUESTED,
    Step.ROUND2_REQUESTED,
    Step.DECLARATIONS_SIGNED,
    Step.SIGNED,
)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class SignRequestTrap:
    """Kills an armed flow process when the provider logs a sign request of its user.

    ``arm(user, pid, delay)``: the next ``sign_request`` of ``user`` kills ``pid`` at once
    (``delay`` 0: before the provider answers) or ``delay`` seconds later (just after the
    answer, while the journal write may or may not be done).
    """

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit
        self._write = audit.write
        self._armed: dict[str, tuple[int, float, int]] = {}
        self._lock = threading.Lock()
        self.fired: list[tuple[str, str, float]] = []  # (user, transaction, delay)
        audit.write = self._trap  # type: ignore[method-assign]

    def arm(self, user: str, pid: int, delay: float = 0.0, skip: int = 0) -> None:
        """Kill ``pid`` at ``user``'s next sign request after ``skip`` others."""
        with self._lock:
            self._armed[user] = (pid, delay, skip)

    def disarm(self, user: str) -> None:
        with self._lock:
            self._armed.pop(user, None)

    def _trap(self, service: str, event: str, **fields: Any) -> None:
        self._write(service, event, **fields)
        if event != "sign_request":
            return
        user = str(fields.get("user"))
        with self._lock:
            armed = self._armed.get(user)
            if armed is None:
                return
            pid, delay, skip = armed
            if skip > 0:
                self._armed[user] = (pid, delay, skip - 1)
                return
            del self._armed[user]
            self.fired.append((user, str(fields.get("transaction")), delay))
        if delay <= 0:
            _kill(pid)
        else:
            threading.Timer(delay, _kill, (pid,)).start()

    def close(self) -> None:
        self._audit.write = self._write  # type: ignore[method-assign]


@contextlib.contextmanager
def sign_request_trap(world: World) -> Iterator[SignRequestTrap]:
    trap = SignRequestTrap(world.sandbox.audit)
    try:
        yield trap
    finally:
        trap.close()


def sign_requests(world: World, unit: DemoUnit) -> list[str]:
    """The transaction ids of every sign request the provider received from ``unit``."""
    return [
        str(e["transaction"])
        for e in world.audit
        if e.get("event") == "sign_request" and e.get("user") == unit.username
    ]


def approved(world: World, unit: DemoUnit) -> set[str]:
    return {
        str(e["transaction"])
        for e in world.audit
        if e.get("event") == "approved" and e.get("user") == unit.username
    }


def journalled_transactions(world: World, units: Iterable[DemoUnit]) -> set[str]:
    """Every provider transaction id any journal entry of these units' dossiers names."""
    found: set[str] = set()
    for unit in units:
        for record in world.records(unit):
            for entry in record.steps:
                if entry.step in _TX_STEPS and entry.data.get("transaction_id"):
                    found.add(str(entry.data["transaction_id"]))
    return found


def orphans(world: World, unit: DemoUnit) -> list[str]:
    """Sign requests the provider received whose transaction id no journal ever held."""
    known = journalled_transactions(world, [unit])
    return [tx for tx in sign_requests(world, unit) if tx not in known]


def display_text(world: World, transaction_id: str) -> str:
    """What the phone showed for a transaction (DataToBeDisplayed / transaction_desc)."""
    state = world.sandbox.provider_app.state.provider
    return str(state.transactions[transaction_id].display_text)


_REFERENCE = re.compile(r"Mã yêu cầu: ([0-9A-F]{8})")


def reference_of(world: World, transaction_id: str) -> str:
    """The request's own reference ("Mã yêu cầu: XXXXXXXX") as the phone showed it."""
    match = _REFERENCE.search(display_text(world, transaction_id))
    assert match, f"{transaction_id}: no reference on the phone"
    return match.group(1)


async def cards_of(unit: DemoUnit) -> list[str]:
    """The markdown of every approval card published for ``unit`` (all runs)."""
    prefix = f"duyet-approve-{unit.unit.code.lower()}-"
    key = ArtifactFilter(key=ArtifactFilterKey(like_=f"{prefix}%"))
    artifacts: list[Any] = []
    async with get_client() as client:  # the session's harness holds other tests' too
        while page := await client.read_artifacts(
            artifact_filter=key, limit=200, offset=len(artifacts)
        ):
            artifacts += page
    return [str(a.data) for a in artifacts if (a.key or "").startswith(prefix)]


@dataclass(frozen=True)
class Counts:
    """What the sandbox audit counted for one unit."""

    requests: int
    approvals: int
    orphans: tuple[str, ...]


def counts(world: World, unit: DemoUnit) -> Counts:
    return Counts(
        len(sign_requests(world, unit)),
        len(approved(world, unit)),
        tuple(orphans(world, unit)),
    )


def submissions_of(world: World, units: Iterable[DemoUnit]) -> Counter[str]:
    ids = {r.id for u in units for r in world.records(u)}
    got = world.submissions()
    return Counter({d: got[d] for d in ids})
