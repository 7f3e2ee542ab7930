"""Waiting for a transaction's outcome: one function, polling today, with a seam for push.

The signer approves on the phone within a few minutes; until then the transaction is
pending. :func:`wait_for_outcome` reads it on a backoff schedule until a terminal status or
the deadline. A read that fails in transport says nothing about the transaction, so the
caller's ``read`` returns None and the same transaction is read again later: a new
approval is never asked for because of a network error.

The seam where a provider callback wakes a waiting run: :class:`Wakeups`. A waiter
registers its transaction (:meth:`Wakeups.waiting`, a context manager giving the ``wake``
event this function takes); whatever learns that the signer answered (a callback receiver,
or the listener of the Prefect event it emits) calls :meth:`Wakeups.wake` with the
provider and the transaction id, and the waiter reads at once instead of sleeping out its
interval. Nothing else changes: the callback is a hint, the read is still the truth, and
polling stays the fallback when no callback comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator

from esign.models import Transaction, TxStatus

__all__ = ["DEADLINE_GRACE_SECONDS", "WAKEUPS", "Wakeups", "wait_for_outcome"]

#: After the deadline, a little grace for clocks and the provider's own expiry.
DEADLINE_GRACE_SECONDS = 5.0


class Wakeups:
    """The transactions this process is waiting for, each with the event that wakes it.

    Keys are ``(provider, transaction id)`` as the provider names them, so a receiver needs
    nothing but what the callback carries. Events belong to the waiter's event loop; a
    receiver on another thread wakes them through :meth:`wake_threadsafe`.

    Example:
        >>> with WAKEUPS.waiting("misa", tx.id) as wake:  # doctest: +SKIP
        ...     await wait_for_outcome(read, tx, deadline=..., first_delay=2, max_delay=10,
        ...                            wake=wake)
        >>> WAKEUPS.wake("misa", tx.id)  # from the callback receiver  # doctest: +SKIP
        True
    """

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], tuple[asyncio.Event, asyncio.AbstractEventLoop]] = {}

    @contextlib.contextmanager
    def waiting(self, provider: str, transaction_id: str) -> Iterator[asyncio.Event]:
        """Register a waiter (in a running event loop) for as long as the block lasts."""
        key = (provider, transaction_id)
        event = asyncio.Event()
        self._events[key] = (event, asyncio.get_running_loop())
        try:
            yield event
        finally:
            if self._events.get(key, (None,))[0] is event:
                del self._events[key]

    def wake(self, provider: str, transaction_id: str) -> bool:
        """Wake the waiter of this transaction, from its own event loop; False if none."""
        entry = self._events.get((provider, transaction_id))
        if entry is None:
            return False
        entry[0].set()
        return True

    def wake_threadsafe(self, provider: str, transaction_id: str) -> bool:
        """:meth:`wake` from another thread (a receiver's server thread)."""
        entry = self._events.get((provider, transaction_id))
        if entry is None:
            return False
        entry[1].call_soon_threadsafe(entry[0].set)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._events


#: This process's waiters.
WAKEUPS = Wakeups()


async def wait_for_outcome(
    read: Callable[[], Awaitable[Transaction | None]],
    transaction: Transaction,
    *,
    deadline: dt.datetime,
    first_delay: float,
    max_delay: float,
    wake: asyncio.Event | None = None,
    grace: float = DEADLINE_GRACE_SECONDS,
    read_first: bool = True,
) -> Transaction:
    """Read ``transaction`` until it is terminal or the deadline has passed.

    Args:
        read: reads the transaction now; None when it could not be read this time.
        transaction: the transaction as the request returned it.
        deadline: when the provider stops waiting for the signer (UTC).
        first_delay: the first interval between reads, seconds; grows 1.6x per read.
        max_delay: the longest interval.
        wake: set by a provider callback to read at once (cleared after each read).
        grace: how long past the deadline the transaction is still read.
        read_first: read at once (True), or first wait for ``wake`` or ``first_delay``
            (a callback is expected: the signer cannot have answered yet, and the
            callback, or the slow poll, says when to read).

    Returns:
        The terminal transaction; past the deadline, ``EXPIRED`` ("no answer before the
        deadline").
    """
    delay = first_delay
    if not read_first:
        await _pause(wake, max(0.05, min(delay, _remaining(deadline, 1.0))))
        delay = min(delay * 1.6, max_delay)
    while True:
        if wake is not None:
            wake.clear()
        current = await read()
        if current is not None and current.status.terminal:
            return current
        remaining = (deadline - dt.datetime.now(dt.UTC)).total_seconds()
        if remaining <= -grace:
            return Transaction(
                transaction.id,
                transaction.provider,
                TxStatus.EXPIRED,
                message="no answer before the deadline",
            )
        pause = max(0.05, min(delay, max(remaining, 1.0)))
        await _pause(wake, pause)
        delay = min(delay * 1.6, max_delay)


def _remaining(deadline: dt.datetime, floor: float) -> float:
    return max((deadline - dt.datetime.now(dt.UTC)).total_seconds(), floor)


async def _pause(wake: asyncio.Event | None, seconds: float) -> None:
    """Sleep ``seconds``, or less when ``wake`` is set meanwhile."""
    if wake is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), seconds)
