"""VNPT SmartCA client (sp769 API).

No token: every ``POST`` body carries the integrator's ``sp_id`` / ``sp_password`` and
the signer's ``user_id``. Digests travel as hex; ``transaction_id`` is the integrator's
own unique id, so a sign request can be repeated safely with the same id.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import ssl
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from esign._http import HttpCore, RetryPolicy, parse_json
from esign._verify import verify_signatures
from esign.base import OtpCallback, SigningClientBase
from esign.errors import AuthenticationFailed, InvalidResponse, ProviderError
from esign.models import Certificate, SignItem, Transaction, TxStatus, certificate_from_der

__all__ = ["VnptSmartCAClient"]

log = logging.getLogger("esign.vnpt")

_ACTIVE = {"active", "valid", "đang hoạt động", "hoạt động"}
_STATUS_MAP = {
    "PENDING": TxStatus.PENDING,
    "SIG_WAIT_FOR_USER_CONFIRM": TxStatus.PENDING,
    "SUCCESS": TxStatus.SUCCEEDED,
    "EXPIRED": TxStatus.EXPIRED,
    "REJECTED": TxStatus.REJECTED,
    "CANCELLED": TxStatus.CANCELLED,
    "FAILED": TxStatus.FAILED,
}


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidResponse(f"vnpt: {what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidResponse(f"vnpt: {what} is not valid base64") from exc


class VnptSmartCAClient(SigningClientBase):
    """Client of VNPT SmartCA sp769.

    Args:
        base_url: e.g. ``https://rmgateway.vnptit.vn/sca/sp769`` (UAT).
        sp_id: the integrator's service-provider id.
        sp_password: its password (secret).
        user_id: the signer's ID number or tax code.
        timeout, verify, transport, retry, approval_window: as for MISA.

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
    ) -> None:
        super().__init__(approval_window)
        self._http = HttpCore(
            "vnpt", base_url, timeout=timeout, verify=verify, transport=transport, retry=retry
        )
        self._sp_id = sp_id
        self._sp_password = sp_password
        self._user_id = user_id
        self._expiry_of: dict[str, dt.datetime] = {}

    def __repr__(self) -> str:
        return f"VnptSmartCAClient(account={self._user_id!r})"

    @property
    def account(self) -> str:
        return self._user_id

    async def aclose(self) -> None:
        await self._http.aclose()

    def _resend_is_safe(self) -> bool:
        return True  # the provider keys sign requests on our transaction_id

    async def _call(self, path: str, fields: dict[str, Any]) -> Any:
        body = {"sp_id": self._sp_id, "sp_password": self._sp_password, "user_id": self._user_id}
        body.update(fields)
        response = await self._http.request("POST", path, json_body=body)
        data = parse_json("vnpt", response)
        if not isinstance(data, dict):
            raise InvalidResponse(f"vnpt: {path} answered a JSON {type(data).__name__}")
        status = data.get("status_code", response.status_code)
        message = str(data.get("message") or "")
        if response.status_code == 401 or status == 401:
            raise AuthenticationFailed(
                f"vnpt: service credentials refused for sp_id {self._sp_id!r}: {message}",
                code=message or "401",
            )
        if response.status_code >= 400 or (isinstance(status, int) and status >= 400):
            code = message or str(status)
            raise ProviderError("vnpt", code, _user_message(data, code), status=int(status))
        return data

    async def login(self, otp: OtpCallback | None = None) -> None:
        """No token to get: checks the credentials by listing certificates once."""
        await self.list_certificates()

    async def list_certificates(self) -> list[Certificate]:
        """Every certificate of the signer, normalised."""
        data = await self._call(
            "v1/credentials/get_certificate", {"transaction_id": uuid.uuid4().hex}
        )
        payload = data.get("data")
        entries = payload.get("user_certificates") if isinstance(payload, dict) else None
        if not isinstance(entries, list):
            raise InvalidResponse("vnpt: get_certificate answer has no user_certificates array")
        certs: list[Certificate] = []
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise InvalidResponse(f"vnpt: certificate entry {n} is not an object")
            alias = str(entry.get("cert_id") or entry.get("serial_number") or n)
            der = _b64(entry.get("cert_data"), f"certificate {alias}")
            chain_data = entry.get("chain_data") or {}
            if not isinstance(chain_data, dict):
                raise InvalidResponse(f"vnpt: chain_data of {alias} is not an object")
            chain = [
                _b64(chain_data[k], f"{k} of {alias}")
                for k in ("ca_cert", "root_cert")
                if chain_data.get(k)
            ]
            active = str(entry.get("cert_status", "")).strip().lower() in _ACTIVE
            try:
                cert = certificate_from_der(
                    "vnpt", alias, der, "active" if active else "inactive", chain
                )
            except ValueError as exc:
                raise InvalidResponse(f"vnpt: certificate {alias} is not DER X.509") from exc
            certs.append(cert)
        return certs

    async def _send_sign_request(
        self,
        certificate: Certificate,
        items: Sequence[SignItem],
        display_text: str,
        client_transaction_id: str,
    ) -> Transaction:
        data = await self._call(
            "v1/signatures/sign",
            {
                "transaction_id": client_transaction_id,
                "transaction_desc": display_text,
                "serial_number": certificate.serial,
                "time_stamp": dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S"),
                "sign_files": [
                    {
                        "file_type": "xml",
                        "data_to_be_signed": item.digest.hex(),
                        "doc_id": item.document_id,
                        "sign_type": "hash",
                    }
                    for item in items
                ],
            },
        )
        payload = data.get("data")
        tx_id = payload.get("transaction_id") if isinstance(payload, dict) else None
        if not isinstance(tx_id, str) or not tx_id:
            raise InvalidResponse("vnpt: sign answer has no data.transaction_id")
        expires = self._expiry()
        self._expiry_of[tx_id] = expires
        log.info("vnpt: transaction %s for %s (%d documents)", tx_id, self._user_id, len(items))
        return Transaction(tx_id, "vnpt", TxStatus.PENDING, expires_at=expires)

    async def get_transaction(
        self, transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
    ) -> Transaction:
        """The transaction's status; on success the verified signatures by document id."""
        data = await self._call(f"v1/signatures/sign/{quote(transaction_id, safe='')}/status", {})
        message = str(data.get("message") or "").upper()
        status = _STATUS_MAP.get(message)
        if status is None:
            raise InvalidResponse(f"vnpt: {transaction_id}: unknown status {message!r}")
        payload = data.get("data") if isinstance(data.get("data"), dict) else {}
        assert isinstance(payload, dict)
        expires = self._expiry_of.get(transaction_id)
        if status is TxStatus.SUCCEEDED:
            raw = payload.get("signatures")
            if not isinstance(raw, list):
                raise InvalidResponse(f"vnpt: {transaction_id} succeeded without signatures")
            pairs: list[tuple[str, bytes]] = []
            for entry in raw:
                if not isinstance(entry, dict) or not isinstance(entry.get("doc_id"), str):
                    raise InvalidResponse(f"vnpt: {transaction_id}: malformed signature entry")
                doc = entry["doc_id"]
                pairs.append((doc, _b64(entry.get("signature_value"), f"signature of {doc}")))
            signatures = verify_signatures("vnpt", certificate, items, pairs)
            return Transaction(transaction_id, "vnpt", status, signatures, expires_at=expires)
        code = payload.get("error_code")
        desc = payload.get("error_desc")
        return Transaction(
            transaction_id,
            "vnpt",
            status,
            error_code=str(code) if code else (message if status.terminal else None),
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
