"""The vendor-neutral client protocol and the bookkeeping every adapter shares."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from esign.errors import CertificateNotFound, TransportError
from esign.models import Certificate, SignItem, Transaction

__all__ = ["FindsRequests", "OtpCallback", "RemoteSigningClient", "SigningClientBase"]

#: Called when the provider asks for a one-time code; returns the code a person typed.
OtpCallback = Callable[[], Awaitable[str]]


@runtime_checkable
class RemoteSigningClient(Protocol):
    """What the flows need from a remote-signing provider.

    Example:
        >>> async with MisaESignClient(...) as client:  # doctest: +SKIP
        ...     await client.login(otp=ask_operator)
        ...     cert = (await client.list_certificates())[0]
        ...     tx = await client.request_signatures(cert, items, "Ký hồ sơ", "run-1-r1")
        ...     tx = await client.get_transaction(tx.id, cert, items)
    """

    @property
    def account(self) -> str:
        """The signer's account (user name / user id): which phone to look at. Not secret."""
        ...

    async def login(self, otp: OtpCallback | None = None) -> None: ...

    async def list_certificates(self) -> list[Certificate]: ...

    async def request_signatures(
        self,
        certificate: Certificate,
        items: Sequence[SignItem],
        display_text: str,
        client_transaction_id: str,
    ) -> Transaction: ...

    async def get_transaction(
        self, transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class FindsRequests(Protocol):
    """A client that can find a sign request again by the caller's own transaction id.

    Only a provider that takes the caller's id can (VNPT SmartCA sp769: ``transaction_id``
    is ours, 3.3, and the status call names it, 3.4; CA2 RemoteSigning the same, as its
    client code shows). After a crash between the send and
    the journalled answer, the flows look the request up under the id they journalled
    before the send, and continue it instead of asking the signer again. A client of a
    provider that chooses the id itself (MISA: only in the sign answer) does not implement
    this; the flows then treat such a request as void (see ``flows/_signing.py``).
    """

    async def find_request(
        self, client_transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction | None:
        """The provider's transaction for a request sent under ``client_transaction_id``
        (its status read now, signatures verified), or None when the provider never
        received one (nothing is on the phone: asking anew is safe).

        Raises:
            TransportError: the provider could not be asked; the request may be on the
                phone, so nothing new may be sent for it yet.
        """
        ...


class _UnknownOutcome(Exception):
    """Marks a client transaction id whose sign request may have reached the provider."""


class SigningClientBase:
    """Shared by the adapters: one sign request per client transaction id, context manager."""

    provider: str = ""

    def __init__(self, approval_window: float) -> None:
        self._approval_window = approval_window
        self._sent: dict[str, Transaction | _UnknownOutcome] = {}
        self._send_locks: dict[str, asyncio.Lock] = {}

    async def request_signatures(
        self,
        certificate: Certificate,
        items: Sequence[SignItem],
        display_text: str,
        client_transaction_id: str,
    ) -> Transaction:
        """Ask the signer's phone to approve ``items`` (one approval for the whole batch).

        The same ``client_transaction_id`` is never sent twice by this client: a repeat call
        returns the recorded transaction.

        Raises:
            ValueError: empty batch, duplicate document ids, empty text, foreign certificate.
            CertificateNotFound: the certificate is not active or not currently valid.
            TransportError: the request failed. MISA: when it may have reached the provider,
                repeating with the same id raises again (its id comes only in the lost
                answer; send a new request with a new id). VNPT: the client has already
                looked the request up under its own transaction id; a repeat call with the
                same id looks again before sending a new request under a new wire id.
        """
        self._check_request(certificate, items, display_text, client_transaction_id)
        lock = self._send_locks.setdefault(client_transaction_id, asyncio.Lock())
        async with lock:
            recorded = self._sent.get(client_transaction_id)
            if isinstance(recorded, Transaction):
                return recorded
            if isinstance(recorded, _UnknownOutcome):
                raise TransportError(
                    f"{self.provider}: the sign request {client_transaction_id!r} was sent "
                    "before and its outcome is unknown; it is not sent again"
                )
            try:
                tx = await self._send_sign_request(
                    certificate, items, display_text, client_transaction_id
                )
            except TransportError as exc:
                if exc.maybe_sent and not self._resend_is_safe():
                    self._sent[client_transaction_id] = _UnknownOutcome()
                raise
            self._sent[client_transaction_id] = tx
            return tx

    def _check_request(
        self,
        certificate: Certificate,
        items: Sequence[SignItem],
        display_text: str,
        client_transaction_id: str,
    ) -> None:
        if certificate.provider != self.provider:
            raise ValueError(
                f"{self.provider}: certificate {certificate.alias} belongs to "
                f"{certificate.provider}"
            )
        if not items:
            raise ValueError(f"{self.provider}: nothing to sign")
        ids = [item.document_id for item in items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"{self.provider}: duplicate document ids {dupes}")
        if not display_text.strip():
            raise ValueError(f"{self.provider}: display_text (shown on the phone) is empty")
        if not client_transaction_id:
            raise ValueError(f"{self.provider}: client_transaction_id is empty")
        if not certificate.is_usable():
            raise CertificateNotFound(
                f"{self.provider}: certificate {certificate.describe()} is not usable now"
            )

    def _expiry(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self._approval_window)

    def _resend_is_safe(self) -> bool:
        return False

    async def _send_sign_request(
        self,
        certificate: Certificate,
        items: Sequence[SignItem],
        display_text: str,
        client_transaction_id: str,
    ) -> Transaction:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
