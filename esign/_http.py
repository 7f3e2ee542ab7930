"""The HTTP core shared by the provider clients: timeouts, bounded retries with backoff.

Reads and polls are retried on timeouts, connection errors, 429 (honouring Retry-After)
and 500/502/503/504. A request that must not be repeated blindly (a sign request) is
retried only when the provider certainly did not process it: connection refused before
sending, or 429.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx

from esign.errors import InvalidResponse, TransportError

__all__ = ["HttpCore", "RetryPolicy", "parse_json"]

log = logging.getLogger("esign.http")

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Failures after which the request certainly never reached the provider.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter.

    Attributes:
        attempts: total tries per request (first one included).
        base_delay: first backoff, seconds; doubles per try up to ``max_delay``.
        max_delay: longest backoff between tries.
        max_retry_after: longest Retry-After honoured; a longer one is a transport error.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, attempt: int) -> float:
        cap = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(cap / 2, cap)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, parsed.timestamp() - time.time())


class HttpCore:
    """An ``httpx.AsyncClient`` with the retry rules above."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        timeout: float,
        verify: bool | str | ssl.SSLContext,
        transport: httpx.AsyncBaseTransport | None,
        retry: RetryPolicy | None,
    ) -> None:
        self.provider = provider
        self.retry = retry or RetryPolicy()
        base = base_url if base_url.endswith("/") else base_url + "/"
        self.client = httpx.AsyncClient(
            base_url=base,
            timeout=timeout,
            verify=verify,
            transport=transport,
            follow_redirects=False,
            headers={"accept": "application/json"},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        repeatable: bool = True,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send, retrying per the policy. Returns any non-retryable answer (4xx included).

        Raises:
            TransportError: unreachable, timed out, or still 429/5xx after every try; for a
                non-repeatable request also any failure after the request may have been sent.
        """
        policy = self.retry
        last: str = ""
        delay = 0.0
        maybe_sent = False
        for attempt in range(policy.attempts):
            if attempt:
                await asyncio.sleep(delay)
            try:
                response = await self.client.request(method, url, json=json_body, headers=headers)
            except _NOT_SENT as exc:
                last = f"could not connect ({type(exc).__name__})"
                delay = policy.backoff(attempt)
                continue
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__} during {method} {_path(url)}"
                maybe_sent = True
                if not repeatable:
                    raise TransportError(
                        f"{self.provider}: {last}; the request may have reached the provider, "
                        "so it is not repeated"
                    ) from exc
                delay = policy.backoff(attempt)
                continue
            if response.status_code not in _RETRY_STATUSES:
                return response
            last = f"HTTP {response.status_code} on {method} {_path(url)}"
            maybe_sent = maybe_sent or response.status_code != 429
            if response.status_code != 429 and not repeatable:
                raise TransportError(
                    f"{self.provider}: {last}; the request may have reached the provider, "
                    "so it is not repeated"
                )
            wait = _retry_after(response)
            if wait is not None and wait > policy.max_retry_after:
                raise TransportError(
                    f"{self.provider}: {last}, Retry-After {wait:.0f}s too long",
                    maybe_sent=maybe_sent,
                )
            delay = wait if wait is not None else policy.backoff(attempt)
            log.debug("%s: %s, retrying in %.2fs", self.provider, last, delay)
        raise TransportError(
            f"{self.provider}: {last} (gave up after {policy.attempts} tries)",
            maybe_sent=maybe_sent,
        )


def _path(url: str) -> str:
    return url.split("?", 1)[0]


def parse_json(provider: str, response: httpx.Response) -> Any:
    """The JSON body of ``response``; anything else (an HTML page, garbage) is an error."""
    ctype = response.headers.get("content-type", "")
    where = f"{response.request.method} {response.request.url.path}"
    if "json" not in ctype.lower():
        raise InvalidResponse(
            f"{provider}: {where} answered HTTP {response.status_code} "
            f"{ctype.split(';')[0] or 'without a content type'}, not JSON "
            "(wrong base URL or path?)"
        )
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise InvalidResponse(f"{provider}: {where} answered malformed JSON") from exc
