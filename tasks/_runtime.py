"""Process-local state the tasks share: logged-in provider clients and one-shot secrets.

Tokens live only in the client objects held here, in memory, for the life of the process;
they never become a task parameter or result. A one-time code typed by a person is put in
the secret box and handed to the login task as an opaque reference.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from dataclasses import dataclass

from pydantic import SecretStr

from bhxh.gateway import GatewayClient
from blocks.credentials import BhxhGatewayCredentials
from blocks.unit import BhxhUnit
from esign.base import RemoteSigningClient

__all__ = [
    "Session",
    "close_session",
    "close_sessions",
    "crash_point",
    "get_gateway",
    "get_session",
    "pop_secret",
    "put_secret",
]


@dataclass
class Session:
    """A unit's provider client (logged in once per process) and its account name."""

    unit_block: str
    client: RemoteSigningClient
    account: str
    logged_in: bool = False


_sessions: dict[tuple[int, str], Session] = {}
_locks: dict[tuple[int, str], asyncio.Lock] = {}
_secrets: dict[str, SecretStr] = {}


def _key(unit_block: str) -> tuple[int, str]:
    # httpx async clients belong to one event loop: key the cache by loop as well.
    return (id(asyncio.get_running_loop()), unit_block)


async def get_session(unit_block: str, unit: BhxhUnit | None = None) -> Session:
    """The cached session for a unit block, creating (not logging in) a client if needed."""
    key = _key(unit_block)
    lock = _locks.setdefault(key, asyncio.Lock())
    async with lock:
        session = _sessions.get(key)
        if session is None:
            unit = unit or await BhxhUnit.aload_unit(unit_block)
            credentials = await unit.aload_credentials()
            session = Session(unit_block, credentials.get_client(), credentials.account)
            _sessions[key] = session
        return session


async def close_session(unit_block: str) -> None:
    """Close one unit's provider client (the end of that unit's run)."""
    session = _sessions.pop(_key(unit_block), None)
    if session is not None:
        await session.client.aclose()


async def close_sessions() -> None:
    """Close every client of the running loop (end of a run)."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _sessions if k[0] == loop_id]:
        session = _sessions.pop(key)
        await session.client.aclose()
    for key in [k for k in _gateways if k[0] == loop_id]:
        await _gateways.pop(key).aclose()


def put_secret(value: SecretStr) -> str:
    """Keep a secret in memory; returns an opaque reference valid once, in this process."""
    ref = secrets.token_urlsafe(16)
    _secrets[ref] = value
    return ref


def pop_secret(ref: str) -> SecretStr | None:
    return _secrets.pop(ref, None)


_gateways: dict[tuple[int, str], GatewayClient] = {}


async def get_gateway(gateway_block: str) -> GatewayClient:
    """The cached gateway client for a gateway credentials block (per event loop)."""
    key = _key(gateway_block)
    client = _gateways.get(key)
    if client is None:
        loaded: object = await BhxhGatewayCredentials.aload(gateway_block)
        if not isinstance(loaded, BhxhGatewayCredentials):
            raise TypeError(f"block {gateway_block!r} is not a BHXH gateway credentials block")
        client = loaded.get_client()
        _gateways[key] = client
    return client


#: Test hook: the name of the step after which the process kills itself (see crash_point).
CRASH_ENV = "BHXH_TEST_CRASH_AT"


def crash_point(step: str) -> None:
    """TEST HOOK: SIGKILL this process right after ``step`` when ``BHXH_TEST_CRASH_AT=step``.

    The reliability suite (``tests/reliability/test_crash_points.py``) uses it to stop a
    flow process exactly at a step boundary, after the step's result is recorded, the way
    a power cut would. Unset (always, outside those tests) it costs one environment read.
    Steps: ``r1-prepared``, ``r1-sending``, ``r1-requested``, ``r1-approved``,
    ``r1-applying``, ``envelopes-built``, ``r2-prepared``, ``r2-requested``,
    ``r2-approved``, ``submitting``, ``submit-acknowledged``.
    """
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
