"""The wait seam: a callback wakes the waiter at once; without one, polling goes on."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from esign.models import Transaction, TxStatus
from esign.waiting import Wakeups, wait_for_outcome


def _tx(status: TxStatus) -> Transaction:
    return Transaction("tx-1", "misa", status)


async def test_a_wake_makes_the_waiter_read_at_once_instead_of_sleeping() -> None:
    wakeups = Wakeups()
    answered = asyncio.Event()
    reads: list[float] = []

    async def read() -> Transaction:
        reads.append(time.monotonic())
        return _tx(TxStatus.SUCCEEDED if answered.is_set() else TxStatus.PENDING)

    async def signer_answers_then_provider_calls_back() -> None:
        await asyncio.sleep(0.2)
        answered.set()
        assert wakeups.wake("misa", "tx-1")

    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    start = time.monotonic()
    with wakeups.waiting("misa", "tx-1") as wake:
        callback = asyncio.create_task(signer_answers_then_provider_calls_back())
        outcome = await wait_for_outcome(
            read, _tx(TxStatus.PENDING), deadline=deadline, first_delay=30, max_delay=30, wake=wake
        )
        await callback
    assert outcome.status is TxStatus.SUCCEEDED
    assert len(reads) == 2  # the first read, then the one the callback asked for
    assert reads[1] - start < 10  # not the 30 s interval: the callback woke it
    assert ("misa", "tx-1") not in wakeups


def test_waking_a_transaction_nobody_waits_for_is_refused() -> None:
    assert Wakeups().wake("misa", "unknown") is False


async def test_when_a_callback_is_expected_the_wait_reads_only_when_woken() -> None:
    wakeups = Wakeups()
    answered = asyncio.Event()
    reads = 0

    async def read() -> Transaction:
        nonlocal reads
        reads += 1
        return _tx(TxStatus.SUCCEEDED if answered.is_set() else TxStatus.PENDING)

    async def signer_answers_then_provider_calls_back() -> None:
        await asyncio.sleep(0.2)
        answered.set()
        assert wakeups.wake("misa", "tx-1")

    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with wakeups.waiting("misa", "tx-1") as wake:
        callback = asyncio.create_task(signer_answers_then_provider_calls_back())
        outcome = await asyncio.wait_for(
            wait_for_outcome(
                read,
                _tx(TxStatus.PENDING),
                deadline=deadline,
                first_delay=60,
                max_delay=60,
                wake=wake,
                read_first=False,
            ),
            30,  # half the first poll interval: only the callback can have ended it
        )
        await callback
    assert outcome.status is TxStatus.SUCCEEDED
    assert reads == 1  # no read at once, no poll: the one the callback asked for


async def test_a_callback_before_the_wait_began_is_not_lost() -> None:
    wakeups = Wakeups()
    reads = 0

    async def read() -> Transaction:
        nonlocal reads
        reads += 1
        return _tx(TxStatus.SUCCEEDED)

    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with wakeups.waiting("misa", "tx-1") as wake:
        assert wakeups.wake("misa", "tx-1")  # the callback came while the run was busy
        outcome = await asyncio.wait_for(
            wait_for_outcome(
                read,
                _tx(TxStatus.PENDING),
                deadline=deadline,
                first_delay=60,
                max_delay=60,
                wake=wake,
                read_first=False,
            ),
            30,
        )
    assert outcome.status is TxStatus.SUCCEEDED
    assert reads == 1
