"""CA2 RemoteSigning client (NACENCOMM), the ``.../api/data`` wire.

No vendor document was found. Every wire detail below comes from public **client code**:
Thái Sơn's eBH remote-signing service (repository ``5310101/ERS_EbhRemoteSigning``),
namely ``ERS_Domain/CAService/CA2SigningService.cs`` (the three calls),
``ERS_Domain/Request/CA2Request.cs`` and ``ERS_Domain/Response/CA2Response.cs`` (the
bodies), ``ERS_Domain/clsUtilities/GlobalVar.cs`` (``CA2_URI``: the paths),
``ERS_Domain/CustomSigner/CA2CustomSigner/CA2SignUtilities.cs`` (what is signed) and
``CA2_Winservice/Process/*.cs`` (how the answers are read). Each wire choice carries a
comment saying "client code" (what eBH does) or "our choice" (where eBH says nothing).

The three calls, all ``POST`` JSON under the base (client code, ``CA2_URI``):

* ``get_certificate`` ``{sp_id, sp_password, user_id, serial_number, transaction_id}`` ->
  ``{status_code, message, data: {transaction_id, user_certificates: [{cert_data, cert_id,
  chain_data: {ca_cert, root_cert}, serial_number}]}}``;
* ``sign`` ``{sp_id, sp_password, user_id, sign_files: [{data_to_be_signed, doc_id,
  file_type, sign_type: "hash"}], transaction_id, serial_number, time_stamp}`` ->
  ``{status_code, message, data: {transaction_id, sign_files}}``;
* ``status`` ``{sp_id, sp_password, user_id, transaction_id}`` -> ``{sp_id, status_code,
  message, data: {transaction_id, signatures: [{doc_id, signature_value,
  timestamp_signature}]}}``: an empty ``signature_value`` is "not signed yet", ``"-2"``
  is "the server could not sign this file".

``transaction_id`` is ours (client code: eBH makes a new GUID per sign request and polls
``status`` with it). So, as for VNPT, a request whose answer was lost is found again by
reading the status of the ids it may have gone under (:func:`wire_ids`), and
:meth:`Ca2RemoteSigningClient.find_request` closes the send window after a crash.
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

import httpx

from esign._http import KEEPALIVE_EXPIRY, HttpCore, RetryPolicy, parse_json
from esign._verify import verify_signatures
from esign.base import OtpCallback, SigningClientBase
from esign.errors import AuthenticationFailed, InvalidResponse, ProviderError, TransportError
from esign.models import Certificate, SignItem, Transaction, TxStatus, certificate_from_der

__all__ = [
    "CA2_DEFAULT_URL",
    "CA2_NOT_SIGNED",
    "CA2_SERVER_CANNOT_SIGN",
    "CA2_TERMINAL_MESSAGES",
    "Ca2RemoteSigningClient",
    "wire_ids",
]

log = logging.getLogger("esign.ca2")

#: The production base eBH is configured with (client code: ``CA2API_URI`` in
#: ``CA2_Winservice/App.config``).
CA2_DEFAULT_URL = "https://rmsca2.nacencomm.vn/api/data"
# client code (GlobalVar.cs, CA2_URI): the three paths under the base
_CERTS = "get_certificate"
_SIGN = "sign"
_STATUS = "status"
#: client code (SignToKhaiProcess.cs): ``signature_value == ""`` is "waiting for the signer"
CA2_NOT_SIGNED = ""
#: client code (SignToKhaiProcess.cs): ``signature_value == "-2"`` is "the server cannot
#: sign this file" (eBH gives the file up)
CA2_SERVER_CANNOT_SIGN = "-2"
#: The client code knows no refusal or expiry (eBH stops polling after about 30 tries).
#: Our choice: a ``message`` of one of these words on a 200 answer ends the transaction;
#: any other message while a signature is empty is read as still pending.
CA2_TERMINAL_MESSAGES: dict[str, TxStatus] = {
    "REJECTED": TxStatus.REJECTED,
    "EXPIRED": TxStatus.EXPIRED,
    "CANCELLED": TxStatus.CANCELLED,
    "FAILED": TxStatus.FAILED,
}
#: Sign requests sent for one client transaction id before giving up (our choice, as VNPT).
_MAX_SENDS = 3
#: client code: ``time_stamp`` is ``DateTime.Now.ToString("yyyyMMddHHmmss")`` on eBH's
#: servers, which run in Vietnam; our choice: Vietnam's time (UTC+7) whatever our zone.
_VIETNAM = dt.timezone(dt.timedelta(hours=7))


def wire_ids(client_transaction_id: str) -> list[str]:
    """The ``transaction_id`` values a request sent under ``client_transaction_id`` may
    carry, in order: the id itself, then ``<id>-2``, ``<id>-3`` (our choice)."""
    return [client_transaction_id] + [
        f"{client_transaction_id}-{n}" for n in range(2, _MAX_SENDS + 1)
    ]


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidResponse(f"ca2: {what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidResponse(f"ca2: {what} is not valid base64") from exc


@dataclass
class _Attempt:
    """A sign request sent under ``wire_id`` whose answer was lost."""

    wire_id: str
    expires_at: dt.datetime


class Ca2RemoteSigningClient(SigningClientBase):
    """Client of CA2 RemoteSigning (NACENCOMM).

    Args:
        base_url: the ``.../api/data`` base (default :data:`CA2_DEFAULT_URL`).
        sp_id: the integrator's service-provider id.
        sp_password: its password (secret).
        user_id: the signer's id at CA2 (ID number or tax code).
        timeout, verify, transport, retry, approval_window, keepalive_expiry: as for VNPT.

    Example:
        >>> async with Ca2RemoteSigningClient(url, "sp", pw, "0101234567") as c:  # doctest: +SKIP
        ...     certs = await c.list_certificates()
    """

    provider = "ca2"

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
        # client code: eBH polls about 30 times, 5 s apart; the window itself is nowhere
        # written. Our choice: 300 s, as VNPT's.
        approval_window: float = 300,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        super().__init__(approval_window)
        self._http = HttpCore(
            "ca2",
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
        return f"Ca2RemoteSigningClient(account={self._user_id!r})"

    @property
    def account(self) -> str:
        return self._user_id

    async def aclose(self) -> None:
        await self._http.aclose()

    def _resend_is_safe(self) -> bool:
        # A repeat call first looks up the request whose answer was lost (see below).
        return True

    # ----------------------------------------------------------------- HTTP
    async def _post(
        self, path: str, fields: dict[str, Any], *, repeatable: bool = True
    ) -> dict[str, Any]:
        # client code: every body starts with sp_id / sp_password / user_id
        body: dict[str, Any] = {
            "sp_id": self._sp_id,
            "sp_password": self._sp_password,
            "user_id": self._user_id,
        }
        body.update(fields)
        response = await self._http.request("POST", path, json_body=body, repeatable=repeatable)
        data = parse_json("ca2", response)
        if not isinstance(data, dict):
            raise InvalidResponse(f"ca2: {path} answered a JSON {type(data).__name__}")
        # client code: success is ``status_code == 200`` in the body; eBH reads nothing
        # else. Our choice: an HTTP error status counts too.
        status = data.get("status_code")
        message = str(data.get("message") or "").strip()
        if response.status_code == 401 or status == 401:
            # the client code is silent on refused credentials; our choice: 401 (as VNPT)
            raise AuthenticationFailed(
                f"ca2: sp_id {self._sp_id!r} / user_id {self._user_id!r} refused: "
                f"{message or 'HTTP 401'}",
                code="401",
            )
        failed_status = status if isinstance(status, int) and status != 200 else None
        if response.status_code >= 400 or failed_status is not None:
            code = str(failed_status if failed_status is not None else response.status_code)
            http = failed_status if failed_status is not None else response.status_code
            raise ProviderError("ca2", code, _user_message(path, code, message), status=http)
        if status != 200:
            raise InvalidResponse(f"ca2: {path} answer has no status_code 200")
        return data

    async def login(self, otp: OtpCallback | None = None) -> None:
        """No token to get (client code): checks the credentials by listing certificates."""
        await self.list_certificates()

    # ----------------------------------------------------------------- certificates
    async def list_certificates(self) -> list[Certificate]:
        """Every certificate of the signer, normalised."""
        # client code: serial_number "" lists every certificate; transaction_id is a new
        # GUID per call
        data = await self._post(_CERTS, {"serial_number": "", "transaction_id": uuid.uuid4().hex})
        payload = data.get("data")
        entries = payload.get("user_certificates") if isinstance(payload, dict) else None
        if not isinstance(entries, list):
            raise InvalidResponse("ca2: get_certificate answer has no user_certificates array")
        certs: list[Certificate] = []
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise InvalidResponse(f"ca2: certificate entry {n} is not an object")
            wire_serial = entry.get("serial_number")
            wire_serial = wire_serial if isinstance(wire_serial, str) else ""
            cert_id = entry.get("cert_id")
            alias = str(cert_id) if cert_id not in (None, "") else wire_serial or str(n)
            der = _b64(entry.get("cert_data"), f"certificate {alias}")
            chain_data = entry.get("chain_data") or {}
            if not isinstance(chain_data, dict):
                raise InvalidResponse(f"ca2: chain_data of {alias} is not an object")
            chain = [
                _b64(chain_data[k], f"{k} of {alias}")
                for k in ("ca_cert", "root_cert")
                if chain_data.get(k)
            ]
            # client code: an entry carries no status (CA2Certificate has none); our
            # choice: listed means active, validity still from the DER
            try:
                cert = certificate_from_der(
                    "ca2", alias, der, "active", chain, wire_serial=wire_serial
                )
            except ValueError as exc:
                raise InvalidResponse(f"ca2: certificate {alias} is not DER X.509") from exc
            certs.append(cert)
        return certs

    # ----------------------------------------------------------------- signing
    def _new_wire_id(self, client_transaction_id: str) -> str | None:
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
        # client code: the sign body has no description field, so ``display_text`` does
        # not travel; the phone shows the doc_id values.
        lost = self._lost.setdefault(client_transaction_id, [])
        while lost:
            found = await self._find_orphan(lost[0])
            if found is not None:
                return found
            lost.pop(0)
        # our choice: the serial exactly as get_certificate listed it (eBH sends the one
        # its user configured)
        serial = certificate.wire_serial or format(int(certificate.serial, 16), "x")
        files = [
            {
                # client code (CA2SignUtilities.ComputeHashValueSendToServer): base64 of
                # the SHA-256 digest of the canonical SignedInfo
                "data_to_be_signed": base64.b64encode(item.digest).decode(),
                "doc_id": item.document_id,
                # client code: "xml" for a SignedInfo digest, "pdf" for a PDF's
                "file_type": item.kind,
                "sign_type": "hash",
            }
            for item in items
        ]
        last: TransportError | None = None
        while (wire_id := self._new_wire_id(client_transaction_id)) is not None:
            expires = self._expiry()
            fields = {
                "sign_files": files,
                "transaction_id": wire_id,
                "serial_number": serial,
                "time_stamp": dt.datetime.now(_VIETNAM).strftime("%Y%m%d%H%M%S"),
            }
            try:
                data = await self._post(_SIGN, fields, repeatable=False)
            except TransportError as exc:
                if not exc.maybe_sent:
                    raise
                last = exc
                attempt = _Attempt(wire_id, expires)
                lost.append(attempt)
                log.warning(
                    "ca2: the answer to sign request %s was lost (%s); looking it up",
                    wire_id,
                    exc,
                )
                await asyncio.sleep(self._http.retry.backoff(0))
                found = await self._find_orphan(attempt)
                if found is not None:
                    return found
                lost.remove(attempt)
                log.info("ca2: %s never reached CA2; sending a new request", wire_id)
                continue
            payload = data.get("data")
            answered = payload.get("transaction_id") if isinstance(payload, dict) else None
            if answered not in (None, "", wire_id):
                # client code: eBH ignores the answer's id and polls with its own; our
                # choice: the same, noting the difference
                log.warning("ca2: sign request %s answered as %r", wire_id, answered)
            self._expiry_of[wire_id] = expires
            log.info(
                "ca2: transaction %s for %s (%d documents)", wire_id, self._user_id, len(items)
            )
            return Transaction(wire_id, "ca2", TxStatus.PENDING, expires_at=expires)
        raise TransportError(
            f"ca2: {_MAX_SENDS} sign requests for {client_transaction_id!r} lost their "
            f"answers and none reached CA2 ({last or 'every id of it was used'})",
            maybe_sent=False,
        )

    async def find_request(
        self, client_transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction | None:
        """The transaction CA2 holds for a request sent under ``client_transaction_id``
        (by an earlier process whose answer was never journalled), or None.

        Reads the status of each id the request may have gone under (:func:`wire_ids`).
        The client code is silent on the status of an unknown id; our choice: 400 or 404
        (in HTTP or in ``status_code``) means unknown. The approved one wins, then a
        pending one, then the last.

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
                    log.info("ca2: sign request %s found (%s)", tx.id, tx.status.value)
                    return tx
        log.info("ca2: sign request %s found (%s)", found[-1].id, found[-1].status.value)
        return found[-1]

    async def _find_orphan(self, attempt: _Attempt) -> Transaction | None:
        """The transaction CA2 holds under ``attempt.wire_id``, or None (our choice, as in
        :meth:`find_request`: 400 / 404 is unknown, 200 is known)."""
        try:
            await self._status(attempt.wire_id)
        except ProviderError as exc:
            if exc.status in (400, 404):
                return None
            raise
        except TransportError as exc:
            raise TransportError(
                f"ca2: the answer to sign request {attempt.wire_id!r} was lost and its "
                f"status could not be read ({exc}); it may be waiting on the phone",
                maybe_sent=True,
            ) from exc
        log.info("ca2: sign request %s reached CA2; waiting on it", attempt.wire_id)
        self._expiry_of[attempt.wire_id] = attempt.expires_at
        return Transaction(attempt.wire_id, "ca2", TxStatus.PENDING, expires_at=attempt.expires_at)

    async def _status(self, transaction_id: str) -> dict[str, Any]:
        # client code (CA2StatusCheckRequest): the credentials, the user and the id
        return await self._post(_STATUS, {"transaction_id": transaction_id})

    async def get_transaction(
        self, transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction:
        """The transaction's status; on success the verified signatures by document id.

        Pending while a ``signature_value`` is empty (client code); ``"-2"`` for any
        document fails the transaction (client code); a terminal ``message``
        (:data:`CA2_TERMINAL_MESSAGES`, our choice) ends it.
        """
        data = await self._status(transaction_id)
        message = str(data.get("message") or "").strip()
        payload = data.get("data") if isinstance(data.get("data"), dict) else {}
        assert isinstance(payload, dict)
        expires = self._expiry_of.get(transaction_id)
        raw = payload.get("signatures")
        if raw is not None and not isinstance(raw, list):
            raise InvalidResponse(f"ca2: {transaction_id}: signatures is not an array")
        values: list[tuple[str, str]] = []
        for entry in raw or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("doc_id"), str):
                raise InvalidResponse(f"ca2: {transaction_id}: malformed signature entry")
            value = entry.get("signature_value")
            if value is None:
                value = CA2_NOT_SIGNED  # our choice: null reads as empty
            if not isinstance(value, str):
                raise InvalidResponse(
                    f"ca2: {transaction_id}: signature of {entry['doc_id']} is not a string"
                )
            values.append((entry["doc_id"], value.strip()))
        cannot = [doc for doc, value in values if value == CA2_SERVER_CANNOT_SIGN]
        if cannot:
            return Transaction(
                transaction_id,
                "ca2",
                TxStatus.FAILED,
                error_code=CA2_SERVER_CANNOT_SIGN,
                message=(
                    f"Máy chủ CA2 không ký được tài liệu {', '.join(cannot)} (mã -2); "
                    "cần gửi lại yêu cầu ký."
                ),
                expires_at=expires,
            )
        if values and all(value != CA2_NOT_SIGNED for _, value in values):
            pairs = [(doc, _b64(value, f"signature of {doc}")) for doc, value in values]
            signatures = verify_signatures("ca2", certificate, items, pairs)
            return Transaction(
                transaction_id, "ca2", TxStatus.SUCCEEDED, signatures, expires_at=expires
            )
        status = CA2_TERMINAL_MESSAGES.get(message.upper())
        if status is None:
            return Transaction(
                transaction_id,
                "ca2",
                TxStatus.PENDING,
                message=message or None,
                expires_at=expires,
            )
        return Transaction(
            transaction_id,
            "ca2",
            status,
            error_code=message.upper(),
            message=_TERMINAL_WORDS[status],
            expires_at=expires,
        )


#: What the accountant reads for a terminal message (our words; the codes are ours too).
_TERMINAL_WORDS = {
    TxStatus.REJECTED: "Người ký đã từ chối yêu cầu ký trên điện thoại (CA2).",
    TxStatus.EXPIRED: "Yêu cầu ký đã hết hạn mà người ký chưa duyệt trên điện thoại (CA2).",
    TxStatus.CANCELLED: "Yêu cầu ký đã bị hủy (CA2).",
    TxStatus.FAILED: "CA2 không thực hiện được yêu cầu ký.",
}

_WHAT = {_CERTS: "lấy chứng thư số", _SIGN: "ký", _STATUS: "tra cứu kết quả ký"}


def _user_message(path: str, code: str, message: str) -> str:
    """One Vietnamese sentence naming the call and CA2's code, with CA2's own words as
    they came (never our credentials)."""
    what = _WHAT.get(path, path)
    said = f" CA2 trả lời: «{message}»." if message else ""
    return f"CA2 từ chối yêu cầu {what} (mã {code}).{said}"
