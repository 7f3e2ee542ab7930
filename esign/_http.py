"""The HTTP core shared by the provider clients: timeouts, bounded retries with backoff.

Reads and polls are retried on timeouts, connection errors, 429 (honouring Retry-After)
and 500/502/503/504. A request that must not be repeated blindly (a sign request, a
one-time code) is retried only when the provider certainly did not process it: connection
refused before sending, or 429.

Connections: a server closes an idle keep-alive connection after its own window (uvicorn
5 s, gunicorn 2 s, Apache 5 s, nginx 75 s). A request sent on a pooled connection at the
moment the server closes it fails with ``ReadError`` / ``RemoteProtocolError`` after it
left: for a read that costs a retry, for a sign request an unknown outcome. So pooled
connections are dropped after :data:`KEEPALIVE_EXPIRY` seconds idle (below every common
server window; httpx's own default of 5 s races uvicorn's 5 s), and a request that must
not be repeated goes on a connection of its own, opened for it and closed after it.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import logging
import random
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx

from esign.errors import InvalidResponse, TransportError
from esign.pacing import PACING, pace_key

__all__ = ["KEEPALIVE_EXPIRY", "HttpCore", "RetryPolicy", "parse_json"]

log = logging.getLogger("esign.http")

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Failures after which the request certainly never reached the provider.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Seconds an idle pooled connection is kept: shorter than the servers' keep-alive windows.
KEEPALIVE_EXPIRY = 1.0
_MAX_CONNECTIONS = 100
_MAX_KEEPALIVE = 20


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter.

    Attributes:
        attempts: tries per request that fail otherwise than with a 429 (the first one
            included): a 5xx, a timeout, a refused connection.
        rate_limited: tries answered 429, counted apart. A 429 says the provider did not
            process the request and when to come back, so a short rate limit does not use
            up the tries kept for real failures (seen in a fresh-clone run: 20 units through
            21 % faults, a read answered 429 on its fifth try failed its unit after
            0.8 s). The number is our choice; no provider document gives one.
        base_delay: first backoff, seconds; doubles per try up to ``max_delay``.
        max_delay: longest backoff between tries.
        max_retry_after: longest Retry-After honoured; a longer one is a transport error.
    """

    attempts: int = 5
    rate_limited: int = 10
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


@functools.lru_cache(maxsize=16)
def _shared_tls(verify: bool | str) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=verify)


def tls_context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext:
    """The TLS context for ``verify``, built once per process and shared.

    Building one parses the whole CA bundle (about 50 ms of CPU); a monthly run opens a
    few clients per unit, so hundreds of units paid seconds for identical contexts. A
    context is safe to share between clients; ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` are
    read when the first client of the process is made.
    """
    if isinstance(verify, ssl.SSLContext):
        return verify
    return _shared_tls(verify)


class HttpCore:
    """An ``httpx.AsyncClient`` with the retry rules above, each attempt paced
    (:data:`esign.pacing.PACING`) under the integrator ``account``'s key.

    ``client`` is the pooled client (reads, polls, logins). Requests sent with
    ``repeatable=False`` use a second client that keeps no connection alive, so each one
    travels on a connection opened for it. With a ``transport`` given (tests), both use it.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        timeout: float,
        verify: bool | str | ssl.SSLContext,
        transport: httpx.AsyncBaseTransport | None,
        retry: RetryPolicy | None,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
        account: str = "",
    ) -> None:
        if keepalive_expiry < 0:
            raise ValueError(f"{provider}: keepalive_expiry must be >= 0 seconds")
        self.provider = provider
        self.retry = retry or RetryPolicy()
        #: The rate-limit key of every call (``esign.pacing``): the integrator's account.
        self.pace = pace_key(provider, account, base_url)
        self._base = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout
        self._verify = tls_context(verify)
        self._custom_transport = transport is not None
        self.client = self._make_client(
            transport,
            httpx.Limits(
                max_connections=_MAX_CONNECTIONS,
                max_keepalive_connections=_MAX_KEEPALIVE,
                keepalive_expiry=keepalive_expiry,
            ),
        )
        self._single: httpx.AsyncClient | None = None

    def _make_client(
        self, transport: httpx.AsyncBaseTransport | None, limits: httpx.Limits
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self._base,
            timeout=self._timeout,
            verify=self._verify,
            transport=transport,
            limits=limits,
            follow_redirects=False,
            headers={"accept": "application/json"},
        )

    def _single_use(self) -> httpx.AsyncClient:
        """The client whose connections serve one request each (none kept alive)."""
        if self._custom_transport:
            return self.client
        if self._single is None:
            self._single = self._make_client(
                None,
                httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=0),
            )
        return self._single

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._single is not None:
            await self._single.aclose()

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
        client = self.client if repeatable else self._single_use()
        last: str = ""
        maybe_sent = False
        failed = limited = 0  # tries that failed; tries answered 429
        while True:
            attempt = failed + limited
            await PACING.before(self.pace)
            try:
                response = await client.request(method, url, json=json_body, headers=headers)
            except _NOT_SENT as exc:
                last = f"could not connect ({type(exc).__name__})"
                failed += 1
                delay = policy.backoff(attempt)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__} during {method} {_path(url)}"
                maybe_sent = True
                if not repeatable:
                    raise TransportError(
                        f"{self.provider}: {last}; the request may have reached the provider, "
                        "so it is not repeated"
                    ) from exc
                failed += 1
                delay = policy.backoff(attempt)
            else:
                if response.status_code not in _RETRY_STATUSES:
                    return response
                last = f"HTTP {response.status_code} on {method} {_path(url)}"
                rate_limited = response.status_code == 429
                maybe_sent = maybe_sent or not rate_limited
                if not rate_limited and not repeatable:
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
                if rate_limited:
                    limited += 1
                else:
                    failed += 1
                delay = wait if wait is not None else policy.backoff(attempt)
            if failed >= policy.attempts or limited >= policy.rate_limited:
                break
            log.debug("%s: %s, retrying in %.2fs", self.provider, last, delay)
            await asyncio.sleep(delay)
        raise TransportError(
            f"{self.provider}: {last} (gave up after {failed + limited} tries)",
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
