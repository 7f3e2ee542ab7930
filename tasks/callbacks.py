"""Provider callbacks as Prefect events: the receiver emits one, a waiting run listens.

The receiver (``receiver/``, its own process) authenticates a provider's callback and
emits ``bhxh.provider.callback`` with the provider and its transaction id as the
resource (``bhxh.provider-callback.<provider>.<transaction id>``). A run waiting for that
transaction listens for exactly that resource (:func:`listen_for_callback`) and wakes its
wait (``esign.waiting.WAKEUPS``), which then reads the transaction from the provider at
once. The event says only "this transaction has news": no signature, no token, and no
status the run would believe; the provider's status call (and the signatures verified
against the certificate) stays the only truth.

Why a Prefect event: the receiver and the runs are separate processes, possibly on
separate machines, and the Prefect API is the one thing they all reach. The stream is
pushed over a websocket, so the run learns of the callback within milliseconds; when the
stream is down, the wait's slow polling is the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from prefect.events import emit_event
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

__all__ = [
    "AWAITED_EVENTS",
    "CALLBACK_EVENT",
    "callback_resource_id",
    "emit_callback",
    "listen_for_callback",
]

log = logging.getLogger("tasks.callbacks")

#: What the receiver emits when a provider calls back (authenticated, transaction known).
CALLBACK_EVENT = "bhxh.provider.callback"
#: The approval events a receiver reads to know which transactions are awaited: a run
#: announces each request (``bhxh.approval.requested``, ``tasks.events``) and its end.
AWAITED_EVENTS = (
    "bhxh.approval.requested",
    "bhxh.approval.approved",
    "bhxh.approval.rejected",
    "bhxh.approval.expired",
    "bhxh.approval.failed",
)


def callback_resource_id(provider: str, transaction_id: str) -> str:
    """The resource of a callback event: one provider's one transaction."""
    return f"bhxh.provider-callback.{provider}.{transaction_id}"


def emit_callback(
    provider: str,
    transaction_id: str,
    status: str,
    *,
    emit: Callable[..., Any] | None = None,
) -> None:
    """Emit the wake-up for ``provider``'s ``transaction_id``.

    ``status`` is what the provider's callback said, as its words (``SUCCESS``, ``4002``):
    shown in the event feed, never acted upon.
    """
    (emit or emit_event)(
        event=CALLBACK_EVENT,
        resource={
            "prefect.resource.id": callback_resource_id(provider, transaction_id),
            "prefect.resource.name": f"{provider} {transaction_id}",
            "bhxh.provider": provider,
        },
        payload={"provider": provider, "transaction_id": transaction_id, "status": status},
    )


@contextlib.asynccontextmanager
async def listen_for_callback(
    provider: str, transaction_id: str, wake: Callable[[], object]
) -> AsyncIterator[None]:
    """While the block lasts, call ``wake()`` for each callback event of this transaction.

    The subscription is filtered on the server to this one resource, so a run receives
    only its own callbacks. A stream that cannot be opened or breaks is logged and left:
    the caller's polling goes on without it.
    """
    ready = asyncio.Event()

    async def listen() -> None:
        event_filter = EventFilter(
            event=EventNameFilter(name=[CALLBACK_EVENT]),
            resource=EventResourceFilter(id=[callback_resource_id(provider, transaction_id)]),
        )
        try:
            async with get_events_subscriber(filter=event_filter, reconnection_attempts=2) as sub:
                ready.set()
                async for _event in sub:
                    wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stream is a hint: polling goes on without it
            log.warning(
                "không nghe được tín hiệu của nhà cung cấp cho giao dịch %s, tiếp tục hỏi "
                "định kỳ / could not listen for the provider's callback on transaction %s "
                "(%s); polling goes on",
                transaction_id,
                transaction_id,
                type(exc).__name__,
            )
        finally:
            ready.set()

    task = asyncio.create_task(listen())
    try:
        # A short wait for the subscription, so that a callback right after the request
        # is not missed; past it the wait reads the provider first anyway.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), 5.0)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
