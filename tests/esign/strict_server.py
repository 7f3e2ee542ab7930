"""A deliberately strict MISA eSign + VNPT SmartCA server, written from the documents alone.

Separate from ``sandbox/`` on purpose (no code shared): it checks the clients against a
second reading of the vendor documents, the strictest one the documents allow.

MISA (the guide, see ``vendor_samples``):

* auth only at the guide's paths ``/api/auth/api/v1/auth/...`` (1.3); ``/webdev/`` is 404;
* login body exactly ``{userName, password}``; two-factor body exactly ``{userName, code,
  otpType, remember}`` with the ``clientId`` / ``clientKey`` headers of 3.2.1;
* the refresh answer is the flat object of 3.1.2's example;
* ESRM headers ``x-clientId``, ``x-clientKey``, ``AuthorizationRM: Bearer <token>`` (1.4);
* ``CertAlias`` compared as written; sign bodies with the documented keys only;
* status answers the minimal 3.6 sample (signatures without ``documentId``).

VNPT (section 3):

* bodies with the documented keys only; ``transaction_id`` required on get_certificate
  and sign, and a sign ``transaction_id`` accepted once (400 on reuse);
* ``serial_number`` compared byte for byte with the listed lower-case hex (403 otherwise);
* the status call takes ``{}`` and nothing else; an unknown id is 404;
* a pending transaction answers ``message: "SUCCESS"`` with ``data.signatures: null``
  (the shape of 3.1's generic sample): only the signatures say it is done;
* one listing entry is the minimal 4.2 shape (no ``cert_status``, ``root_cert`` null).

Switches: ``lose_next_sign`` ("after": the request is recorded, its answer is a 502;
"before": a 502 without recording it), ``approve_after_polls``, ``expire_tokens()``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

AUTH = "/api/auth/api/v1/auth"
ESRM = "/external/esrm/service"
VNPT = "/sca/sp769/v1"


# ====================================================================== key material


@dataclass
class StrictCert:
    key: rsa.RSAPrivateKey
    der: bytes
    misa_alias: str
    vnpt_id: str

    @property
    def vnpt_serial(self) -> str:
        return format(x509.load_der_x509_certificate(self.der).serial_number, "x")


def _serial_with_letters() -> int:
    """A serial whose hex has letters, so that upper- and lower-case forms differ."""
    while True:
        serial = x509.random_serial_number()
        if any(c in "abcdef" for c in format(serial, "x")):
            return serial


def make_material(tax_code: str = "0318765432") -> tuple[bytes, list[StrictCert]]:
    """A throwaway CA and two signing certificates for ``tax_code`` (RSA 2048)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Strict Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(_serial_with_letters())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    certs = []
    for n in range(2):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.USER_ID, f"MST:{tax_code}"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"Công ty TNHH Kiểm Thử {n}"),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            ]
        )
        leaf = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(_serial_with_letters())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(ca_key, hashes.SHA256())
        )
        certs.append(
            StrictCert(
                key=key,
                der=leaf.public_bytes(serialization.Encoding.DER),
                misa_alias=f"Strict-Alias-{n}-{uuid.uuid4()}",
                vnpt_id=str(uuid.uuid4()),
            )
        )
    return ca.public_bytes(serialization.Encoding.DER), certs


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ====================================================================== state


@dataclass
class StrictTx:
    id: str
    service: Literal["misa", "vnpt", "ca2"]
    cert: StrictCert
    digests: list[tuple[str, bytes]]
    polls: int = 0


@dataclass
class StrictWorld:
    """Accounts, switches and what the server saw."""

    ca_der: bytes
    certs: list[StrictCert]
    client_id: str = "strict-client"
    client_key: str = "strict-client-key"
    username: str = "strict.ketoan"
    password: str = "strict-pw"
    otp: str = "864209"
    misa_user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    sp_id: str = "strict-sp.apps.test"
    sp_password: str = "strict-sp-secret"
    vnpt_user: str = "079088001234"
    approve_after_polls: int = 2
    lose_next_sign: Literal["after", "before"] | None = None
    rm_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    challenge_open: bool = False
    transactions: dict[str, StrictTx] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    status_bodies: list[bytes] = field(default_factory=list)
    sign_bodies: list[dict[str, Any]] = field(default_factory=list)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def expire_tokens(self) -> None:
        self.rm_tokens.clear()

    def refuse(self, status: int, reason: str, body: Any) -> JSONResponse:
        self.refused.append(f"{status}: {reason}")
        return JSONResponse(body, status_code=status)


def _misa_error(world: StrictWorld, status: int, code: str, reason: str) -> JSONResponse:
    return world.refuse(
        status, reason, {"error": reason, "errorCode": code, "devMsg": reason, "userMsg": reason}
    )


def _vnpt_error(world: StrictWorld, status: int, name: str, reason: str) -> JSONResponse:
    return world.refuse(status, reason, {"status_code": status, "message": name, "data": None})


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def _status(error_code: int | None = None) -> dict[str, Any]:
    return {
        "type": "fail" if error_code else "success",
        "code": 200,
        "message": "Yêu cầu xác thực hai lớp" if error_code else "Thành công",
        "error": error_code is not None,
        "errorCode": error_code,
        "devMsg": "",
        "userMsg": "",
    }


# ====================================================================== MISA


def _misa_routes(w: StrictWorld) -> list[Route]:
    def tokens() -> dict[str, Any]:
        rm, refresh = secrets.token_hex(16), secrets.token_hex(16)
        w.rm_tokens.add(rm)
        w.refresh_tokens.add(refresh)
        return {
            "accessToken": secrets.token_hex(8),
            "remoteSigningAccessToken": rm,
            "tokenType": "Bearer",
            "expiresIn": 3600,
            "refreshToken": refresh,
        }

    async def login(request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict) or set(body) != {"userName", "password"}:
            return _misa_error(w, 400, "E400", f"login body keys {sorted(body or {})}")
        if (body["userName"], body["password"]) != (w.username, w.password):
            return w.refuse(400, "wrong password", {"status": _status(101), "data": None})
        w.count("login")
        w.challenge_open = True
        return JSONResponse({"status": _status(122), "data": None})

    async def two_factor(request: Request) -> Response:
        headers = (request.headers.get("clientId"), request.headers.get("clientKey"))
        if headers != (w.client_id, w.client_key):
            return _misa_error(w, 403, "E403", "two-factor without clientId / clientKey")
        body = await _body(request)
        if not isinstance(body, dict) or set(body) != {"userName", "code", "otpType", "remember"}:
            return _misa_error(w, 400, "E400", f"two-factor body keys {sorted(body or {})}")
        if body["otpType"] not in (0, 1) or not isinstance(body["remember"], bool):
            return _misa_error(w, 400, "E400", "otpType 0/1, remember a boolean")
        if not w.challenge_open or body["code"] != w.otp or body["userName"] != w.username:
            return w.refuse(400, "wrong code", {"status": _status(123), "data": None})
        w.challenge_open = False
        w.count("two_factor")
        user = {
            "id": w.misa_user_id,
            "email": "strict@example.invalid",
            "phoneNumber": "0900000001",
            "firstName": "Kiểm",
            "lastName": "Thử",
            "username": w.username,
        }
        return JSONResponse({"status": _status(), "data": {**tokens(), "user": user}})

    async def refresh(request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict) or set(body) != {"refreshToken"}:
            return _misa_error(w, 400, "E400", "refresh body")
        if body["refreshToken"] not in w.refresh_tokens:
            return _misa_error(w, 401, "E401", "unknown refresh token")
        w.refresh_tokens.discard(body["refreshToken"])
        w.count("refresh")
        fresh = tokens()
        return JSONResponse(  # 3.1.2's example: flat
            {k: fresh[k] for k in ("remoteSigningAccessToken", "accessToken", "refreshToken")}
            | {"expiresIn": fresh["expiresIn"]}
        )

    def esrm(request: Request) -> JSONResponse | None:
        pair = (request.headers.get("x-clientId"), request.headers.get("x-clientKey"))
        if pair != (w.client_id, w.client_key):
            return _misa_error(w, 403, "E403", "x-clientId / x-clientKey")
        scheme, _, token = request.headers.get("AuthorizationRM", "").partition(" ")
        if scheme != "Bearer" or token not in w.rm_tokens:
            w.count("esrm_401")
            return JSONResponse(
                {"error": "Unauthorized", "errorCode": "E401", "devMsg": "", "userMsg": ""},
                status_code=401,
            )
        return None

    async def certificates(request: Request) -> Response:
        refused = esrm(request)
        if refused is not None:
            return refused
        return JSONResponse(
            [
                {
                    "userId": w.misa_user_id,
                    "keyAlias": c.misa_alias,
                    "appName": "MISA eSign",
                    "keyStatus": "ACTIVE",
                    "certificate": _b64(c.der),
                    "certiticateChain": [_b64(c.der), _b64(w.ca_der), _b64(w.ca_der)],
                }
                for c in w.certs
            ]
        )

    async def sign(request: Request) -> Response:
        refused = esrm(request)
        if refused is not None:
            return refused
        body = await _body(request)
        keys = {"DataToBeDisplayed", "UserId", "CertAlias", "Documents"}
        if not isinstance(body, dict) or set(body) != keys:
            return _misa_error(w, 400, "E400", f"sign body keys {sorted(body or {})}")
        w.sign_bodies.append(body)
        if body["UserId"] != w.misa_user_id or not body["DataToBeDisplayed"]:
            return _misa_error(w, 400, "E400", "UserId / DataToBeDisplayed")
        cert = next((c for c in w.certs if c.misa_alias == body["CertAlias"]), None)
        if cert is None:
            return _misa_error(w, 400, "E400", f"CertAlias {body['CertAlias']!r}")
        digests = []
        for doc in body["Documents"]:
            if set(doc) != {"DocumentId", "FileToSign", "DocumentName"}:
                return _misa_error(w, 400, "E400", f"document keys {sorted(doc)}")
            if not 0 < len(doc["DocumentId"]) <= 36 or not 0 < len(doc["DocumentName"]) <= 100:
                return _misa_error(w, 400, "E400", "DocumentId <= 36, DocumentName <= 100")
            try:
                digest = base64.b64decode(doc["FileToSign"], validate=True)
            except (binascii.Error, ValueError):
                digest = b""
            if len(digest) != 32:
                return _misa_error(w, 400, "E400", "FileToSign")
            digests.append((doc["DocumentId"], digest))
        lose, w.lose_next_sign = w.lose_next_sign, None
        if lose == "before":
            return JSONResponse({"error": "BadGateway"}, status_code=502)
        tx = StrictTx(str(uuid.uuid4()), "misa", cert, digests)
        w.transactions[tx.id] = tx
        w.count("misa_sign")
        if lose == "after":
            return JSONResponse({"error": "BadGateway"}, status_code=502)
        return JSONResponse({"transactionId": tx.id})

    async def status(request: Request) -> Response:
        refused = esrm(request)
        if refused is not None:
            return refused
        tx = w.transactions.get(request.path_params["tx"])
        if tx is None or tx.service != "misa":
            return _misa_error(w, 404, "E404", "unknown transaction")
        tx.polls += 1
        if tx.polls < w.approve_after_polls:
            return JSONResponse(
                {"status": "PENDING", "errorCode": "", "errorDescription": "", "signatures": None}
            )
        return JSONResponse(  # 3.6: signature only, in request order
            {
                "status": "SUCCESS",
                "errorCode": "",
                "errorDescription": "",
                "signatures": [{"signature": _b64(_sign(tx.cert, d))} for _, d in tx.digests],
            }
        )

    return [
        Route(f"{AUTH}/login-api", login, methods=["POST"]),
        Route(f"{AUTH}/two-factor-auth", two_factor, methods=["POST"]),
        Route(f"{AUTH}/refreshtoken", refresh, methods=["POST"]),
        Route(f"{ESRM}/general/api/v1/Certificates/by-userId", certificates, methods=["GET"]),
        Route(f"{ESRM}/signing/api/v1/Signing/hash", sign, methods=["POST"]),
        Route(f"{ESRM}/signing/api/v1/Signing/status/{{tx}}", status, methods=["GET"]),
    ]


def _sign(cert: StrictCert, digest: bytes) -> bytes:
    return cert.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


# ====================================================================== VNPT


def _vnpt_routes(w: StrictWorld) -> list[Route]:
    def credentials(body: Any, allowed: set[str], where: str) -> JSONResponse | None:
        if not isinstance(body, dict) or not set(body) <= allowed:
            extra = sorted(set(body or {}) - allowed) if isinstance(body, dict) else body
            return _vnpt_error(w, 400, "BAD_REQUEST", f"{where}: keys not in the document {extra}")
        triple = (body.get("sp_id"), body.get("sp_password"), body.get("user_id"))
        if triple != (w.sp_id, w.sp_password, w.vnpt_user):
            return _vnpt_error(w, 401, "SP_CREDENTIAL_INVALID", f"{where}: credentials")
        tid = body.get("transaction_id")
        if not isinstance(tid, str) or not tid:
            return _vnpt_error(w, 400, "BAD_REQUEST", f"{where}: transaction_id required")
        return None

    async def get_certificate(request: Request) -> Response:
        body = await _body(request)
        allowed = {"sp_id", "sp_password", "user_id", "serial_number", "transaction_id"}
        refused = credentials(body, allowed, "get_certificate")
        if refused is not None:
            return refused
        full, minimal = w.certs
        return JSONResponse(
            {
                "status_code": 200,
                "message": "Success",
                "data": {
                    "user_certificates": [
                        {
                            "service_type": "SMARTCA",
                            "service_name": "SMARTCA PERSONAL PRO",
                            "cert_id": full.vnpt_id,
                            "cert_status": "Đang hoạt động",
                            "serial_number": full.vnpt_serial,
                            "cert_subject": "CN=Công ty TNHH Kiểm Thử 0",
                            "cert_valid_from": "2025-01-01T00:00:00Z",
                            "cert_valid_to": "2030-01-01T00:00:00Z",
                            "cert_data": _b64(full.der),
                            "chain_data": {"ca_cert": _b64(w.ca_der), "root_cert": _b64(w.ca_der)},
                            "transaction_id": body["transaction_id"],
                        },
                        {  # 4.2's minimal shape
                            "cert_id": minimal.vnpt_id,
                            "cert_data": _b64(minimal.der),
                            "chain_data": {"ca_cert": _b64(w.ca_der), "root_cert": None},
                            "serial_number": minimal.vnpt_serial,
                            "transaction_id": body["transaction_id"],
                        },
                    ]
                },
            }
        )

    async def sign(request: Request) -> Response:
        body = await _body(request)
        allowed = {
            "sp_id",
            "sp_password",
            "user_id",
            "transaction_id",
            "transaction_desc",
            "serial_number",
            "time_stamp",
            "sign_files",
        }
        refused = credentials(body, allowed, "sign")
        if refused is not None:
            return refused
        w.sign_bodies.append(body)
        tid = body["transaction_id"]
        if tid in w.transactions:  # 3.3: "yêu cầu là duy nhất"
            w.count("reused_transaction_id")
            return _vnpt_error(w, 400, "BAD_REQUEST", f"transaction_id {tid!r} reused")
        cert = next((c for c in w.certs if c.vnpt_serial == body.get("serial_number")), None)
        if cert is None:
            return _vnpt_error(w, 403, "CREDENTIAL_STATUS_INVALID", "serial_number as listed")
        files = body.get("sign_files")
        if not isinstance(files, list) or not files:
            return _vnpt_error(w, 400, "BAD_REQUEST", "sign_files")
        digests = []
        for f in files:
            if not isinstance(f, dict) or set(f) != {
                "data_to_be_signed",
                "doc_id",
                "file_type",
                "sign_type",
            }:
                return _vnpt_error(w, 400, "BAD_REQUEST", "sign_files keys")
            if f["sign_type"] != "hash":
                return _vnpt_error(w, 400, "BAD_REQUEST", "sign_type hash")
            try:
                digest = bytes.fromhex(f["data_to_be_signed"])
            except (TypeError, ValueError):
                digest = b""
            if len(digest) != 32:
                return _vnpt_error(w, 400, "BAD_REQUEST", "data_to_be_signed")
            digests.append((f["doc_id"], digest))
        lose, w.lose_next_sign = w.lose_next_sign, None
        if lose == "before":  # lost on the way in: VNPT never holds it
            return JSONResponse({"error": "BadGateway"}, status_code=502)
        w.transactions[tid] = StrictTx(tid, "vnpt", cert, digests)
        w.count("vnpt_sign")
        if lose == "after":
            return JSONResponse({"error": "BadGateway"}, status_code=502)
        return JSONResponse(
            {
                "status_code": 200,
                "message": "sig_wait_for_user_confirm",
                "data": {"transaction_id": tid, "tran_code": str(uuid.uuid4())},
            }
        )

    async def status(request: Request) -> Response:
        raw = await request.body()
        w.status_bodies.append(raw)
        if json.loads(raw or b"null") != {}:
            return _vnpt_error(w, 400, "BAD_REQUEST", f"status body must be {{}}, got {raw!r}")
        tx = w.transactions.get(request.path_params["tx"])
        if tx is None or tx.service != "vnpt":
            return _vnpt_error(w, 404, "NOT_FOUND", "unknown transaction")
        tx.polls += 1
        signatures = None
        if tx.polls >= w.approve_after_polls:
            signatures = [
                {
                    "doc_id": doc,
                    "signature_value": _b64(_sign(tx.cert, d)),
                    "timestamp_signature": None,
                }
                for doc, d in tx.digests
            ]
        return JSONResponse(
            {
                "status_code": 200,
                "message": "SUCCESS",
                "data": {"transaction_id": tx.id, "signatures": signatures},
            }
        )

    return [
        Route(f"{VNPT}/credentials/get_certificate", get_certificate, methods=["POST"]),
        Route(f"{VNPT}/signatures/sign", sign, methods=["POST"]),
        Route(f"{VNPT}/signatures/sign/{{tx}}/status", status, methods=["POST"]),
    ]


def strict_app(world: StrictWorld) -> Starlette:
    """The strict server over ``world``; any other path is a plain 404."""
    return Starlette(routes=[*_misa_routes(world), *_vnpt_routes(world)])


# ====================================================================== running it


class StrictServer:
    """``strict_app`` (or ``app``) under uvicorn on 127.0.0.1, in a thread of its own."""

    def __init__(self, world: StrictWorld, app: Starlette | None = None) -> None:
        self.world = world
        config = uvicorn.Config(
            app or strict_app(world), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve()), daemon=True
        )
        self.url = ""

    def __enter__(self) -> StrictServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("strict server did not start")
            time.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
