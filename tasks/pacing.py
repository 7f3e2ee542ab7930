"""Provider rate limits across every worker: a Prefect global concurrency limit per provider
account, taken before each call the clients make (the seam is ``esign.pacing``).

Set ``BHXH_PROVIDER_RATE_LIMITS`` (calls per second, by provider: ``{"misa": 10}``). For
each provider account a client calls, the limit ``bhxh-rate-<provider>-<account>`` is
created (or brought to the setting) on the Prefect server with that many slots and the
same slot decay per second: a burst of one second's calls, then the rate. Every worker of
the pool asks the same server, so the pace holds for the month as a whole, not per
process. A provider without a rate in the setting is not paced.

The vendor documents state no rate limit for MISA eSign or VNPT SmartCA; Viettel MySign
suggests polling a transaction every 2 s. So the setting is empty by default (the choice is
the operator's), and a firm or service that shares one integrator account across many
workers sets it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping

from prefect import get_client
from prefect.concurrency.asyncio import rate_limit

from esign.pacing import PACING, Pacer

__all__ = ["LIMIT_PREFIX", "install_pacing", "limit_name", "prefect_pacer"]

LIMIT_PREFIX = "bhxh-rate-"


def limit_name(key: str) -> str:
    """The global concurrency limit of a pace key (``esign.pacing.pace_key``)."""
    return f"{LIMIT_PREFIX}{key}"


def prefect_pacer(rates: Mapping[str, float]) -> Pacer:
    """A pacer taking one slot of the account's rate limit per call (``rates`` by provider)."""
    ready: dict[str, asyncio.Lock] = {}
    made: set[str] = set()

    async def pace(key: str) -> None:
        provider = key.split("-", 1)[0]
        rate = rates.get(provider)
        if not rate or rate <= 0:
            return
        name = limit_name(key)
        if name not in made:
            async with ready.setdefault(name, asyncio.Lock()):
                if name not in made:
                    async with get_client() as client:
                        await client.upsert_global_concurrency_limit_by_name(
                            name, max(1, math.ceil(rate)), slot_decay_per_second=float(rate)
                        )
                    made.add(name)
        await rate_limit(name, occupy=1, strict=True)

    return pace


def install_pacing(rates: Mapping[str, float]) -> bool:
    """Install the Prefect pacer in this process when ``rates`` names any provider (once:
    a pacer already installed stays). Returns whether calls are paced."""
    if not any(r > 0 for r in rates.values()):
        return PACING.installed
    if not PACING.installed:
        PACING.install(prefect_pacer(dict(rates)))
    return True
