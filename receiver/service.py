"""The receiver as a service: its app, fed with the approval events of the Prefect API.

``serve_app`` wraps ``create_receiver_app`` with a lifespan that follows the Prefect event
stream of approvals (``tasks.callbacks.AWAITED_EVENTS``) into the awaited set, and
reconnects when the stream breaks. A receiver started after a request learns of it only
from the stream's backfill (Prefect replays the last minute): an earlier request's
callback is refused as unknown, and its run reads the provider on its slow poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter
from starlette.applications import Starlette

from receiver.app import ReceiverConfig, create_receiver_app
from receiver.awaited import AwaitedTransactions, follow_approvals
from tasks.callbacks import AWAITED_EVENTS

__all__ = ["follow_approval_stream", "serve_app"]

log = logging.getLogger("receiver")

#: Seconds between attempts at reopening the approval stream.
RECONNECT_SECONDS = 5.0


async def follow_approval_stream(awaited: AwaitedTransactions) -> None:
    """Feed ``awaited`` from the Prefect API's approval events, reconnecting for ever."""
    event_filter = EventFilter(event=EventNameFilter(name=list(AWAITED_EVENTS)))
    while True:
        try:
            async with get_events_subscriber(
                filter=event_filter, reconnect_on_clean_close=True
            ) as subscriber:
                awaited.following = True
                log.info("đang theo dõi các yêu cầu ký / following approval events")
                try:
                    await follow_approvals(awaited, subscriber)
                finally:
                    awaited.following = False
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "không mở được luồng sự kiện, thử lại sau %.0f giây / could not open the "
                "event stream (%s); retrying in %.0f s",
                RECONNECT_SECONDS,
                type(exc).__name__,
                RECONNECT_SECONDS,
            )
        await asyncio.sleep(RECONNECT_SECONDS)


def serve_app(config: ReceiverConfig, awaited: AwaitedTransactions | None = None) -> Starlette:
    """The receiver app with its lifespan: the approval stream is followed while it runs."""
    known = awaited if awaited is not None else AwaitedTransactions()
    app = create_receiver_app(config, known)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(follow_approval_stream(known))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.router.lifespan_context = lifespan
    return app
