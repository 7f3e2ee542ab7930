"""A unit's signing round hears its provider's callbacks (the receiver's Prefect events,
``tasks.callbacks``) and turns each into a wake-up of the wait (``esign.waiting.WAKEUPS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.events.schemas.events import ResourceSpecification

from esign.waiting import WAKEUPS
from tasks.callbacks import CALLBACK_EVENT

__all__ = ["CallbackListener", "listen_for_callbacks"]

log = logging.getLogger("flows.callbacks")


class CallbackListener:
    """The callbacks a unit's run has heard: each wakes its waiter (``WAKEUPS``), and is
    kept, so that a wait that begins after its callback came still reads at once."""

    #: The longest a request waits for the subscription to be open (seconds).
    READY_SECONDS = 10.0

    def __init__(self) -> None:
        self._heard: set[tuple[str, str]] = set()
        self._ready = asyncio.Event()

    async def ready(self) -> None:
        """Until the subscription is open (or failed, or ``READY_SECONDS`` passed): a
        request sent after this cannot have its callback missed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), self.READY_SECONDS)

    def heard(self, provider: str, transaction_id: str) -> bool:
        return (provider, transaction_id) in self._heard

    def hear(self, provider: str, transaction_id: str) -> None:
        self._heard.add((provider, transaction_id))
        WAKEUPS.wake(provider, transaction_id)


@contextlib.asynccontextmanager
async def listen_for_callbacks(unit_code: str) -> AsyncIterator[CallbackListener]:
    """While the block lasts, hear the callback events of ``unit_code``'s transactions.

    Opened when a signing round begins, so that it opens while the round prepares its
    templates; the round awaits :meth:`CallbackListener.ready` before it sends its
    request (the transaction id comes only in the answer, and the signer may approve at
    once). Filtered on the server to this unit's label. A stream that cannot be opened or
    breaks is logged and left: the waits' slow polling goes on without it.
    """
    listener = CallbackListener()

    async def listen() -> None:
        event_filter = EventFilter(
            event=EventNameFilter(name=[CALLBACK_EVENT]),
            resource=EventResourceFilter(labels=ResourceSpecification({"bhxh.unit": unit_code})),
        )
        try:
            async with get_events_subscriber(filter=event_filter, reconnection_attempts=2) as sub:
                listener._ready.set()
                async for event in sub:
                    provider = event.payload.get("provider")
                    tx = event.payload.get("transaction_id")
                    if isinstance(provider, str) and isinstance(tx, str):
                        listener.hear(provider, tx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stream is a hint: polling goes on without it
            log.warning(
                "đơn vị %s: không nghe được tín hiệu của nhà cung cấp, tiếp tục hỏi định kỳ / "
                "unit %s: could not listen for the provider's callbacks (%s); polling goes on",
                unit_code,
                unit_code,
                type(exc).__name__,
            )
        finally:
            listener._ready.set()

    task = asyncio.create_task(listen())
    try:
        # The subscription opens while the round prepares; ``ready`` before the request.
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
