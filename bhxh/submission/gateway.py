"""The reference carrier: the submission gateway's JSON contract (the sandbox gateway, or
a real one behind it), its client and its adapter to the submission port.

JSON over HTTP (``/api/v1``), bearer API key. The dossier id is the idempotency key, so a
submission can be retried safely: transport errors before the request left and 503/429
answers are retried with backoff; when the outcome is unknown (the connection broke after
the request was sent, or a 500/502/504), the client asks for the dossier's status instead
of guessing, and submits again only if the gateway says it never received it (404).

Example:
    >>> async with GatewayClient("http://127.0.0.1:8081", api_key) as gateway:  # doctest: +SKIP
    ...     ack = await gateway.submit("TZ1234A-2026-01-600-1", "TZ1234A", "envelope", data)
    ...     status = await gateway.status(ack.dossier_id)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import functools
import hashlib
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import Any

import httpx

from bhxh.errors import GatewayError
from bhxh.periods import folder_name, parse_period
from bhxh.submission.port import (
    Acknowledgement,
    C12Document,
    Capabilities,
    DossierKind,
    DossierNotFound,
    DossierStatus,
    Handover,
    NaturalKey,
    RegisteredCertificate,
    Registration,
    RegistrationUnavailable,
    Submission,
    SubmissionRefused,
    UnknownOutcome,
)

__all__ = [
    "GatewayAdapter",
    "GatewayAuthFailed",
    "GatewayCapabilities",
    "GatewayClient",
    "GatewayProtocolError",
    "GatewayUnavailable",
    "IdempotencyConflict",
]


_RETRY_STATUSES = {429, 503}  # the gateway did not take the request: send it again
_UNKNOWN_STATUSES = {500, 502, 504}  # the request may have been recorded: ask first


# ------------------------------------------------------------------------------ errors
class IdempotencyConflict(GatewayError, ValueError):
    """The dossier id was already submitted with other bytes (409): use a new id."""

    def __init__(self, message: str, dossier_id: str) -> None:
        super().__init__(f"dossier {dossier_id}: {message}")
        self.message = message
        self.dossier_id = dossier_id


class GatewayUnavailable(GatewayError, ConnectionError):
    """The gateway could not be reached or stayed unavailable through every retry."""


class GatewayAuthFailed(GatewayError, PermissionError):
    """The gateway refused the API key (401/403)."""


class GatewayProtocolError(GatewayError, ValueError):
    """The gateway answered something outside the contract."""


# ------------------------------------------------------------------------------ values
@dataclass(frozen=True)
class GatewayCapabilities:
    """What the gateway says it offers (``GET /api/v1/capabilities``).

    A gateway that does not publish them (404) is taken to offer the contract's defaults:
    the dossier id as idempotency key, a registration read, receipts through status reads.
    """

    idempotency_key: bool = True
    registration_read: bool = True
    numbers_receipts: bool = True
    ivan_code: str | None = None
    notice_read: bool = False


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _status(data: dict[str, Any]) -> DossierStatus:
    return DossierStatus(
        dossier_id=data["dossier_id"],
        status=data["status"],
        so_ho_so=data.get("so_ho_so"),
        dot=data.get("dot"),
        promised_date=_date(data.get("promised_date")),
        completed_date=_date(data.get("completed_date")),
        outcome=data.get("outcome"),
        messages=tuple(data.get("messages") or ()),
        transaction_id=data["transaction_id"],
        received_at=dt.datetime.fromisoformat(data["received_at"]),
    )


# ------------------------------------------------------------------------------ client
@functools.lru_cache(maxsize=4)
def _default_tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _tls(verify: bool | ssl.SSLContext) -> bool | ssl.SSLContext:
    """The system's TLS context, built once per process (parsing the CA bundle costs about
    50 ms; a monthly run opens a gateway client per unit)."""
    return _default_tls() if verify is True else verify


class GatewayClient:
    """Async client of the submission gateway.

    Args:
        base_url: the gateway's root URL.
        api_key: the bearer key (kept out of reprs, logs and error messages).
        timeout: seconds per request.
        verify: TLS verification (True, or an SSLContext holding a CA bundle).
        transport: an httpx transport (tests: ``httpx.MockTransport``).
        attempts: sends of one request before giving up (including the first).
        backoff: first retry delay in seconds, doubled each time up to ``max_backoff``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30,
        verify: bool | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        attempts: int = 6,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self._attempts = attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            verify=_tls(verify),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"GatewayClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _sleep(self, attempt: int, response: httpx.Response | None = None) -> None:
        delay = min(self._max_backoff, self._backoff * 2 ** (attempt - 1))
        if response is not None:
            with contextlib.suppress(KeyError, ValueError):
                delay = min(self._max_backoff, max(delay, float(response.headers["Retry-After"])))
        await asyncio.sleep(delay)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise GatewayProtocolError(
                f"{what}: the gateway answered {response.status_code} with non-JSON "
                f"({response.headers.get('content-type', 'no content type')})"
            ) from None
        if not isinstance(data, dict):
            raise GatewayProtocolError(f"{what}: the gateway answered a JSON {type(data).__name__}")
        return data

    def _raise_for(self, response: httpx.Response, what: str, dossier_id: str = "") -> None:
        code = response.status_code
        if code in (401, 403):
            raise GatewayAuthFailed(f"{what}: the gateway refused the API key ({code})")
        data = self._json(response, what)
        message = str(data.get("message", ""))
        if code == 409:
            raise IdempotencyConflict(message, dossier_id)
        if code == 422:
            raise SubmissionRefused(str(data.get("error", "refused")), message, dossier_id)
        raise GatewayProtocolError(f"{what}: unexpected answer {code}: {message}")

    # --------------------------------------------------------------------- reads
    async def _get(self, path: str, what: str) -> dict[str, Any] | None:
        """GET with retries (safe); None on 404."""
        last = ""
        for attempt in range(1, self._attempts + 1):
            response: httpx.Response | None = None
            try:
                response = await self._http.get(path)
            except httpx.TransportError as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 404:
                    return None
                if response.status_code in _RETRY_STATUSES | _UNKNOWN_STATUSES:
                    last = f"HTTP {response.status_code}"
                else:
                    if response.status_code != 200:
                        self._raise_for(response, what)
                    return self._json(response, what)
            if attempt < self._attempts:
                await self._sleep(attempt, response)
        raise GatewayUnavailable(f"{what}: the gateway stayed unavailable ({last})")

    async def status(self, dossier_id: str) -> DossierStatus:
        """The dossier's status, number (``soHoSo``), ``dot``, dates, outcome and messages.

        Raises:
            DossierNotFound: the gateway never received this dossier.
            GatewayUnavailable: no answer through every retry.
        """
        what = f"status of dossier {dossier_id}"
        data = await self._get(f"/api/v1/dossiers/{dossier_id}", what)
        if data is None:
            raise DossierNotFound(f"the gateway has no dossier {dossier_id}")
        try:
            return _status(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayProtocolError(f"{what}: malformed answer ({exc!r})") from None

    async def capabilities(self) -> GatewayCapabilities:
        """What the gateway offers; the contract's defaults when it does not say."""
        data = await self._get("/api/v1/capabilities", "capabilities of the gateway")
        if data is None:
            return GatewayCapabilities()
        return GatewayCapabilities(
            idempotency_key=bool(data.get("idempotency_key", True)),
            registration_read=bool(data.get("registration_read", True)),
            numbers_receipts=bool(data.get("numbers_receipts", True)),
            ivan_code=data.get("ivan_code"),
            # Not in the contract's first version: a gateway that does not say has none.
            notice_read=bool(data.get("notice_read", False)),
        )

    async def find(
        self, unit_code: str, procedure: str, period: str, sha256: str
    ) -> DossierStatus | None:
        """Look a dossier up by its natural key (unit, procedure, period, content hash).

        What a carrier without idempotency keys offers to learn, after a lost answer,
        whether it received a dossier; None when it did not.
        """
        what = f"lookup of unit {unit_code}'s {procedure} dossier for {period}"
        params = {"unit_code": unit_code, "procedure": procedure, "period": period}
        data = await self._get(
            "/api/v1/dossiers?" + urllib.parse.urlencode({**params, "sha256": sha256}), what
        )
        if data is None:
            return None
        try:
            found = [_status(d) for d in data.get("dossiers") or ()]
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayProtocolError(f"{what}: malformed answer ({exc!r})") from None
        return found[0] if found else None

    async def registration(self, unit_code: str) -> Registration:
        """The unit's e-transaction registration as the gateway (VSS) knows it."""
        what = f"registration of unit {unit_code}"
        data = await self._get(f"/api/v1/units/{unit_code}/registration", what)
        if data is None:
            return Registration(
                unit_code=unit_code, state="unknown", tax_code=None, certificate=None
            )
        try:
            cert = data.get("certificate")
            return Registration(
                unit_code=data.get("unit_code", unit_code),
                state=data["state"],
                tax_code=data.get("tax_code"),
                certificate=None
                if not cert
                else RegisteredCertificate(
                    serial=cert["serial"],
                    subject=cert["subject"],
                    not_before=dt.datetime.fromisoformat(cert["not_before"]),
                    not_after=dt.datetime.fromisoformat(cert["not_after"]),
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayProtocolError(f"{what}: malformed answer ({exc!r})") from None

    async def contribution_notice(self, unit_code: str, period: str) -> dict[str, Any] | None:
        """The unit's C12-TS notice of ``period`` (``MM/yyyy``) in the portal's shape
        (``maCqBhxh``, ``tenCqBhxh``, ``c12s``); None while VSS has issued none (404).

        The call is the contract's (ours): ``GET /api/v1/units/{unit}/notices/c12/{MM-YYYY}``.
        """
        parsed = parse_period(period)
        if parsed is None:
            raise ValueError(f"period {period!r} is not MM/yyyy")
        what = f"C12-TS notice of unit {unit_code} for {period}"
        path = f"/api/v1/units/{urllib.parse.quote(unit_code, safe='')}/notices/c12/"
        data = await self._get(path + folder_name(*parsed), what)
        if data is None:
            return None
        if not isinstance(data.get("c12s"), list):
            raise GatewayProtocolError(f"{what}: the answer has no list c12s")
        return data

    # --------------------------------------------------------------------- submit
    async def submit(
        self,
        dossier_id: str,
        unit_code: str,
        kind: DossierKind,
        content: bytes,
        *,
        natural_key: tuple[str, str] | None = None,
    ) -> Acknowledgement:
        """Submit a signed envelope (``kind="envelope"``) or 04/05/06 form (``"registration"``).

        With ``natural_key`` (procedure, period), for a carrier that takes no idempotency
        key: after a lost answer the dossier is looked up by unit, procedure, period and
        content hash, and sent again only if the carrier does not have it.

        Raises:
            SubmissionRefused: refused at receipt (code and exact message).
            IdempotencyConflict: the id was used for other bytes.
            UnknownOutcome: the answer was lost and the gateway could not be asked.
            GatewayUnavailable: the gateway never took the request.
        """
        body = {
            "dossier_id": dossier_id,
            "unit_code": unit_code,
            "kind": kind,
            "content_base64": base64.b64encode(content).decode("ascii"),
        }
        what = f"submission of dossier {dossier_id} (unit {unit_code})"
        last = ""
        for attempt in range(1, self._attempts + 1):
            retry_after: httpx.Response | None = None
            try:
                response = await self._http.post("/api/v1/dossiers", json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                last = type(exc).__name__  # never left: sending again is plainly safe
            except httpx.TransportError as exc:
                last = type(exc).__name__
                ack = await self._recover(dossier_id, unit_code, content, natural_key, what, last)
                if ack is not None:
                    return ack
            else:
                code = response.status_code
                if code in (200, 201):
                    return self._acknowledgement(response, what)
                if code in _RETRY_STATUSES:
                    last = f"HTTP {code}"
                    retry_after = response
                elif code in _UNKNOWN_STATUSES:
                    last = f"HTTP {code}"
                    ack = await self._recover(
                        dossier_id, unit_code, content, natural_key, what, last
                    )
                    if ack is not None:
                        return ack
                else:
                    self._raise_for(response, what, dossier_id)
            if attempt < self._attempts:
                await self._sleep(attempt, retry_after)
        raise GatewayUnavailable(f"{what}: the gateway did not take it ({last})")

    def _acknowledgement(self, response: httpx.Response, what: str) -> Acknowledgement:
        data = self._json(response, what)
        try:
            return Acknowledgement(
                transaction_id=data["transaction_id"],
                dossier_id=data["dossier_id"],
                received_at=dt.datetime.fromisoformat(data["received_at"]),
                duplicate=bool(data["duplicate"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayProtocolError(f"{what}: malformed acknowledgement ({exc!r})") from None

    async def _recover(
        self,
        dossier_id: str,
        unit_code: str,
        content: bytes,
        natural_key: tuple[str, str] | None,
        what: str,
        cause: str,
    ) -> Acknowledgement | None:
        """After an unknown outcome: the receipt if the gateway has the dossier, else None
        (never received: the caller submits again). By dossier id, or by natural key for a
        carrier that takes no idempotency key."""
        try:
            if natural_key is None:
                status = await self.status(dossier_id)
            else:
                procedure, period = natural_key
                sha256 = hashlib.sha256(content).hexdigest()
                found = await self.find(unit_code, procedure, period, sha256)
                if found is None:
                    return None
                status = found
        except DossierNotFound:
            return None
        except GatewayUnavailable:
            raise UnknownOutcome(
                f"{what}: the answer was lost ({cause}) and the gateway cannot be asked; "
                "retrying later with the same dossier id is safe",
                dossier_id,
            ) from None
        return Acknowledgement(
            transaction_id=status.transaction_id,
            dossier_id=status.dossier_id,
            received_at=status.received_at,
            duplicate=True,
        )


# ------------------------------------------------------------------------------ the adapter
class GatewayAdapter:
    """The reference adapter: the project's JSON contract over HTTP.

    The contract (``/openapi.json`` of the sandbox gateway) is what an I-VAN with an API
    would be asked to offer; a carrier's real API gets an adapter of its own. Capabilities
    come from the gateway (``GET /api/v1/capabilities``) unless given.
    """

    name = "gateway"

    def __init__(self, client: GatewayClient, capabilities: Capabilities) -> None:
        self.client = client
        self.capabilities = capabilities

    def __repr__(self) -> str:
        return f"GatewayAdapter({self.client.base_url!r})"

    @classmethod
    async def connect(
        cls, client: GatewayClient, capabilities: Capabilities | None = None
    ) -> GatewayAdapter:
        """An adapter over ``client``, its capabilities read from the gateway if not given."""
        if capabilities is None:
            offered = await client.capabilities()
            capabilities = Capabilities(
                idempotency_key=offered.idempotency_key,
                registration_read=offered.registration_read,
                numbers_receipts=offered.numbers_receipts,
                notice_read=offered.notice_read,
            )
        return cls(client, capabilities)

    async def submit(self, submission: Submission) -> Handover:
        ack = await self.client.submit(
            submission.dossier_id,
            submission.unit_code,
            submission.kind,
            submission.content,
            natural_key=None
            if self.capabilities.idempotency_key
            else (submission.procedure, submission.period),
        )
        return Handover(
            "gateway", "submitted", ack.transaction_id, ack.received_at.isoformat(), ack.duplicate
        )

    async def find(self, key: NaturalKey, dossier_id: str) -> Handover | None:
        found = await self.client.find(key.unit_code, key.procedure, key.period, key.sha256)
        if found is None:
            return None
        return Handover(
            "gateway", "submitted", found.transaction_id, found.received_at.isoformat(), True
        )

    async def status(self, key: NaturalKey, dossier_id: str) -> DossierStatus | None:
        try:
            if self.capabilities.idempotency_key:
                return await self.client.status(dossier_id)
            return await self.client.find(key.unit_code, key.procedure, key.period, key.sha256)
        except DossierNotFound:
            return None

    async def registration(self, unit_code: str) -> Registration:
        if not self.capabilities.registration_read:
            raise RegistrationUnavailable(
                f"unit {unit_code}: the carrier cannot read the registration at VSS"
            )
        return await self.client.registration(unit_code)

    async def contribution_notice(self, unit_code: str, period: str) -> C12Document | None:
        """The period's C12-TS notice from the carrier; None while there is none."""
        if not self.capabilities.notice_read:
            return None
        data = await self.client.contribution_notice(unit_code, period)
        if data is None:
            return None
        return C12Document(unit_code, period, data, "carrier", self.name)

    async def aclose(self) -> None:
        await self.client.aclose()
