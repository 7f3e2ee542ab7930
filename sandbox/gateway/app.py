"""The sandbox gateway over HTTP: the submission contract as a FastAPI app.

Operations (all under ``/api/v1``, ``Authorization: Bearer <api key>``):

* ``POST /dossiers`` submit a signed envelope or 04/05/06 form -> 201 acknowledgement;
  the same id with the same bytes -> 200 and the first acknowledgement (``duplicate``);
  the same id with other bytes -> 409; refused at receipt -> 422 ``{error, message,
  dossier_id}`` and nothing recorded.
* ``GET /dossiers/{dossier_id}`` status, ``soHoSo``, ``dot``, dates, outcome, messages.
* ``GET /dossiers?unit_code=&procedure=&period=&sha256=`` every receipt of a dossier by
  natural key (what a carrier without idempotency keys offers after a lost answer).
* ``GET /units/{unit_code}/registration`` registration state and certificate (unless
  configured off: the known carriers do not offer it).
* ``GET /capabilities`` what this carrier offers: idempotency keys, registration read,
  receipts through status reads, C12-TS notices.
* ``GET /units/{unit_code}/notices/c12/{MM-YYYY}`` the unit's C12-TS contribution notice
  of the month in the VSS portal's shape (``sandbox.gateway.notices``); 404 for a unit the
  gateway does not know or a month not begun (unless configured off: 501).

``GET /openapi.json`` publishes the contract; ``GET /health`` needs no key.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hmac
import random
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from sandbox.audit import AuditLog
from sandbox.gateway import messages as m
from sandbox.gateway.config import GatewayConfig
from sandbox.gateway.core import SERVICE, Conflict, GatewayCore, _utcnow
from sandbox.pki import TestPKI

__all__ = [
    "AcknowledgementOut",
    "CertificateOut",
    "DossierStatusOut",
    "ErrorOut",
    "RegistrationOut",
    "SubmitIn",
    "create_gateway_app",
]

_BEARER = HTTPBearer(auto_error=False, description="A gateway API key.")
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


class SubmitIn(BaseModel):
    """A signed document to submit; ``dossier_id`` is the idempotency key."""

    dossier_id: str = Field(
        pattern=_ID_PATTERN, description="Idempotency key, chosen by the sender."
    )
    unit_code: str = Field(min_length=1, max_length=32, description="MaSoBHXH of the unit.")
    kind: Literal["envelope", "registration"] = Field(
        description="envelope: BHXHDienTu.xml of a business dossier; registration: 04/05/06 form."
    )
    content_base64: str = Field(description="The signed XML file, base64 (bytes as signed).")


class AcknowledgementOut(BaseModel):
    transaction_id: str
    dossier_id: str
    received_at: dt.datetime
    duplicate: bool


class DossierStatusOut(BaseModel):
    dossier_id: str
    unit_code: str
    kind: Literal["envelope", "registration"]
    transaction_id: str
    received_at: dt.datetime
    status: Literal[
        "received",
        "numbered",
        "processing",
        "accepted",
        "rejected_at_receipt",
        "rejected",
        "supplement_requested",
    ]
    so_ho_so: str | None = Field(description="soHoSo, NNNNN/YYYY/CCCCC, once numbered.")
    dot: int | None = Field(description="Batch counter per unit, procedure and period.")
    promised_date: dt.date | None = Field(description="Ngayhentra.")
    completed_date: dt.date | None = Field(description="Ngayxulyxong.")
    outcome: Literal["accepted", "rejected_at_receipt", "rejected", "supplement"] | None
    messages: list[str]
    procedure: str | None = Field(None, description="MaThuTuc.")
    period: str | None = Field(None, description="KyKeKhai (MM/yyyy); empty for a form.")
    sha256: str | None = Field(None, description="SHA-256 of the bytes received.")


class CertificateOut(BaseModel):
    serial: str = Field(description="Hexadecimal, upper case.")
    subject: str = Field(description="RFC 4514.")
    not_before: dt.datetime
    not_after: dt.datetime


class RegistrationOut(BaseModel):
    unit_code: str
    tax_code: str | None
    state: Literal["registered", "change_pending", "stopped", "unknown"]
    ivan_code: str | None = Field(None, description="The I-VAN the unit is registered with.")
    certificate: CertificateOut | None


class LookupOut(BaseModel):
    dossiers: list[DossierStatusOut]


class CapabilitiesOut(BaseModel):
    idempotency_key: bool = Field(description="The dossier id is an idempotency key.")
    registration_read: bool = Field(description="GET /units/{unit}/registration is offered.")
    numbers_receipts: bool = Field(description="soHoSo, dot and outcome come by status reads.")
    notice_read: bool = Field(
        False, description="GET /units/{unit}/notices/c12/{MM-YYYY} is offered."
    )


class NoticeRowOut(BaseModel):
    """One line of a C12-TS notice, as the VSS portal writes it (amounts as strings)."""

    tenDonVi: str
    maDonVi: str
    diaChi: str
    stt: str = Field(description="The line: A, A.1, ..., B.3, C.1, ..., Đ.2.2.")
    noiDung: str
    bhxh: str
    bhyt: str
    bhtn: str
    bhtnld: str
    cong: str


class NoticeOut(BaseModel):
    """A unit's C12-TS notice of a month (the VSS portal's answer to code 137)."""

    maCqBhxh: str
    tenCqBhxh: str
    c12s: list[NoticeRowOut]


class ErrorOut(BaseModel):
    error: str = Field(description="A stable code, e.g. form_missing, signature_invalid.")
    message: str = Field(description="The exact text, for people.")
    dossier_id: str | None = None


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, dossier_id: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.dossier_id = status, code, message, dossier_id


class _LostResponse(Response):
    """Starts an answer and breaks the connection mid-body (a response lost in transit)."""

    def __init__(self) -> None:
        super().__init__(status_code=201)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"transaction_id":', "more_body": True})
        # Returning without completing the body makes the server drop the connection.


class _Faults:
    """Fault injection state (counters shared by every request)."""

    def __init__(self, config: GatewayConfig, audit: AuditLog) -> None:
        self.config = config.faults
        self.audit = audit
        self._lock = threading.Lock()
        self._burst_left = self.config.burst_503
        self._lose_left = self.config.lose_response_after_record.count
        self._lose_ids = set(self.config.lose_response_after_record.dossier_ids)
        self._random = random.Random(self.config.seed)

    def unavailable(self, path: str) -> bool:
        with self._lock:
            if self._burst_left > 0:
                self._burst_left -= 1
                hit = True
            else:
                hit = self.config.rate_503 > 0 and self._random.random() < self.config.rate_503
        if hit:
            self.audit.write(SERVICE, "fault", fault="503", path=path)
        return hit

    def lose_next(self, count: int = 1) -> None:
        """Lose the answers of the next ``count`` first-time submissions (tests)."""
        with self._lock:
            self._lose_left += count

    def lose(self, dossier_id: str) -> bool:
        with self._lock:
            if dossier_id in self._lose_ids:
                self._lose_ids.discard(dossier_id)
                hit = True
            elif self._lose_left > 0:
                self._lose_left -= 1
                hit = True
            else:
                hit = False
        if hit:
            self.audit.write(
                SERVICE,
                "fault",
                fault="lost_response",
                dossier_id=dossier_id,
                mode=self.config.lose_response_after_record.mode,
            )
        return hit


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or wrong API key."},
    503: {"model": ErrorOut, "description": "Unavailable; retry later (same dossier id)."},
}


def create_gateway_app(
    config: GatewayConfig,
    pki: TestPKI,
    audit: AuditLog,
    *,
    clock: Callable[[], dt.datetime] = _utcnow,
) -> FastAPI:
    """Build the gateway ASGI app; its :class:`GatewayCore` is ``app.state.gateway``.

    Example:
        >>> app = create_gateway_app(GatewayConfig(api_keys=["k"]), pki, audit)  # doctest: +SKIP
        >>> with ServerThread(app) as server: ...  # doctest: +SKIP
    """
    core = GatewayCore(config, pki, audit, clock=clock)
    faults = _Faults(config, audit)
    keys = [k.get_secret_value().encode() for k in config.api_keys]

    app = FastAPI(
        title="BHXH submission gateway (sandbox)",
        description="The submission contract between prefect-bhxh and a gateway playing VSS.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.gateway = core
    app.state.faults = faults

    @app.exception_handler(_ApiError)
    async def _api_error(_: Request, exc: _ApiError) -> JSONResponse:
        headers = {"Retry-After": "0"} if exc.status == 503 else None
        body = ErrorOut(error=exc.code, message=exc.message, dossier_id=exc.dossier_id)
        return JSONResponse(body.model_dump(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        body = ErrorOut(error="request_invalid", message=f"{where}: {first.get('msg', '')}")
        return JSONResponse(body.model_dump(), status_code=422)

    async def guard(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> None:
        if config.faults.slow_seconds:
            await asyncio.sleep(config.faults.slow_seconds)
        if faults.unavailable(request.url.path):
            raise _ApiError(503, "unavailable", "Cổng tiếp nhận tạm thời quá tải, thử lại sau")
        given = credentials.credentials.encode() if credentials else b""
        if not any(hmac.compare_digest(given, key) for key in keys):
            raise _ApiError(401, "unauthorized", "Thiếu hoặc sai khóa API (Authorization: Bearer)")

    @app.get("/health", tags=["meta"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/api/v1/dossiers",
        operation_id="submitDossier",
        summary="Submit a signed envelope or 04/05/06 form",
        status_code=201,
        response_model=AcknowledgementOut,
        dependencies=[Depends(guard)],
        responses={
            200: {"model": AcknowledgementOut, "description": "Already received: first ack."},
            409: {"model": ErrorOut, "description": "Same dossier id, different bytes."},
            422: {"model": ErrorOut, "description": "Refused at receipt; nothing recorded."},
            **_ERRORS,
        },
    )
    async def submit(body: SubmitIn) -> Response:
        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError):
            refusal = m.BASE64_CONTENT()
            raise _ApiError(422, refusal.code, refusal.message, body.dossier_id) from None
        try:
            record, duplicate = core.submit(body.dossier_id, body.unit_code, body.kind, content)
        except Conflict as exc:
            raise _ApiError(409, exc.code, exc.message, body.dossier_id) from None
        except m.Refusal as exc:
            raise _ApiError(422, exc.code, exc.message, body.dossier_id) from None
        if not duplicate and faults.lose(body.dossier_id):
            if config.faults.lose_response_after_record.mode == "502":
                raise _ApiError(502, "bad_gateway", "Mất kết nối với hệ thống phía sau")
            return _LostResponse()
        ack = record.acknowledgement(duplicate=duplicate)
        return JSONResponse(ack, status_code=200 if duplicate else 201)

    @app.get(
        "/api/v1/dossiers/{dossier_id}",
        operation_id="getDossierStatus",
        summary="Read a dossier's status, number and outcome",
        response_model=DossierStatusOut,
        dependencies=[Depends(guard)],
        responses={404: {"model": ErrorOut, "description": "Never received."}, **_ERRORS},
    )
    async def status(dossier_id: str) -> dict[str, Any]:
        view = core.status(dossier_id)
        if view is None:
            raise _ApiError(404, "not_found", f"Không tìm thấy hồ sơ {dossier_id}", dossier_id)
        return view

    @app.get(
        "/api/v1/units/{unit_code}/registration",
        operation_id="getUnitRegistration",
        summary="Read a unit's e-transaction registration",
        response_model=RegistrationOut,
        dependencies=[Depends(guard)],
        responses=_ERRORS,
    )
    async def registration(unit_code: str) -> dict[str, Any]:
        if not config.registration_read:
            raise _ApiError(
                501,
                "not_offered",
                "I-VAN không cung cấp tra cứu đăng ký giao dịch điện tử của đơn vị",
            )
        return core.registration(unit_code)

    @app.get(
        "/api/v1/dossiers",
        operation_id="findDossier",
        summary="Find a dossier by natural key (unit, procedure, period, content hash)",
        response_model=LookupOut,
        dependencies=[Depends(guard)],
        responses=_ERRORS,
    )
    async def lookup(unit_code: str, procedure: str, period: str, sha256: str) -> dict[str, Any]:
        return {"dossiers": core.lookup(unit_code, procedure, period, sha256)}

    @app.get(
        "/api/v1/capabilities",
        operation_id="getCapabilities",
        summary="What this carrier offers",
        response_model=CapabilitiesOut,
        dependencies=[Depends(guard)],
        responses=_ERRORS,
    )
    async def capabilities() -> dict[str, Any]:
        return core.capabilities()

    @app.get(
        "/api/v1/units/{unit_code}/notices/c12/{period}",
        operation_id="getContributionNotice",
        summary="Read a unit's C12-TS contribution notice of a month (MM-YYYY)",
        response_model=NoticeOut,
        dependencies=[Depends(guard)],
        responses={404: {"model": ErrorOut, "description": "No notice."}, **_ERRORS},
    )
    async def notice(
        unit_code: str, period: Annotated[str, Path(pattern=r"^(0[1-9]|1[0-2])-\d{4}$")]
    ) -> dict[str, Any]:
        if not config.notice_read:
            raise _ApiError(501, "not_offered", "I-VAN không cung cấp thông báo C12-TS")
        month = period.replace("-", "/")
        try:
            found = core.contribution_notice(unit_code, month)
        except ValueError as exc:  # an accepted declaration the dues cannot be computed from
            raise _ApiError(422, "notice_unavailable", str(exc)) from None
        if found is None:
            raise _ApiError(
                404,
                "not_found",
                f"Chưa có thông báo C12-TS kỳ {month} của đơn vị {unit_code}",
            )
        return found

    return app
