"""A deliberately strict CA2 RemoteSigning server, written from eBH's client code alone.

No code shared with ``sandbox/`` (a second reading of the same sources, the strictest the
sources allow, see ``tests/esign/ca2_samples.py``):

* paths ``/api/data/get_certificate``, ``/sign``, ``/status`` (``GlobalVar.cs``);
* every body has exactly the keys of its C# class, all of them (Newtonsoft serialises
  every property): ``CA2GetCertRequest``, ``CA2SignRequest`` (with ``FileToSign``
  entries), ``CA2StatusCheckRequest``;
* ``data_to_be_signed`` base64 of 32 bytes; ``file_type`` "xml" or "pdf"; ``sign_type``
  "hash"; ``time_stamp`` 14 digits, in Vietnam's time (eBH's ``DateTime.Now``);
* ``serial_number`` compared byte for byte with the listing, which writes it in
  lower-case hex (the sandbox writes upper-case: a client must echo, not normalise);
* a sign ``transaction_id`` accepted once;
* an unknown transaction on ``status`` is HTTP 200 with ``status_code`` 400 in the body
  (the sandbox answers an HTTP 404: the client must read both);
* every answer carries ``status_code`` in the body, and the HTTP status only of errors of
  the credentials (401).

Switches on the world: ``lose_next_sign`` ("after" / "before"), ``approve_after_polls``,
``cannot_sign`` (the status answers ``"-2"`` for every document).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.esign.strict_server import StrictTx, StrictWorld, _sign

__all__ = ["CA2", "StrictCa2World", "ca2_serial", "strict_ca2_app"]

CA2 = "/api/data"
_VIETNAM = dt.timezone(dt.timedelta(hours=7))
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


@dataclass
class StrictCa2World(StrictWorld):
    ca2_user: str = "0201234568"
    cannot_sign: bool = False


def ca2_serial(der: bytes) -> str:
    return format(x509.load_der_x509_certificate(der).serial_number, "x")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _error(w: StrictWorld, status: int, reason: str, *, http: int = 200) -> JSONResponse:
    w.refused.append(f"{status}: {reason}")
    return JSONResponse({"status_code": status, "message": reason, "data": None}, status_code=http)


def strict_ca2_app(w: StrictCa2World) -> Starlette:
    async def body_of(request: Request, call: str) -> dict[str, Any] | JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(w, 400, f"{call}: not JSON")
        if not isinstance(body, dict) or set(body) != _KEYS[call]:
            got = sorted(body) if isinstance(body, dict) else body
            return _error(w, 400, f"{call}: keys {got} are not {sorted(_KEYS[call])}")
        if (body["sp_id"], body["sp_password"], body["user_id"]) != (
            w.sp_id,
            w.sp_password,
            w.ca2_user,
        ):
            return _error(w, 401, f"{call}: credentials", http=401)
        if not isinstance(body["transaction_id"], str) or not body["transaction_id"]:
            return _error(w, 400, f"{call}: transaction_id")
        return body

    async def get_certificate(request: Request) -> Response:
        body = await body_of(request, "get_certificate")
        if isinstance(body, JSONResponse):
            return body
        w.count("ca2_certificates")
        entries = [
            {
                "cert_data": _b64(c.der),
                "cert_id": c.vnpt_id,
                "chain_data": {"ca_cert": _b64(w.ca_der), "root_cert": _b64(w.ca_der)},
                "serial_number": ca2_serial(c.der),
            }
            for c in w.certs
            if body["serial_number"] in ("", ca2_serial(c.der))
        ]
        return JSONResponse(
            {
                "data": {"transaction_id": body["transaction_id"], "user_certificates": entries},
                "message": "Success",
                "status_code": 200,
            }
        )

    async def sign(request: Request) -> Response:
        body = await body_of(request, "sign")
        if isinstance(body, JSONResponse):
            return body
        w.sign_bodies.append(body)
        tid = body["transaction_id"]
        if tid in w.transactions:
            w.count("reused_transaction_id")
            return _error(w, 400, f"transaction_id {tid!r} reused")
        stamp = body["time_stamp"]
        try:
            when = dt.datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=_VIETNAM)
        except (TypeError, ValueError):
            return _error(w, 400, "time_stamp yyyyMMddHHmmss")
        if abs(when - dt.datetime.now(dt.UTC)) > dt.timedelta(hours=1):
            return _error(w, 400, f"time_stamp {stamp} is not Vietnam's time now")
        cert = next((c for c in w.certs if ca2_serial(c.der) == body["serial_number"]), None)
        if cert is None:
            return _error(w, 403, "serial_number as listed")
        files = body["sign_files"]
        if not isinstance(files, list) or not files:
            return _error(w, 400, "sign_files")
        digests = []
        for f in files:
            if not isinstance(f, dict) or set(f) != {
                "data_to_be_signed",
                "doc_id",
                "file_type",
                "sign_type",
            }:
                return _error(w, 400, "sign_files keys")
            if f["sign_type"] != "hash" or f["file_type"] not in ("xml", "pdf"):
                return _error(w, 400, "sign_type hash, file_type xml or pdf")
            try:
                digest = base64.b64decode(f["data_to_be_signed"], validate=True)
            except (TypeError, ValueError, binascii.Error):
                digest = b""
            if len(digest) != 32:
                return _error(w, 400, "data_to_be_signed: base64 of a SHA-256 digest")
            digests.append((f["doc_id"], digest))
        lose, w.lose_next_sign = w.lose_next_sign, None
        if lose == "before":
            return JSONResponse({"error": "BadGateway"}, status_code=502)
        w.transactions[tid] = StrictTx(tid, "ca2", cert, digests)
        w.count("ca2_sign")
        if lose == "after":
            return JSONResponse({"error": "BadGateway"}, status_code=502)
        return JSONResponse(
            {
                "data": {"transaction_id": tid, "sign_files": [d for d, _ in digests]},
                "message": "Success",
                "status_code": 200,
            }
        )

    async def status(request: Request) -> Response:
        body = await body_of(request, "status")
        if isinstance(body, JSONResponse):
            return body
        w.count("ca2_status")
        tx = w.transactions.get(body["transaction_id"])
        if tx is None or tx.service != "ca2":
            return _error(w, 400, "transaction not found")
        tx.polls += 1
        signed = tx.polls >= w.approve_after_polls
        signatures = [
            {
                "doc_id": doc,
                "signature_value": (
                    "-2" if w.cannot_sign else _b64(_sign(tx.cert, d)) if signed else ""
                ),
                "timestamp_signature": "",
            }
            for doc, d in tx.digests
        ]
        return JSONResponse(
            {
                "sp_id": w.sp_id,
                "status_code": 200,
                "message": "",
                "data": {"transaction_id": tx.id, "signatures": signatures},
            }
        )

    return Starlette(
        routes=[
            Route(f"{CA2}/get_certificate", get_certificate, methods=["POST"]),
            Route(f"{CA2}/sign", sign, methods=["POST"]),
            Route(f"{CA2}/status", status, methods=["POST"]),
        ]
    )
