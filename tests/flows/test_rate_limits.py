"""Provider rate limits across workers: the pacer takes a slot of a Prefect global
concurrency limit per provider account, so any other process asking the same server waits
for the same slots."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect import get_client
from prefect.concurrency.asyncio import rate_limit

from esign.pacing import PACING
from tasks.pacing import install_pacing, limit_name, prefect_pacer


@pytest.fixture
def no_pacer() -> Iterator[None]:
    previous = PACING.install(None)
    try:
        yield
    finally:
        PACING.install(previous)


async def test_a_paced_call_takes_a_slot_every_other_worker_sees(no_pacer: None) -> None:
    # 0.001 calls per second: one slot, and it will not decay while the test runs.
    pace = prefect_pacer({"misa": 0.001})
    await pace("misa-acct-shared")
    name = limit_name("misa-acct-shared")
    async with get_client() as client:
        limit = await client.read_global_concurrency_limit_by_name(name)
    assert limit.limit == 1
    assert limit.slot_decay_per_second == pytest.approx(0.001)
    assert limit.active_slots == 1
    # Another worker (any client of the same server) finds the slot taken.
    with pytest.raises(TimeoutError):
        await rate_limit(name, occupy=1, timeout_seconds=0.5, strict=True)


async def test_a_provider_without_a_rate_is_not_paced(no_pacer: None) -> None:
    pace = prefect_pacer({"misa": 5})
    await pace("vnpt-acct-free")
    async with get_client() as client:
        names = {g.name for g in await client.read_global_concurrency_limits(limit=200)}
    assert limit_name("vnpt-acct-free") not in names


async def test_the_setting_installs_the_pacer_once(no_pacer: None) -> None:
    assert install_pacing({}) is False
    assert not PACING.installed
    assert install_pacing({"vnpt": 2.0}) is True
    first = PACING.install(PACING._pacer)  # the installed one, put back
    assert install_pacing({"vnpt": 9.0}) is True
    assert PACING._pacer is first
