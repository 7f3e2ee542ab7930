"""The carriers, by registry: a carrier name -> the block it reads -> a submission port.

A unit's carrier is how its signed dossiers reach its I-VAN, named in ``BhxhUnit.route``:
``"gateway"`` (an adapter to the I-VAN's API, ``bhxh.submission.GatewayAdapter``, over a
``BhxhGatewayCredentials`` block) or ``"export"`` (files and a manifest for the I-VAN's
own software, ``bhxh.submission.ExportAdapter``, into a Prefect file-system block or the
unit's outbox). The unit's session opens the port with :func:`open_port`, which asks the
registry; an unknown name is a clear error naming the known ones, never a fallback.

Adding a carrier is one adapter implementing ``bhxh.submission.SubmissionPort`` (the
conformance kit, ``bhxh.conformance``, checks it) and one registry entry:
``@register_carrier`` on the function that opens the adapter for a unit. A unit then names
it in ``route``.

The unit's ``route`` is checked against the registry when its port is opened, not when
the block is loaded: a saved unit naming a carrier that is not registered in this process
still loads, and its run stops with :class:`UnknownCarrier`. The unit form offers the
carriers registered when the block type's schema was made (``prefect block register -m
blocks``: the built-in ones).

Example:
    ```python
    from blocks.carriers import CarrierUnit, register_carrier

    @register_carrier("acme", block_type=AcmeIvanCredentials)
    async def open_acme(unit: CarrierUnit, settings: Settings) -> SubmissionPort:
        block = await AcmeIvanCredentials.aload(unit.gateway_block)
        return AcmeAdapter(block.get_client())
    ```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from prefect.blocks.core import Block
from prefect.filesystems import WritableFileSystem

from bhxh.models import UnitInfo
from bhxh.settings import Settings
from bhxh.submission import (
    ExportAdapter,
    ExportSink,
    GatewayAdapter,
    LocalFolderSink,
    SubmissionPort,
)
from blocks._registry import Registry
from blocks.credentials import BhxhGatewayCredentials
from blocks.export import aload_sink

__all__ = [
    "Carrier",
    "CarrierUnit",
    "PortPool",
    "UnknownCarrier",
    "carrier_names",
    "get_carrier",
    "open_port",
    "register_carrier",
    "unregister_carrier",
]


class UnknownCarrier(ValueError):
    """A unit names a carrier (its ``route``) no carrier is registered for."""


class CarrierUnit(Protocol):
    """What a carrier reads of a unit (``blocks.unit.BhxhUnit`` is one)."""

    @property
    def unit_code(self) -> str: ...

    @property
    def route(self) -> str: ...

    @property
    def gateway_block(self) -> str: ...

    @property
    def export_block(self) -> str | None: ...

    def unit_info(self) -> UnitInfo: ...

    def outbox_path(self, settings: Settings | None = None) -> Path: ...

    async def aload_gateway(self) -> BhxhGatewayCredentials: ...


#: Opens a fresh submission port for a unit (the caller closes it).
OpenPort = Callable[[CarrierUnit, Settings], Awaitable[SubmissionPort]]


@dataclass(frozen=True)
class Carrier:
    """One registered carrier.

    Attributes:
        name: the registry key, what ``BhxhUnit.route`` names (``"gateway"``).
        block_type: the block a unit names for it (None: it needs none).
        open: opens a fresh port for a unit.
        share_key: units of one run with the same key share one port, owned by the run
            (the gateway: one per gateway block); None: one port per unit's session.
    """

    name: str
    block_type: type[Block] | None
    open: OpenPort
    share_key: Callable[[CarrierUnit], str] | None = None


_REGISTRY: Registry[Carrier] = Registry(
    "Tuyến nộp hồ sơ", ("carrier", "carriers"), UnknownCarrier, owner=lambda c: c.open.__qualname__
)

F = TypeVar("F", bound=OpenPort)


def register_carrier(
    name: str,
    *,
    block_type: type[Block] | None,
    share_key: Callable[[CarrierUnit], str] | None = None,
) -> Callable[[F], F]:
    """Decorator: make the decorated function the port opener of carrier ``name``."""
    if not name or name != name.strip().lower():
        raise ValueError(f"a carrier name must be a lower-case name, not {name!r}")

    def register(open_: F) -> F:
        _REGISTRY.add(
            name,
            Carrier(name, block_type, open_, share_key),
            same=lambda a, b: a.open is b.open or a.open.__qualname__ == b.open.__qualname__,
        )
        return open_

    return register


def unregister_carrier(name: str) -> None:
    """Remove a carrier (tests that register a throwaway one)."""
    _REGISTRY.remove(name)


def carrier_names() -> list[str]:
    """The registered carrier names, sorted."""
    return _REGISTRY.names()


def get_carrier(name: str) -> Carrier:
    """The carrier registered as ``name``.

    Raises:
        UnknownCarrier: no carrier of that name is registered (the message lists them).
    """
    return _REGISTRY.get(name)


class PortPool(Protocol):
    """The ports the units of one run share (``tasks.session.RunResources``)."""

    async def port(
        self, key: str, open_: Callable[[], Awaitable[SubmissionPort]]
    ) -> SubmissionPort:
        """The pool's port under ``key``, opened with ``open_`` at its first use."""
        ...


async def open_port(
    unit: CarrierUnit, settings: Settings | None = None, *, pool: PortPool | None = None
) -> tuple[SubmissionPort, bool]:
    """The unit's submission port, opened by the carrier its ``route`` names, and whether
    the caller owns it (closes it).

    With a ``pool`` (the run's shared resources), a carrier that shares its port gives
    the pool's port for the unit's key; the pool owns it.

    Raises:
        UnknownCarrier: the unit names a carrier that is not registered.
    """
    carrier = get_carrier(unit.route)
    chosen = settings or Settings()
    if pool is not None and carrier.share_key is not None:
        key = f"{carrier.name}:{carrier.share_key(unit)}"
        return await pool.port(key, lambda: carrier.open(unit, chosen)), False
    return await carrier.open(unit, chosen), True


# ------------------------------------------------------------------------------ built-in
def _gateway_block(unit: CarrierUnit) -> str:
    return unit.gateway_block


@register_carrier("gateway", block_type=BhxhGatewayCredentials, share_key=_gateway_block)
async def open_gateway(unit: CarrierUnit, settings: Settings) -> SubmissionPort:
    """The I-VAN's API through the unit's gateway block (its capabilities read once)."""
    gateway_client = (await unit.aload_gateway()).get_client()
    try:
        return await GatewayAdapter.connect(gateway_client)
    except BaseException:
        await gateway_client.aclose()
        raise


@register_carrier("export", block_type=WritableFileSystem)
async def open_export(unit: CarrierUnit, settings: Settings) -> SubmissionPort:
    """Files for the I-VAN's software: into the unit's export block, else its outbox."""
    sink: ExportSink = (
        await aload_sink(unit.export_block)
        if unit.export_block
        else LocalFolderSink(unit.outbox_path(settings))
    )
    info = unit.unit_info()
    return ExportAdapter(sink, ivan_code=info.ivan_code, ivan_name=info.ivan_name)
