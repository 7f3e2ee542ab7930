"""Which transactions are awaited: a callback for any other is refused as unknown.

The receiver keeps no store and never reads the dossier journal. It learns what runs wait
for from their own approval events (``tasks.events``): ``bhxh.approval.requested`` names
the provider and the transaction id of a request that went to the phone; an approval's
end (approved, rejected, expired, failed) removes it. A transaction is also forgotten
after its deadline (plus a grace), so that nothing lingers when an end was never heard.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterable
from typing import Any, Protocol

__all__ = ["AwaitedTransactions", "EventLike", "follow_approvals"]

log = logging.getLogger("receiver.awaited")

#: How long a transaction stays awaited when its request named no deadline (seconds), and
#: the grace after a deadline (the provider may call back a little late).
DEFAULT_WINDOW_SECONDS = 3600.0
GRACE_SECONDS = 300.0


class EventLike(Protocol):
    """What is read of a Prefect event."""

    @property
    def event(self) -> str: ...

    @property
    def payload(self) -> dict[str, Any]: ...


class AwaitedTransactions:
    """The transactions waiting runs have announced, by ``(provider, transaction id)``.

    Example:
        >>> awaited = AwaitedTransactions()
        >>> awaited.add("misa", "tx-1", unit="TA0001A")
        >>> ("misa", "tx-1") in awaited, ("misa", "tx-2") in awaited
        (True, False)
    """

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], dt.datetime] = {}
        self._unit: dict[tuple[str, str], str] = {}
        #: Whether the approval event stream is open now (the receiver's /health says so).
        self.following = False

    def add(
        self,
        provider: str,
        transaction_id: str,
        expires: dt.datetime | None = None,
        *,
        unit: str = "",
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        until = (expires or now + dt.timedelta(seconds=DEFAULT_WINDOW_SECONDS)) + dt.timedelta(
            seconds=GRACE_SECONDS
        )
        self._until[(provider, transaction_id)] = until
        self._unit[(provider, transaction_id)] = unit
        self._prune(now)

    def discard(self, provider: str, transaction_id: str) -> None:
        self._until.pop((provider, transaction_id), None)
        self._unit.pop((provider, transaction_id), None)

    def unit(self, provider: str, transaction_id: str) -> str:
        """The unit whose request this is (its run listens on it)."""
        return self._unit.get((provider, transaction_id), "")

    def __contains__(self, key: object) -> bool:
        until = self._until.get(key)  # type: ignore[call-overload]
        return until is not None and until > dt.datetime.now(dt.UTC)

    def __len__(self) -> int:
        return len(self._until)

    def _prune(self, now: dt.datetime) -> None:
        for key in [k for k, until in self._until.items() if until <= now]:
            del self._until[key]
            self._unit.pop(key, None)

    def note(self, event: EventLike) -> None:
        """Take in one approval event (others are ignored)."""
        payload = event.payload or {}
        provider, tx = payload.get("provider"), payload.get("transaction_id")
        if not isinstance(provider, str) or not isinstance(tx, str) or not tx:
            return
        if event.event == "bhxh.approval.requested":
            expires: dt.datetime | None = None
            raw = payload.get("expires_at")
            if isinstance(raw, str):
                try:
                    expires = dt.datetime.fromisoformat(raw)
                except ValueError:
                    expires = None
                if expires is not None and expires.tzinfo is None:
                    expires = expires.replace(tzinfo=dt.UTC)
            unit = payload.get("unit")
            self.add(provider, tx, expires, unit=unit if isinstance(unit, str) else "")
        elif event.event.startswith("bhxh.approval."):
            self.discard(provider, tx)


async def follow_approvals(awaited: AwaitedTransactions, events: AsyncIterable[EventLike]) -> None:
    """Feed ``awaited`` from a stream of approval events until the stream ends."""
    try:
        async for event in events:
            awaited.note(event)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning(
            "mất luồng sự kiện phê duyệt / lost the approval event stream (%s)",
            type(exc).__name__,
        )
        raise
