"""A unit's signing session: the state one unit's run holds, owned by one ``async with``.

Where state lives, and why:

* **The logged-in provider client** (and so the provider's tokens) and **the submission
  port** (the adapter to the unit's I-VAN, opened by its carrier: ``blocks.carriers``) live in a
  :class:`UnitSession`, opened by the run of that unit and closed when the ``async with``
  ends, whatever happens: one owner, one place that closes them. Tokens therefore never
  become a task parameter, a result or a database row; a task receives the session
  object itself (Prefect keeps task parameters in memory and does not persist them).
* **The dossiers' state** lives in the dossier store, through the session's
  ``bhxh.pipeline.Pipeline``: the journal on disk is the truth, re-read by every step.
* **A one-time code** a person typed is handed to the login task as a ``SecretStr``
  argument, used once and dropped: there is no process-wide box to keep it in.

Nothing here is global: two runs in one process (the units of a monthly run) each have
their own session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Self

from bhxh.pipeline import Pipeline, open_store
from bhxh.settings import Settings
from bhxh.submission import SubmissionPort
from blocks.carriers import open_port
from blocks.unit import BhxhUnit
from esign.base import RemoteSigningClient
from tasks.crash import crash_point
from tasks.events import DossierEvents
from tasks.pacing import install_pacing

__all__ = ["RunResources", "UnitSession", "open_unit_session"]


class UnitSession:
    """One unit's open clients and its dossier pipeline, for the length of one run.

    Attributes:
        unit_block: the name of the unit's ``BhxhUnit`` block.
        unit: the unit block as loaded when the session opened.
        settings: the process settings.
        pipeline: the unit's dossier pipeline (store and outbox).
        account: the signer's provider account (which phone to look at); not secret.
        logged_in: whether the provider client has logged in during this session.
    """

    def __init__(
        self,
        unit_block: str,
        unit: BhxhUnit,
        settings: Settings,
        *,
        client: RemoteSigningClient | None,
        account: str,
        port: SubmissionPort | None,
        owns_port: bool = True,
    ) -> None:
        self.unit_block = unit_block
        self.unit = unit
        self.settings = settings
        self.account = account
        self.logged_in = False
        self._client = client
        self._port = port
        self._owns_port = owns_port
        self._stack = AsyncExitStack()
        self.pipeline = Pipeline(
            open_store(settings),
            unit.outbox_path(settings),
            checkpoint=crash_point,
            # A Prefect event per state change of a dossier (tasks/events.py).
            observe=DossierEvents(unit_name=unit.name, account=account, ivan_code=unit.ivan_code),
        )

    def __repr__(self) -> str:
        return f"UnitSession({self.unit.unit_code}, account={self.account!r})"

    @property
    def client(self) -> RemoteSigningClient:
        """The provider client (opened with ``signing=True``)."""
        if self._client is None:
            raise RuntimeError(f"unit {self.unit.unit_code}: session opened without signing")
        return self._client

    @property
    def port(self) -> SubmissionPort:
        """The submission port: the adapter to the unit's I-VAN, by its carrier."""
        if self._port is None:
            raise RuntimeError(f"unit {self.unit.unit_code}: session opened without a port")
        return self._port

    async def __aenter__(self) -> Self:
        if self._client is not None:
            await self._stack.enter_async_context(self._client)
        if self._port is not None and self._owns_port:
            self._stack.push_async_callback(self._port.aclose)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()


class RunResources:
    """What the units of one run share, owned by the run's ``async with``: one submission
    port per key of a carrier that shares its port (``blocks.carriers.Carrier.share_key``:
    the gateway, one port per gateway block, its HTTP client, its capabilities read once).

    A monthly run of hundreds of units would otherwise load the same gateway block, open
    a client and read the carrier's capabilities once per unit. The first unit that needs
    the port opens it while the others wait; if that fails (the carrier unavailable at the
    start of the run), every waiting unit opens one on its own, as if nothing were shared,
    so that one outage does not fail every unit that waited for the same read. It is the
    ``blocks.carriers.PortPool`` that ``open_port`` takes.
    """

    def __init__(self) -> None:
        self._ports: dict[str, SubmissionPort] = {}
        self._opening: dict[str, asyncio.Future[SubmissionPort]] = {}
        self._stack = AsyncExitStack()

    def _keep(self, name: str, port: SubmissionPort) -> SubmissionPort:
        if name not in self._ports:
            self._ports[name] = port
            self._stack.push_async_callback(port.aclose)
        return self._ports[name]

    async def port(
        self, key: str, open_: Callable[[], Awaitable[SubmissionPort]]
    ) -> SubmissionPort:
        """The port under ``key``, opened with ``open_`` at its first use."""
        if key in self._ports:
            return self._ports[key]
        opening = self._opening.get(key)
        if opening is None:
            opening = self._opening[key] = asyncio.ensure_future(open_())
        try:
            return self._keep(key, await asyncio.shield(opening))
        except Exception:
            if self._opening.get(key) is opening:
                del self._opening[key]
        port = await open_()
        if key in self._ports:
            await port.aclose()
            return self._ports[key]
        return self._keep(key, port)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()


@asynccontextmanager
async def open_unit_session(
    unit_block: str,
    unit: BhxhUnit | None = None,
    *,
    settings: Settings | None = None,
    signing: bool = True,
    submission: bool = True,
    shared: RunResources | None = None,
) -> AsyncIterator[UnitSession]:
    """Open a unit's session: load what is needed, create the clients, close them at the end.

    Args:
        unit_block: the ``BhxhUnit`` block name.
        unit: the block, when the caller has loaded it already (saves an API call).
        settings: process settings (default: read now).
        signing: open the provider client (not needed to follow receipts).
        submission: open the submission port, by the carrier the unit's ``route`` names
            (``blocks.carriers.open_port``; an unknown one is refused).
        shared: the run's shared resources: a port the carrier shares (the gateway's)
            comes from there (and is closed with them, not with this session).
    """
    unit = unit or await BhxhUnit.aload_unit(unit_block)
    settings = settings or Settings()
    # Every block is loaded before any client exists, so a failed load leaves nothing open.
    credentials = await unit.aload_credentials() if signing else None
    port: SubmissionPort | None = None
    owns_port = True
    if submission:
        port, owns_port = await open_port(unit, settings, pool=shared)
    if credentials is not None:
        install_pacing(settings.provider_rate_limits)
    client = credentials.get_client() if credentials else None
    account = credentials.account if credentials else ""
    async with UnitSession(
        unit_block, unit, settings, client=client, account=account, port=port, owns_port=owns_port
    ) as session:
        yield session
