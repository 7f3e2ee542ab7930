"""VNPT SmartCA client (sp769 API, "Tài liệu tích hợp VNPT SMARTCA" section 3).

No token: the ``get_certificate`` and ``sign`` bodies carry the integrator's ``sp_id`` /
``sp_password`` and the signer's ``user_id``; the status call (3.4) carries nothing but the
transaction id in its path (VNPT's own samples post ``{}``). Digests travel as hex.

Identifiers go back byte for byte: ``serial_number`` exactly as ``get_certificate``
returned it (lower-case hex in every sample), ``cert_id`` as the alias.

``transaction_id`` is ours and must be unique (3.3): every sign request gets a new one.
When the answer to a sign request is lost, VNPT may hold the request (on the phone)
under our id, so the client asks that id's status: known, it is the transaction to wait
on; unknown, the request never arrived and a new one goes out under a new id.

The ids a client transaction id is sent under are fixed in advance: the id itself, then
``<id>-2``, ``<id>-3`` (at most :data:`_MAX_SENDS`). So a process that knows only the
client id, journalled before the send (a re-run after a crash between the send and the
journalled answer), finds the request again: :meth:`VnptSmartCAClient.find_request`
reads the status of each of those ids (3.4).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import logging
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from esign._http import KEEPALIVE_EXPIRY, HttpCore, RetryPolicy, parse_json
from esign._verify import verify_signatures
from esign.base import OtpCallback, SigningClientBase
from esign.errors import AuthenticationFailed, InvalidResponse, ProviderError, TransportError
from esign.models import Certificate, SignItem, Transaction, TxStatus, certificate_from_der

__all__ = ["VNPT_TERMINAL_MESSAGES", "VnptSmartCAClient", "wire_ids"]

log = logging.getLogger("esign.vnpt")

_CERTS = "v1/credentials/get_certificate"
_SIGN = "v1/signatures/sign"
#: ``cert_status`` values meaning usable; the sample writes "Đang hoạt động" (in service).
_ACTIVE = {"active", "valid", "đang hoạt động", "hoạt động"}
#: Status messages that end a transaction without signatures. The document shows only
#: SUCCESS; EXPIRED and REJECTED are what VNPT answers for a request let expire or refused
#: on the phone; CANCELLED and FAILED are accepted too. Any other message, while
#: ``data.signatures`` is null, is read as still pending (VNPT's samples poll until the
#: signatures appear) and its text is kept in ``Transaction.message``.
VNPT_TERMINAL_MESSAGES: dict[str, TxStatus] = {
    "EXPIRED": TxStatus.EXPIRED,
    "REJECTED": TxStatus.REJECTED,
    "CANCELLED": TxStatus.CANCELLED,
    "FAILED": TxStatus.FAILED,
}
#: Messages known to mean "waiting for the signer" (not worth a warning).
_PENDING_MESSAGES = {"", "PENDING", "SUCCESS", "SIG_WAIT_FOR_USER_CONFIRM"}
#: Sign requests sent for one client transaction id before giving up (each with a new id,
#: from :func:`wire_ids`).
_MAX_SENDS = 3


def wire_ids(client_transaction_id: str) -> list[str]:
    """The ``transaction_id`` values a request sent under ``client_transaction_id`` may
    carry, in the order they are used: the id itself, then ``<id>-2``, ``<id>-3``."""
    return [client_transaction_id] + [
        f"{client_transaction_id}-{n}" for n in range(2, _MAX_SENDS + 1)
    ]


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidResponse(f"vnpt: {what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidResponse(f"vnpt: {what} is not valid base64") from exc


@dataclass
class _Attempt:
    """A sign request sent under ``wire_id`` whose answer was lost."""

    wire_id: str
    expires_at: dt.datetime


class VnptSmartCAClient(SigningClientBase):
    """Client of VNPT SmartCA sp769.

    Args:
        base_url: e.g. ``https://rmgateway.vnptit.vn/sca/sp769`` (UAT).
        sp_id: the integrator's service-provider id.
        sp_password: its password (secret).
        user_id: the signer's ID number or tax code.
        timeout, verify, transport, retry, approval_window, keepalive_expiry: as for MISA.

    Example:
        >>> async with VnptSmartCAClient(url, "sp", pw, "0101234567") as c:  # doctest: +SKIP
        ...     certs = await c.list_certificates()
    """

    provider = "vnpt"

    def __init__(
        self,
        base_url: str,
        sp_id: str,
        sp_password: str,
        user_id: str,
        *,
        timeout: float = 30,
        verify: bool | str | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        approval_window: float = 300,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        super().__init__(approval_window)
        self._http = HttpCore(
            "vnpt",
            base_url,
            timeout=timeout,
            verify=verify,
            transport=transport,
            retry=retry,
            keepalive_expiry=keepalive_expiry,
            account=sp_id,
        )
        self._sp_id = sp_id
        self._sp_password = sp_password
        self._user_id = user_id
        self._expiry_of: dict[str, dt.datetime] = {}
        self._wire_ids: set[str] = set()
        self._lost: dict[str, list[_Attempt]] = {}

    def __repr__(self) -> str:
        return f"VnptSmartCAClient(account={self._user_id!r})"

    @property
    def account(self) -> str:
        return self._user_id

    async def aclose(self) -> None:
        await self._http.aclose()

    def _resend_is_safe(self) -> bool:
        # A repeat call first looks up the request whose answer was lost (see below).
        return True

    # ----------------------------------------------------------------- HTTP
    async def _post(self, path: str, body: dict[str, Any], *, repeatable: bool = True) -> Any:
        response = await self._http.request("POST", path, json_body=body, repeatable=repeatable)
        data = parse_json("vnpt", response)
        if not isinstance(data, dict):
            raise InvalidResponse(f"vnpt: {path} answered a JSON {type(data).__name__}")
        status = data.get("status_code", response.status_code)
        message = str(data.get("message") or "").strip()
        if response.status_code == 401 or status == 401:
            # 3.1: 401 SP_CREDENTIAL_INVALID is the sp account or the user id
            raise AuthenticationFailed(
                f"vnpt: sp_id {self._sp_id!r} / user_id {self._user_id!r} refused: "
                f"{message or 'HTTP 401'}",
                code=message or "401",
            )
        if response.status_code >= 400 or (isinstance(status, int) and status >= 400):
            code = message or str(status)
            http = status if isinstance(status, int) and status >= 400 else response.status_code
            raise ProviderError("vnpt", code, _user_message(data, code), status=http)
        return data

    def _with_credentials(self, fields: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "sp_id": self._sp_id,
            "sp_password": self._sp_password,
            "user_id": self._user_id,
        }
        body.update(fields)
        return body

    async def login(self, otp: OtpCallback | None = None) -> None:
        """No token to get: checks the credentials by listing certificates once."""
        await self.list_certificates()

    # ----------------------------------------------------------------- certificates
    async def list_certificates(self) -> list[Certificate]:
        """Every certificate of the signer, normalised (3.2)."""
        data = await self._post(
            _CERTS, self._with_credentials({"transaction_id": uuid.uuid4().hex})
        )
        payload = data.get("data")
        entries = payload.get("user_certificates") if isinstance(payload, dict) else None
        if not isinstance(entries, list):
            raise InvalidResponse("vnpt: get_certificate answer has no user_certificates array")
        certs: list[Certificate] = []
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise InvalidResponse(f"vnpt: certificate entry {n} is not an object")
            wire_serial = entry.get("serial_number")
            wire_serial = wire_serial if isinstance(wire_serial, str) else ""
            cert_id = entry.get("cert_id")
            alias = str(cert_id) if cert_id not in (None, "") else wire_serial or str(n)
            der = _b64(entry.get("cert_data"), f"certificate {alias}")
            chain_data = entry.get("chain_data") or {}
            if not isinstance(chain_data, dict):
                raise InvalidResponse(f"vnpt: chain_data of {alias} is not an object")
            chain = [
                _b64(chain_data[k], f"{k} of {alias}")
                for k in ("ca_cert", "root_cert")
                if chain_data.get(k)  # the SmartCA TH sample (4.2) has "root_cert": null
            ]
            raw_status = entry.get("cert_status")
            # The document is silent on an entry without cert_status (the 4.2 sample has
            # none); our choice: not declared inactive, so active, validity still from the DER.
            active = raw_status is None or str(raw_status).strip().lower() in _ACTIVE
            try:
                cert = certificate_from_der(
                    "vnpt",
                    alias,
                    der,
                    "active" if active else "inactive",
                    chain,
                    wire_serial=wire_serial,
                )
            except ValueError as exc:
                raise InvalidResponse(f"vnpt: certificate {alias} is not DER X.509") from exc
            certs.append(cert)
        return certs

    # ----------------------------------------------------------------- signing
    def _new_wire_id(self, client_transaction_id: str) -> str | None:
        """The next of :func:`wire_ids` not sent yet by this client; None when all were."""
        for wire_id in wire_ids(client_transaction_id):
            if wire_id not in self._wire_ids:
                self._wire_ids.add(wire_id)
                return wire_id
        return None

    async def _send_sign_request(
        self,
        certificate: Certificate,
        items: Sequence[SignItem],
        display_text: str,
        client_transaction_id: str,
    ) -> Transaction:
        lost = self._lost.setdefault(client_transaction_id, [])
        # A repeat call after a lost answer: look for that request before sending another.
        while lost:
            found = await self._find_orphan(lost[0])
            if found is not None:
                return found
            lost.pop(0)
        serial = certificate.wire_serial or format(int(certificate.serial, 16), "x")
        files = [
            {
                "file_type": "xml",
                "data_to_be_signed": item.digest.hex(),
                "doc_id": item.document_id,
                "sign_type": "hash",
            }
            for item in items
        ]
        last: TransportError | None = None
        while (wire_id := self._new_wire_id(client_transaction_id)) is not None:
            expires = self._expiry()
            body = self._with_credentials(
                {
                    "transaction_id": wire_id,
                    "transaction_desc": display_text,
                    "serial_number": serial,
                    "time_stamp": dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S"),
                    "sign_files": files,
                }
            )
            try:
                data = await self._post(_SIGN, body, repeatable=False)
            except TransportError as exc:
                if not exc.maybe_sent:
                    raise  # certainly never arrived; nothing is on the phone
                last = exc
                attempt = _Attempt(wire_id, expires)
                lost.append(attempt)
                log.warning(
                    "vnpt: the answer to sign request %s was lost (%s); looking it up",
                    wire_id,
                    exc,
                )
                await asyncio.sleep(self._http.retry.backoff(0))
                found = await self._find_orphan(attempt)
                if found is not None:
                    return found
                lost.remove(attempt)
                log.info("vnpt: %s never reached VNPT; sending a new request", wire_id)
                continue
            payload = data.get("data")
            tx_id = payload.get("transaction_id") if isinstance(payload, dict) else None
            if not isinstance(tx_id, str) or not tx_id:
                raise InvalidResponse("vnpt: sign answer has no data.transaction_id")
            self._expiry_of[tx_id] = expires
            log.info("vnpt: transaction %s for %s (%d documents)", tx_id, self._user_id, len(items))
            return Transaction(tx_id, "vnpt", TxStatus.PENDING, expires_at=expires)
        raise TransportError(
            f"vnpt: {_MAX_SENDS} sign requests for {client_transaction_id!r} lost their "
            f"answers and none reached VNPT ({last or 'every id of it was used'})",
            maybe_sent=False,
        )

    async def find_request(
        self, client_transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction | None:
        """The transaction VNPT holds for a request sent under ``client_transaction_id``
        (by an earlier process, whose answer was never journalled), or None.

        Reads the status (3.4) of each id the request may have gone under
        (:func:`wire_ids`); an id VNPT does not know answers 400 (the sandbox's choice, the
        document is silent; 404 is read the same way). When several are known (a request
        that arrived after its status was read as unknown), the approved one wins, then a
        pending one, then the last. Its expiry is not known after a crash: the approval
        window from now is an upper bound (VNPT reports the expiry itself).

        Raises:
            TransportError: a status could not be read (the request may be on the phone).
        """
        found: list[Transaction] = []
        for wire_id in wire_ids(client_transaction_id):
            self._expiry_of.setdefault(wire_id, self._expiry())
            try:
                tx = await self.get_transaction(wire_id, certificate, items)
            except ProviderError as exc:
                if exc.status in (400, 404):
                    self._expiry_of.pop(wire_id, None)
                    continue
                raise
            self._wire_ids.add(wire_id)
            found.append(tx)
        if not found:
            return None
        for wanted in (TxStatus.SUCCEEDED, TxStatus.PENDING):
            for tx in found:
                if tx.status is wanted:
                    log.info("vnpt: sign request %s found (%s)", tx.id, tx.status.value)
                    return tx
        log.info("vnpt: sign request %s found (%s)", found[-1].id, found[-1].status.value)
        return found[-1]

    async def _find_orphan(self, attempt: _Attempt) -> Transaction | None:
        """The transaction VNPT holds under ``attempt.wire_id``, or None when it has none.

        The document is silent on the status of an id it does not know; our choice: an
        answer 400 or 404 means unknown, a 200 means known (whatever its state: the poll
        that follows reads it).

        Raises:
            TransportError: VNPT could not be asked (the request may be on the phone).
        """
        try:
            await self._status(attempt.wire_id)
        except ProviderError as exc:
            if exc.status in (400, 404):
                return None
            raise
        except TransportError as exc:
            raise TransportError(
                f"vnpt: the answer to sign request {attempt.wire_id!r} was lost and its "
                f"status could not be read ({exc}); it may be waiting on the phone",
                maybe_sent=True,
            ) from exc
        log.info("vnpt: sign request %s reached VNPT; waiting on it", attempt.wire_id)
        self._expiry_of[attempt.wire_id] = attempt.expires_at
        return Transaction(attempt.wire_id, "vnpt", TxStatus.PENDING, expires_at=attempt.expires_at)

    async def _status(self, transaction_id: str) -> dict[str, Any]:
        # 3.4 documents no body; VNPT's C# and PHP samples post an empty object.
        data: dict[str, Any] = await self._post(
            f"{_SIGN}/{quote(transaction_id, safe='')}/status", {}
        )
        return data

    async def get_transaction(
        self, transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction:
        """The transaction's status; on success the verified signatures by document id.

        Pending while ``data.signatures`` is null and the message is not a terminal one
        (:data:`VNPT_TERMINAL_MESSAGES`); an unknown message is kept in ``message``.
        """
        data = await self._status(transaction_id)
        message = str(data.get("message") or "").strip()
        payload = data.get("data") if isinstance(data.get("data"), dict) else {}
        assert isinstance(payload, dict)
        expires = self._expiry_of.get(transaction_id)
        raw = payload.get("signatures")
        if raw is not None and not isinstance(raw, list):
            raise InvalidResponse(f"vnpt: {transaction_id}: signatures is not an array")
        if raw:
            pairs: list[tuple[str, bytes]] = []
            for entry in raw:
                if not isinstance(entry, dict) or not isinstance(entry.get("doc_id"), str):
                    raise InvalidResponse(f"vnpt: {transaction_id}: malformed signature entry")
                doc = entry["doc_id"]
                pairs.append((doc, _b64(entry.get("signature_value"), f"signature of {doc}")))
            signatures = verify_signatures("vnpt", certificate, items, pairs)
            return Transaction(
                transaction_id, "vnpt", TxStatus.SUCCEEDED, signatures, expires_at=expires
            )
        status = VNPT_TERMINAL_MESSAGES.get(message.upper())
        if status is None:
            if message.upper() not in _PENDING_MESSAGES:
                log.warning(
                    "vnpt: %s: status message %r not in the document; still waiting",
                    transaction_id,
                    message,
                )
            return Transaction(
                transaction_id,
                "vnpt",
                TxStatus.PENDING,
                message=message or None,
                expires_at=expires,
            )
        code = payload.get("error_code")
        desc = payload.get("error_desc")
        return Transaction(
            transaction_id,
            "vnpt",
            status,
            error_code=str(code) if code else message,
            message=str(desc) if desc else None,
            expires_at=expires,
        )


def _user_message(data: dict[str, Any], fallback: str) -> str:
    payload = data.get("data")
    if isinstance(payload, dict):
        for key in ("error_desc", "message"):
            if payload.get(key):
                return str(payload[key])
    return fallback
