"""Waiting for a transaction's outcome: one function, polling today, with a seam for push.

The signer approves on the phone within a few minutes; until then the transaction is
pending. :func:`wait_for_outcome` reads it on a backoff schedule until a terminal status or
the deadline. A read that fails in transport says nothing about the transaction, so the
caller's ``read`` returns None and the same transaction is read again later: a new
approval is never asked for because of a network error.

The seam: a provider that calls back when the signer answers (MISA RemoteSigning documents
an optional webhook) only has to set the ``wake`` event; the waiter then reads at once
instead of sleeping out its interval. Nothing else changes: the callback is a hint, the
read is still the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable

from esign.models import Transaction, TxStatus

__all__ = ["DEADLINE_GRACE_SECONDS", "wait_for_outcome"]

#: After the deadline, a little grace for clocks and the provider's own expiry.
DEADLINE_GRACE_SECONDS = 5.0


async def wait_for_outcome(
    read: Callable[[], Awaitable[Transaction | None]],
    transaction: Transaction,
    *,
    deadline: dt.datetime,
    first_delay: float,
    max_delay: float,
    wake: asyncio.Event | None = None,
    grace: float = DEADLINE_GRACE_SECONDS,
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

    Returns:
        The terminal transaction; past the deadline, ``EXPIRED`` ("no answer before the
        deadline").
    """
    delay = first_delay
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
        if wake is None:
            await asyncio.sleep(pause)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), pause)
        delay = min(delay * 1.6, max_delay)
