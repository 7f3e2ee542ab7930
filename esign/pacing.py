"""Pacing: the seam where every call to a provider waits for its turn under a rate limit.

A provider limits how fast one integrator account may call it. Every unit of a month waits
for its own phone and polls on its own, so without a shared pace a firm's forty units, or
a service's thousand, call the provider as fast as they together poll. The limit must hold
across every worker of a pool, so the pace cannot live in this process: ``esign`` only
offers the seam, and the flow layer installs a pacer that takes a slot of a Prefect global
concurrency limit (a rate limit with slot decay) for the provider account before each call
(``flows/_pacing.py``).

:data:`PACING` holds at most one pacer. :class:`~esign._http.HttpCore` awaits
:meth:`Pacing.before` before every attempt of every request (a retry takes a new turn: it
is a new call for the provider). With no pacer installed, nothing waits (the default, and
what the clients do outside Prefect).

The key of a limit is the provider and the integrator's account at that provider (the
client id the provider counts calls by), never a secret: see :func:`pace_key`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

__all__ = ["PACING", "Pacer", "Pacing", "pace_key"]

#: A pacer: given the pace key, returns when the call may go.
Pacer = Callable[[str], Awaitable[None]]

_UNSAFE = re.compile(r"[^a-z0-9]+")


def pace_key(provider: str, account: str = "", base_url: str = "") -> str:
    """The name of a provider account's pace: ``<provider>-<account>`` in lower-case letters,
    digits and dashes (usable as a Prefect concurrency limit name).

    ``account`` is the integrator's identity at the provider (MISA ``x-clientid``, VNPT
    ``sp_id``): not secret. Without one, the provider's host stands for it (one pace per
    service endpoint).

    Example:
        >>> pace_key("misa", "prefect-bhxh-demo")
        'misa-prefect-bhxh-demo'
        >>> pace_key("vnpt", base_url="https://gwsca.vnpt.vn/sca/sp769/v1")
        'vnpt-gwsca-vnpt-vn'
    """
    who = account or (urlsplit(base_url).hostname or "")
    slug = _UNSAFE.sub("-", who.lower()).strip("-")
    return f"{provider}-{slug}" if slug else provider


class Pacing:
    """The process's pacer, if any (one per process: the flow layer installs it)."""

    def __init__(self) -> None:
        self._pacer: Pacer | None = None
        self.calls = 0

    def install(self, pacer: Pacer | None) -> Pacer | None:
        """Install ``pacer`` (None removes it); returns the one it replaces."""
        previous, self._pacer = self._pacer, pacer
        return previous

    @property
    def installed(self) -> bool:
        return self._pacer is not None

    async def before(self, key: str) -> None:
        """Wait for the turn of a call under ``key`` (returns at once without a pacer)."""
        pacer = self._pacer
        if pacer is None:
            return
        self.calls += 1
        await pacer(key)


#: This process's pacing.
PACING = Pacing()
