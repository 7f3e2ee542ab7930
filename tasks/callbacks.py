"""Provider callbacks as Prefect events: the receiver emits one, a waiting run listens.

The receiver (``receiver/``, its own process) authenticates a provider's callback and
emits ``bhxh.provider.callback`` with the provider and its transaction id as the
resource (``bhxh.provider-callback.<provider>.<transaction id>``, labelled with the unit
whose request it is). A unit's signing round listens for its unit's callbacks
(``flows._callbacks.listen_for_callbacks``, opened before the request goes out) and wakes
the wait (``esign.waiting.WAKEUPS``), which then reads the transaction from the provider
at once.
The event says only "this transaction has news": no signature, no token, and no status
the run would believe; the provider's status call (and the signatures verified
against the certificate) stays the only truth.

Why a Prefect event: the receiver and the runs are separate processes, possibly on
separate machines, and the Prefect API is the one thing they all reach. The stream is
pushed over a websocket, so the run learns of the callback within milliseconds; when the
stream is down, the wait's slow polling is the fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from prefect.events import emit_event

__all__ = [
    "AWAITED_EVENTS",
    "CALLBACK_EVENT",
    "callback_resource_id",
    "emit_callback",
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
