"""Provider callbacks as Prefect events: the receiver emits one, a waiting run listens.

The receiver (``receiver/``, its own process) authenticates a provider's callback and
emits ``bhxh.provider.callback`` with the provider and its transaction id as the
resource (``bhxh.provider-callback.<provider>.<transaction id>``, labelled with the unit
whose request it is). A unit's signing round listens for its unit's callbacks
(:func:`listen_for_callbacks`, opened before the request goes out) and wakes the wait
(``esign.waiting.WAKEUPS``), which then reads the transaction from the provider at once.
The event says only "this transaction has news": no signature, no token, and no status
the run would believe; the provider's status call (and the signatures verified
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
from prefect.events.schemas.events import ResourceSpecification

from esign.waiting import WAKEUPS

__all__ = [
    "AWAITED_EVENTS",
    "CALLBACK_EVENT",
    "CallbackListener",
    "callback_resource_id",
    "emit_callback",
    "listen_for_callbacks",
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
    unit: str,
    emit: Callable[..., Any] | None = None,
) -> None:
    """Emit the wake-up for ``provider``'s ``transaction_id``, a request of ``unit``.

    ``status`` is what the provider's callback said, as its words (``SUCCESS``, ``4002``):
    shown in the event feed, never acted upon. ``unit`` (the ``bhxh.unit`` label) is what
    a unit's run listens on: it subscribes before it sends a request, when the
    transaction id is not known yet.
    """
    (emit or emit_event)(
        event=CALLBACK_EVENT,
        resource={
            "prefect.resource.id": callback_resource_id(provider, transaction_id),
            "prefect.resource.name": f"{provider} {transaction_id}",
            "bhxh.provider": provider,
            "bhxh.unit": unit,
        },
        related=[{"prefect.resource.id": f"bhxh.unit.{unit}", "prefect.resource.role": "unit"}],
        payload={
            "provider": provider,
            "transaction_id": transaction_id,
            "unit": unit,
            "status": status,
        },
    )


class CallbackListener:
    """The callbacks a unit's run has heard: each wakes its waiter (``WAKEUPS``), and is
    kept, so that a wait that begins after its callback came still reads at once."""

    def __init__(self) -> None:
        self._heard: set[tuple[str, str]] = set()

    def heard(self, provider: str, transaction_id: str) -> bool:
        return (provider, transaction_id) in self._heard

    def hear(self, provider: str, transaction_id: str) -> None:
        self._heard.add((provider, transaction_id))
        WAKEUPS.wake(provider, transaction_id)


@contextlib.asynccontextmanager
async def listen_for_callbacks(unit_code: str) -> AsyncIterator[CallbackListener]:
    """While the block lasts, hear the callback events of ``unit_code``'s transactions.

    Opened before a signing round sends its request (the transaction id comes only in
    the answer, and the signer may approve at once), filtered on the server to this unit's
    label. A stream that cannot be opened or breaks is logged and left: the waits' slow
    polling goes on without it.
    """
    listener = CallbackListener()
    ready = asyncio.Event()

    async def listen() -> None:
        event_filter = EventFilter(
            event=EventNameFilter(name=[CALLBACK_EVENT]),
            resource=EventResourceFilter(labels=ResourceSpecification({"bhxh.unit": unit_code})),
        )
        try:
            async with get_events_subscriber(filter=event_filter, reconnection_attempts=2) as sub:
                ready.set()
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
            ready.set()

    task = asyncio.create_task(listen())
    try:
        # A bounded wait for the subscription, so that the request goes out after it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), 10.0)
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
