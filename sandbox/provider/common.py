"""What both wires share: the JSON body reader, the fault switches in front of every API
route, and how bytes and times are written on the wire."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.provider.state import ProviderState

__all__ = ["Handler", "b64", "faulty", "iso", "json_body"]

Handler = Callable[[Request], Awaitable[Response]]


async def json_body(request: Request, limit: int = 4 * 1024 * 1024) -> Any:
    raw = await request.body()
    if len(raw) > limit:
        raise ValueError("request body too large")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValueError("request body is not JSON") from exc


def faulty(state: ProviderState, handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        answer = await state.fault()
        if answer is not None:
            return answer
        return await handler(request)

    return wrapped


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
