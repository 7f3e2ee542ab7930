"""The CA2 RemoteSigning (NACENCOMM) wire: get_certificate, sign (hashes) and status.

No vendor document was found; the wire is read from the public client code of Thái Sơn's
eBH remote-signing service (``5310101/ERS_EbhRemoteSigning``: ``CA2SigningService.cs``,
``CA2Request.cs``, ``CA2Response.cs``, ``GlobalVar.cs`` and ``CA2_Winservice/``). Comments
say "client code" for what that code sends or reads, and "the sandbox's choice" where it
says nothing. Strict as far as the client code allows: a body carries the keys eBH sends
and no others, every one eBH always fills is required.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.provider.common import Handler, b64, faulty, json_body
from sandbox.provider.state import Account, Cert, Document, ProviderState, SigningTx

__all__ = ["CA2_BASE", "CA2_STATUS_MESSAGES", "ca2_routes"]

#: Where the sandbox serves the wire (the sandbox's choice: one host plays every provider;
#: the real base is ``https://<host>/api/data``, client code ``CA2API_URI``).
CA2_BASE = "/ca2/api/data"
#: client code (CA2Request.cs): the keys of each body, all sent by eBH on every call.
_KEYS = {
    "get_certificate": {"sp_id", "sp_password", "user_id", "serial_number", "transaction_id"},
    "sign": {
        "sp_id",
        "sp_password",
        "user_id",
        "sign_files",
        "transaction_id",
        "serial_number",
        "time_stamp",
    },
    "status": {"sp_id", "sp_password", "user_id", "transaction_id"},
}
_FILE_KEYS = {"data_to_be_signed", "doc_id", "file_type", "sign_type"}
#: client code: eBH sends "xml" or "pdf".
_FILE_TYPES = {"xml", "pdf"}
#: client code: ``time_stamp`` is ``ToString("yyyyMMddHHmmss")``.
_TIME_STAMP = re.compile(r"\d{14}")
#: ``message`` of a status answer by state. The client code reads none of them (it reads
#: the signature values); the sandbox's choice, the words the client reads as terminal.
CA2_STATUS_MESSAGES = {
    "pending": "PENDING",
    "approved": "SUCCESS",
    "rejected": "REJECTED",
    "expired": "EXPIRED",
    "failed": "FAILED",
    "cancelled": "CANCELLED",
}
#: client code (SignToKhaiProcess.cs): the value of a file the server cannot sign.
_CANNOT_SIGN = "-2"
_VIETNAM = dt.timezone(dt.timedelta(hours=7))


def _ca2(status: int, message: str, data: Any = None, **extra: Any) -> JSONResponse:
    # client code (CA2Response.cs): {data, message, status_code}; the sandbox's choice:
    # the HTTP status is the body's status_code
    return JSONResponse(
        {"status_code": status, "message": message, "data": data, **extra}, status_code=status
    )


class _Ca2:
    def __init__(self, state: ProviderState) -> None:
        self.s = state

    async def _auth(self, request: Request, call: str) -> tuple[dict[str, Any], Account] | Response:
        """The body of ``call``: its keys, then sp_id / sp_password, then user_id.

        The client code is silent on the answers; the sandbox's choice: 400 for a body
        that is not the documented shape (a key missing, empty or unknown), 401 for an
        integrator or a user CA2 does not know.
        """
        try:
            body = await json_body(request)
        except ValueError as exc:
            return _ca2(400, str(exc))
        if not isinstance(body, dict):
            return _ca2(400, "body must be a JSON object")
        unknown = sorted(set(body) - _KEYS[call])
        if unknown:
            return _ca2(400, f"{call}: unknown parameters {unknown}")
        for key in ("sp_id", "sp_password", "user_id", "transaction_id"):
            if not isinstance(body.get(key), str) or not body[key]:
                return _ca2(400, f"{call}: {key} is required")
        sp_id, sp_pw = body["sp_id"], body["sp_password"]
        if not any(
            hmac.compare_digest(sp_id.encode(), c.sp_id.encode())
            and hmac.compare_digest(sp_pw.encode(), c.sp_password.encode())
            for c in self.s.config.clients.ca2
        ):
            self.s.audit.write("ca2", "login_failed", sp_id=sp_id)
            return _ca2(401, "sp_id / sp_password không hợp lệ")
        acc = self.s.accounts.get(body["user_id"])
        if acc is None or acc.config.provider != "ca2":
            self.s.audit.write("ca2", "login_failed", sp_id=sp_id, reason="user_id")
            return _ca2(401, "user_id không hợp lệ")
        return body, acc

    @staticmethod
    def _cert_entry(c: Cert) -> dict[str, Any]:
        """A user_certificates entry: every field of CA2Certificate (client code)."""
        return {
            "cert_data": b64(c.der),
            "cert_id": c.alias,
            "chain_data": {"ca_cert": b64(c.chain[0]), "root_cert": b64(c.chain[1])},
            # the sandbox's choice: upper-case hex (VNPT's is lower-case), so a client
            # that normalises instead of echoing is caught
            "serial_number": c.serial_hex,
        }

    async def get_certificate(self, request: Request) -> Response:
        got = await self._auth(request, "get_certificate")
        if isinstance(got, Response):
            return got
        body, acc = got
        serial = body.get("serial_number", "")
        if not isinstance(serial, str):
            return _ca2(400, "serial_number must be a string")
        # client code: "" (the default) asks for every certificate of the user
        certs = [c for c in acc.certs if not serial or c.serial_hex == serial]
        self.s.audit.write("ca2", "certificates", user=acc.name, count=len(certs))
        return _ca2(
            200,
            "Success",
            {
                "transaction_id": body["transaction_id"],
                "user_certificates": [self._cert_entry(c) for c in certs],
            },
        )

    async def sign(self, request: Request) -> Response:
        got = await self._auth(request, "sign")
        if isinstance(got, Response):
            return got
        body, acc = got
        tid = body["transaction_id"]
        if tid in self.s.ca2_ids:
            # the sandbox's choice: an id names one request (eBH makes a new GUID each time)
            return _ca2(400, f"transaction_id {tid!r} đã được sử dụng")
        stamp = body.get("time_stamp")
        if not isinstance(stamp, str) or not _TIME_STAMP.fullmatch(stamp):
            return _ca2(400, "time_stamp: yyyyMMddHHmmss")
        docs = _documents(body.get("sign_files"))
        if isinstance(docs, str):
            return _ca2(400, docs)
        serial = body.get("serial_number")
        if not isinstance(serial, str) or not serial:
            # client code: eBH always sends the certificate's serial
            return _ca2(400, "serial_number is required")
        cert = next((c for c in acc.certs if c.serial_hex == serial), None)
        if cert is None:
            # compared byte for byte with what get_certificate listed
            return _ca2(403, f"serial_number {serial!r} không thuộc người ký")
        if cert.key_status != "ACTIVE" or not cert.valid_now():
            return _ca2(403, "Chứng thư số không hợp lệ")
        tx = self.s.new_tx(
            tx_id=tid,
            service="ca2",
            account=acc,
            cert=cert,
            documents=docs,
            # client code: the sign body carries no text for the phone; the sandbox's
            # choice: the phone says what asks and how many documents (then lists them)
            display_text=f"Yêu cầu ký số {len(docs)} tài liệu (CA2 RemoteSigning)",
            owner=body["sp_id"],
        )
        self.s.ca2_ids[tid] = tx.id
        self.s.create_tx(tx)
        if self.s.lose_sign_response():
            self.s.audit.write("provider", "fault", fault="lost_sign_answer", transaction=tx.id)
            return JSONResponse({"error": "BadGateway", "errorCode": "502"}, status_code=502)
        # client code (FileSigned): {transaction_id, sign_files: string[]}; what the
        # strings are is not said; the sandbox's choice: the doc_id values
        return _ca2(200, "Success", {"transaction_id": tx.id, "sign_files": [d.id for d in docs]})

    async def status(self, request: Request) -> Response:
        got = await self._auth(request, "status")
        if isinstance(got, Response):
            return got
        body, acc = got
        known = self.s.ca2_ids.get(body["transaction_id"])
        tx = self.s.transactions.get(known) if known else None
        if tx is None or tx.account != acc.name:
            # the client code is silent on an unknown id; the sandbox's choice: 404
            return _ca2(404, f"transaction {body['transaction_id']!r} not found")
        tx = self.s.settle(tx)
        self.s.audit.write("ca2", "status", user=tx.account, transaction=tx.id, state=tx.state)
        data = {"transaction_id": tx.id, "signatures": _signatures(tx)}
        # client code (CA2StatusCheckResponse): sp_id beside status_code / message / data
        return _ca2(200, CA2_STATUS_MESSAGES[tx.state], data, sp_id=body["sp_id"])


def _signatures(tx: SigningTx) -> list[dict[str, Any]]:
    """One entry per document (client code: doc_id, signature_value, timestamp_signature):
    "" while not signed, the base64 value once signed, "-2" when signing failed."""
    stamp = ""
    if tx.state == "approved" and tx.resolved_wall is not None:
        # the sandbox's choice: the approval time, as time_stamp is written
        stamp = tx.resolved_wall.astimezone(_VIETNAM).strftime("%Y%m%d%H%M%S")
    out = []
    for n, d in enumerate(tx.documents):
        if tx.state == "approved":
            value = base64.b64encode(tx.signatures[n]).decode()
        elif tx.state == "failed":
            value = _CANNOT_SIGN
        else:
            value = ""
        out.append({"doc_id": d.id, "signature_value": value, "timestamp_signature": stamp})
    return out


def _documents(files: Any) -> list[Document] | str:
    """The sign_files of a sign body (client code: FileToSign)."""
    # the client code gives no batch limit; the sandbox's choice: 1 to 500 files
    if not isinstance(files, list) or not files or len(files) > 500:
        return "sign_files must hold 1 to 500 entries"
    docs: list[Document] = []
    seen: set[str] = set()
    for n, f in enumerate(files):
        if not isinstance(f, dict) or set(f) != _FILE_KEYS:
            return f"sign_files[{n}]: exactly {sorted(_FILE_KEYS)}"
        doc_id = f["doc_id"]
        # the sandbox's choice: 1 to 256 characters, unique within the request (eBH sends
        # a prefixed GUID)
        if not isinstance(doc_id, str) or not 0 < len(doc_id) <= 256 or doc_id in seen:
            return f"sign_files[{n}].doc_id: 1-256 characters, unique"
        seen.add(doc_id)
        if f["file_type"] not in _FILE_TYPES:
            return f"sign_files[{n}].file_type: xml or pdf"
        if f["sign_type"] != "hash":
            return f"sign_files[{n}].sign_type: 'hash'"
        raw = f["data_to_be_signed"]
        try:
            digest = base64.b64decode(raw, validate=True) if isinstance(raw, str) else b""
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 32:
            # client code: base64 of the SHA-256 digest of the SignedInfo
            return f"sign_files[{n}].data_to_be_signed: base64 of a 32-byte SHA-256 digest"
        docs.append(Document(doc_id, doc_id, digest))
    return docs


def ca2_routes(state: ProviderState) -> list[BaseRoute]:
    """The CA2 routes over ``state`` (client code: POST ``get_certificate``, ``sign``,
    ``status`` under the base)."""
    ca2 = _Ca2(state)

    def f(handler: Handler) -> Handler:
        return faulty(state, handler)

    return [
        Route(f"{CA2_BASE}/get_certificate", f(ca2.get_certificate), methods=["POST"]),
        Route(f"{CA2_BASE}/sign", f(ca2.sign), methods=["POST"]),
        Route(f"{CA2_BASE}/status", f(ca2.status), methods=["POST"]),
    ]
