"""The VNPT SmartCA sp769 wire: get_certificate, sign (hashes) and the status call, as
VNPT's integration document prints them."""

from __future__ import annotations

import base64
import hmac
import json
import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.provider.common import Handler, b64, faulty, iso, json_body
from sandbox.provider.state import Account, Cert, Document, ProviderState

__all__ = ["VNPT_CERT_STATUS", "VNPT_ERRORS", "VNPT_STATUS_MESSAGES", "vnpt_routes"]

# ====================================================================== VNPT
#
# Source: VNPT's "Tài liệu tích hợp VNPT SMARTCA" (section 3: sp769) and VNPT's C# / PHP
# samples (which post ``{}`` to the status call and poll until ``data.signatures`` is not
# null). Section numbers in comments are the document's.

#: 3.1: the error names of the document (500's spelling is the document's).
VNPT_ERRORS = {
    400: "BAD_REQUEST",
    401: "SP_CREDENTIAL_INVALID",
    403: "CREDENTIAL_STATUS_INVALID",
    500: "SERVAR_INTERNAL_ERROR",
}
#: cert_status of an ACTIVE certificate: the document's sample value. The document is
#: silent on other values; the sandbox's choice for an INACTIVE one: "Tạm dừng".
VNPT_CERT_STATUS = {"ACTIVE": "Đang hoạt động", "INACTIVE": "Tạm dừng"}
#: Status messages. SUCCESS is the document's (3.4); the document is silent on the
#: others; the sandbox's choice (what VNPT answers as observed: pending until the
#: signatures appear, EXPIRED, REJECTED; FAILED and CANCELLED for the other outcomes).
VNPT_STATUS_MESSAGES = {
    "pending": "PENDING",
    "approved": "SUCCESS",
    "rejected": "REJECTED",
    "expired": "EXPIRED",
    "failed": "FAILED",
    "cancelled": "CANCELLED",
}
_TIME_STAMP = re.compile(r"\d{14}Z?")  # 3.3 "YYYYMMddHHmmSS"; its own sample ends in Z


def _vnpt(status: int, message: str, data: Any = None) -> JSONResponse:
    return JSONResponse(
        {"status_code": status, "message": message, "data": data}, status_code=status
    )


def _vnpt_error(status: int, detail: str) -> JSONResponse:
    # 3.1 names the error in ``message``; the document is silent on where the detail
    # goes; the sandbox's choice: ``data.error_desc``
    return _vnpt(status, VNPT_ERRORS[status], {"error_desc": detail})


class _Vnpt:
    def __init__(self, state: ProviderState) -> None:
        self.s = state

    async def _auth(self, request: Request) -> tuple[dict[str, Any], Account] | Response:
        """sp_id / sp_password / user_id of a get_certificate or sign body (3.2, 3.3)."""
        try:
            body = await json_body(request)
        except ValueError as exc:
            return _vnpt_error(400, str(exc))
        if not isinstance(body, dict):
            return _vnpt_error(400, "body must be a JSON object")
        # 3.1: a missing parameter is 400 BAD_REQUEST; 401 is for credentials or a user
        # VNPT does not know
        for key in ("sp_id", "sp_password", "user_id"):
            if not isinstance(body.get(key), str) or not body[key]:
                return _vnpt_error(400, f"{key} is required")
        sp_id, sp_pw = body["sp_id"], body["sp_password"]
        if not any(
            hmac.compare_digest(sp_id.encode(), c.sp_id.encode())
            and hmac.compare_digest(sp_pw.encode(), c.sp_password.encode())
            for c in self.s.config.clients.vnpt
        ):
            self.s.audit.write("vnpt", "login_failed", sp_id=sp_id)
            return _vnpt_error(401, "sp_id / sp_password không hợp lệ")
        acc = self.s.accounts.get(body["user_id"])
        if acc is None or acc.config.provider != "vnpt":
            # 3.1: 401 SP_CREDENTIAL_INVALID covers "the sp account or the user"
            self.s.audit.write("vnpt", "login_failed", sp_id=sp_id, reason="user_id")
            return _vnpt_error(401, "user_id không hợp lệ (không phải thuê bao)")
        return body, acc

    def _cert_entry(self, c: Cert, transaction_id: str) -> dict[str, Any]:
        """A user_certificates entry of 3.2, every field of the sample."""
        return {
            "service_type": "SMARTCA",
            "service_name": "SMARTCA PERSONAL PRO",
            "cert_id": c.alias,
            "cert_status": VNPT_CERT_STATUS[c.key_status],
            "serial_number": c.vnpt_serial,
            "cert_subject": c.issued.certificate.subject.rfc4514_string(),
            "cert_valid_from": iso(c.not_before),
            "cert_valid_to": iso(c.not_after),
            "cert_data": b64(c.der),
            "chain_data": {"ca_cert": b64(c.chain[0]), "root_cert": b64(c.chain[1])},
            # the sample echoes the request's transaction_id in every entry
            "transaction_id": transaction_id,
        }

    async def get_certificate(self, request: Request) -> Response:
        """3.2 ``{sp_id, sp_password, user_id, serial_number?, transaction_id}``."""
        got = await self._auth(request)
        if isinstance(got, Response):
            return got
        body, acc = got
        tid = body.get("transaction_id")
        if not isinstance(tid, str) or not tid:
            return _vnpt_error(400, "transaction_id is required")
        serial = body.get("serial_number")
        if serial not in (None, "") and not isinstance(serial, str):
            return _vnpt_error(400, "serial_number must be a string")
        # the sample sends "" for "every certificate"; a serial is compared as written
        certs = [c for c in acc.certs if not serial or c.vnpt_serial == serial]
        self.s.audit.write("vnpt", "certificates", user=acc.name, count=len(certs))
        return _vnpt(
            200, "Success", {"user_certificates": [self._cert_entry(c, tid) for c in certs]}
        )

    def _certificate_for(self, acc: Account, serial: Any) -> Cert | Response:
        if serial in (None, ""):
            # 3.3: serial_number is optional, "when the subscriber has several
            # certificates". The document is silent on several without one; the sandbox's
            # choice: the only certificate, else the only ACTIVE valid one, else 400.
            if len(acc.certs) == 1:
                return acc.certs[0]
            usable = [c for c in acc.certs if c.key_status == "ACTIVE" and c.valid_now()]
            if len(usable) == 1:
                return usable[0]
            return _vnpt_error(400, "serial_number is required: several certificates")
        if not isinstance(serial, str):
            return _vnpt_error(400, "serial_number must be a string")
        cert = next((c for c in acc.certs if c.vnpt_serial == serial), None)
        if cert is None:
            # compared byte for byte with what get_certificate listed (lower-case hex)
            return _vnpt_error(403, f"serial_number {serial!r} không thuộc thuê bao")
        return cert

    async def sign(self, request: Request) -> Response:
        """3.3 ``{sp_id, sp_password, user_id, transaction_id, transaction_desc?,
        serial_number?, time_stamp?, sign_files}``."""
        got = await self._auth(request)
        if isinstance(got, Response):
            return got
        body, acc = got
        tid = body.get("transaction_id")
        if not isinstance(tid, str) or not tid:
            return _vnpt_error(400, "transaction_id is required")
        if tid in self.s.vnpt_ids:
            # 3.3: "yêu cầu là duy nhất" (must be unique)
            return _vnpt_error(400, f"transaction_id {tid!r} đã được sử dụng")
        text = body.get("transaction_desc")
        if text is not None and not isinstance(text, str):
            return _vnpt_error(400, "transaction_desc must be a string")
        stamp = body.get("time_stamp")
        if stamp is not None and (not isinstance(stamp, str) or not _TIME_STAMP.fullmatch(stamp)):
            return _vnpt_error(400, "time_stamp: YYYYMMddHHmmSS")
        docs = _vnpt_documents(body.get("sign_files"))
        if isinstance(docs, str):
            return _vnpt_error(400, docs)
        cert = self._certificate_for(acc, body.get("serial_number"))
        if isinstance(cert, Response):
            return cert
        if cert.key_status != "ACTIVE" or not cert.valid_now():
            return _vnpt_error(403, "Chứng thư số không hợp lệ")
        tx = self.s.new_tx(
            tx_id=tid,
            service="vnpt",
            account=acc,
            cert=cert,
            documents=docs,
            # the document is silent on a request without description; the sandbox's
            # choice: the phone shows the document ids only
            display_text=text or "",
            owner=str(body["sp_id"]),
        )
        tx.tran_code = str(uuid.uuid4())
        self.s.vnpt_ids[tid] = tx.id
        self.s.create_tx(tx)
        if self.s.lose_sign_response():
            self.s.audit.write("provider", "fault", fault="lost_sign_answer", transaction=tx.id)
            return JSONResponse({"error": "BadGateway", "errorCode": "502"}, status_code=502)
        return _vnpt(
            200, "sig_wait_for_user_confirm", {"transaction_id": tx.id, "tran_code": tx.tran_code}
        )

    async def status(self, request: Request) -> Response:
        """3.4 ``sign/{tranId}/status``: the transaction id in the path is all it needs.

        VNPT's samples post ``{}``; a body is read only to check it is JSON when present.
        """
        raw = await request.body()
        if raw.strip():
            try:
                json.loads(raw)
            except ValueError:
                return _vnpt_error(400, "request body is not JSON")
        tid = request.path_params["tx"]
        known = self.s.vnpt_ids.get(tid)
        if known is None:
            # the document is silent on an unknown id; the sandbox's choice: 400
            return _vnpt_error(400, f"transaction {tid!r} not found")
        tx = self.s.settle(self.s.transactions[known])
        self.s.audit.write("vnpt", "status", user=tx.account, transaction=tx.id, state=tx.state)
        data: dict[str, Any] = {"transaction_id": tx.id, "signatures": None}
        if tx.state == "approved":
            data["signatures"] = [
                {
                    "doc_id": d.id,
                    "signature_value": base64.b64encode(s).decode(),
                    # "the CA's signature over the time stamp"; null in the sample
                    "timestamp_signature": None,
                }
                for d, s in zip(tx.documents, tx.signatures, strict=True)
            ]
        elif tx.state == "failed":
            data["error_code"] = tx.fail_code
            data["error_desc"] = "Ký số thất bại"
        return _vnpt(200, VNPT_STATUS_MESSAGES[tx.state], data)


def _vnpt_documents(files: Any) -> list[Document] | str:
    """The sign_files of 3.3 (data_to_be_signed, doc_id, file_type, sign_type required)."""
    # the document gives no batch limit; the sandbox's choice: 1 to 500 files
    if not isinstance(files, list) or not files or len(files) > 500:
        return "sign_files must hold 1 to 500 entries"
    docs: list[Document] = []
    seen: set[str] = set()
    for n, f in enumerate(files):
        if not isinstance(f, dict):
            return f"sign_files[{n}] is not an object"
        doc_id = f.get("doc_id")
        # the document gives no length limit (a C# sample sends the 64-character digest);
        # the sandbox's choice: 1 to 256 characters, unique within the request
        if not isinstance(doc_id, str) or not 0 < len(doc_id) <= 256 or doc_id in seen:
            return f"sign_files[{n}].doc_id: 1-256 characters, unique"
        seen.add(doc_id)
        file_type = f.get("file_type")
        if not isinstance(file_type, str) or not file_type:
            return f"sign_files[{n}].file_type is required (xml/json/word/pdf/...)"
        if f.get("sign_type") != "hash":
            return f"sign_files[{n}].sign_type: SmartCA signs hashes only ('hash')"
        raw = f.get("data_to_be_signed")
        try:
            digest = bytes.fromhex(raw.strip()) if isinstance(raw, str) else b""
        except ValueError:
            digest = b""
        if len(digest) != 32:
            return f"sign_files[{n}].data_to_be_signed: hex of a 32-byte SHA-256 digest"
        docs.append(Document(doc_id, doc_id, digest))
    return docs


def vnpt_routes(state: ProviderState) -> list[BaseRoute]:
    """The sp769 routes over ``state``."""
    vnpt = _Vnpt(state)

    def f(handler: Handler) -> Handler:
        return faulty(state, handler)

    return [
        Route(
            "/sca/sp769/v1/credentials/get_certificate", f(vnpt.get_certificate), methods=["POST"]
        ),
        Route("/sca/sp769/v1/signatures/sign", f(vnpt.sign), methods=["POST"]),
        Route("/sca/sp769/v1/signatures/sign/{tx}/status", f(vnpt.status), methods=["POST"]),
    ]
