"""The receiver's HTTP side: MISA's result webhook and Viettel MySign's callback protocol.

Each provider's caller is authenticated as its document says, or, where the document is
silent, as written here (and in ``docs/extending.md``). Anything else is refused with the
provider's documented answer shape and changes nothing. An accepted callback for an
awaited transaction becomes one Prefect event (``tasks.callbacks.emit_callback``); the
waiting run then reads the transaction from the provider: the callback's own status and
signatures are never used. Nothing secret is logged: no token, secret, path token or
signature, only the provider, the transaction id and what was decided.

MISA eSign RemoteSigning V2 (the guide: "Tài liệu tích hợp API eSign RemoteSigning - V2",
3.8 "Webhook nhận trạng thái ký số", 1.2 "Đăng ký nhận kết quả (webhook)"): MISA POSTs
``{messageId, clientId, extraData, status, errorCode, transactionId, signatures}`` to
the URL the integrator registered, answered ``{errorCode, devMsg, userMsg}``. The guide
documents no authentication of the webhook. Our choice: the registered URL carries a
secret path segment (``/misa/webhook/<token>``, random, at least 32 characters) and the
body's ``clientId`` must be the integrator's own clientId; ``errorCode`` "0" accepts
(the guide prints placeholders only), refusals carry the codes below with 4xx statuses.

Viettel MySign ("MySign Integration Document" v1.8/v1.9, the callback of ``async=3``):
Viettel first calls the integrator's auth endpoint with ``{grant_type:
"client_credentials", client_id, client_secret}`` (issued by the integrator) and gets
``{status_code: "00", data: {access_token, expires_in}}``; then the result endpoint with
``Authorization: Bearer <access_token>`` and ``{meta_data: {request_id, transaction_id,
description, status}, data: {action_timestamp, signature_timestamp, results:
[{document_id, signature}]}}``, answered ``{status_code: "00", message}``. The paths of
the two endpoints are the integrator's to choose (ours: ``/mysign/auth`` and
``/mysign/result``); the refusal codes below are ours where the document prints none.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from receiver.awaited import AwaitedTransactions
from tasks.callbacks import emit_callback

__all__ = [
    "MISA_PROVIDER",
    "MYSIGN_PROVIDER",
    "MYSIGN_TOKEN_SECONDS",
    "ReceiverConfig",
    "create_receiver_app",
]

log = logging.getLogger("receiver")

#: The provider registry names the callbacks wake (``BhxhUnit.provider``).
MISA_PROVIDER = "misa"
MYSIGN_PROVIDER = "mysign"
#: Lifetime of an access token we issue to Viettel (our choice; the document's own
#: tokens live 3600 s).
MYSIGN_TOKEN_SECONDS = 3600
#: The largest callback body read (a few hundred signatures fit in far less).
MAX_BODY_BYTES = 1024 * 1024
_MISA_OK = "0"
_MYSIGN_OK = "00"


@dataclass(frozen=True)
class ReceiverConfig:
    """Who may call back: the secrets are the integrator's (ours), never a signer's.

    Args:
        misa_client_ids: the integrator's MISA clientId(s); the webhook body's ``clientId``
            must be one of them (not secret: MISA's own identifier of us).
        misa_webhook_token: the secret path segment of the webhook URL registered with MISA;
            empty turns the MISA webhook off.
        mysign_client_id: the client id we issued to Viettel for its callbacks.
        mysign_client_secret: its secret; empty turns the MySign callback off.
    """

    misa_client_ids: tuple[str, ...] = ()
    misa_webhook_token: str = ""
    mysign_client_id: str = ""
    mysign_client_secret: str = ""

    def __repr__(self) -> str:
        return (
            f"ReceiverConfig(misa_client_ids={self.misa_client_ids!r}, misa_webhook_token=***, "
            f"mysign_client_id={self.mysign_client_id!r}, mysign_client_secret=***)"
        )


#: Why a callback was refused: its count key -> (Vietnamese, English) for the log.
_REFUSALS = {
    "wrong-url-token": ("sai mã bí mật trong đường dẫn", "wrong URL token"),
    "wrong-client-id": ("mã ứng dụng không phải của ta", "not our clientId"),
    "wrong-client-credentials": ("sai mã ứng dụng hoặc khóa bí mật", "wrong client credentials"),
    "wrong-token": ("mã truy cập sai hoặc đã hết hạn", "wrong or expired bearer token"),
    "unknown-transaction": ("không lượt chạy nào chờ giao dịch này", "no run waits for it"),
    "malformed": ("dữ liệu không đúng cấu trúc", "malformed body"),
    "malformed-auth": ("dữ liệu xin mã truy cập không đúng cấu trúc", "malformed auth call"),
}


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


async def _json(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ValueError("body too large")
    return json.loads(raw)


def _misa_answer(http: int, code: str, dev: str, user: str) -> JSONResponse:
    return JSONResponse({"errorCode": code, "devMsg": dev, "userMsg": user}, status_code=http)


def _mysign_answer(http: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"status_code": code, "message": message, **extra}, status_code=http)


class _Receiver:
    def __init__(
        self,
        config: ReceiverConfig,
        awaited: AwaitedTransactions,
        emit: Callable[..., Any] | None,
    ) -> None:
        self.config = config
        self.awaited = awaited
        self.emit = emit
        self._tokens: dict[str, float] = {}  # access token -> monotonic expiry
        self.counts: dict[str, int] = {}

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _wake(self, provider: str, tx: str, status: str) -> None:
        unit = self.awaited.unit(provider, tx)
        emit_callback(provider, tx, status, unit=unit, emit=self.emit)
        self._count(f"{provider}.accepted")
        log.info(
            "nhận tín hiệu của %s cho giao dịch %s (%s), đánh thức lượt chạy đang chờ / "
            "%s called back for transaction %s (%s): waking the waiting run",
            provider,
            tx,
            status,
            provider,
            tx,
            status,
        )

    def _refuse(self, provider: str, why: str, tx: str = "") -> None:
        self._count(f"{provider}.refused.{why}")
        vi, en = _REFUSALS[why]
        log.warning(
            "từ chối tín hiệu của %s: %s%s / refused a %s callback: %s%s",
            provider,
            vi,
            f", giao dịch {tx}" if tx else "",
            provider,
            en,
            f", transaction {tx}" if tx else "",
        )

    # ------------------------------------------------------------------ MISA (guide 3.8)

    async def misa_webhook(self, request: Request) -> Response:
        token = request.path_params.get("token", "")
        if not _same(token, self.config.misa_webhook_token):
            self._refuse(MISA_PROVIDER, "wrong-url-token")
            return _misa_answer(
                401, "UNAUTHORIZED", "webhook not authenticated", "Không xác thực được bên gọi"
            )
        try:
            body = await _json(request)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("transactionId"), str):
            self._refuse(MISA_PROVIDER, "malformed")
            return _misa_answer(
                400,
                "BAD_REQUEST",
                "body is not a webhook object with a transactionId",
                "Dữ liệu gửi đến không đúng cấu trúc",
            )
        client_id = body.get("clientId")
        if not isinstance(client_id, str) or not any(
            _same(client_id, c) for c in self.config.misa_client_ids
        ):
            self._refuse(MISA_PROVIDER, "wrong-client-id")
            return _misa_answer(
                401, "UNAUTHORIZED", "unknown clientId", "Không xác thực được bên gọi"
            )
        tx = body["transactionId"]
        if (MISA_PROVIDER, tx) not in self.awaited:
            self._refuse(MISA_PROVIDER, "unknown-transaction", tx)
            return _misa_answer(
                404,
                "TRANSACTION_NOT_FOUND",
                "no run waits for this transaction",
                "Không có lượt ký nào đang chờ giao dịch này",
            )
        status = body.get("status")
        self._wake(MISA_PROVIDER, tx, status if isinstance(status, str) else "")
        return _misa_answer(200, _MISA_OK, "OK", "Đã nhận")

    # ------------------------------------------------------------ Viettel MySign (async=3)

    async def mysign_auth(self, request: Request) -> Response:
        try:
            body = await _json(request)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._refuse(MYSIGN_PROVIDER, "malformed-auth")
            return _mysign_answer(400, "03", "Dữ liệu gửi đến không đúng cấu trúc")
        cid, secret = body.get("client_id"), body.get("client_secret")
        if (
            body.get("grant_type") != "client_credentials"
            or not isinstance(cid, str)
            or not isinstance(secret, str)
            or not _same(cid, self.config.mysign_client_id)
            or not _same(secret, self.config.mysign_client_secret)
        ):
            self._refuse(MYSIGN_PROVIDER, "wrong-client-credentials")
            return _mysign_answer(401, "01", "Sai mã ứng dụng hoặc khóa bí mật")
        now = time.monotonic()
        for old in [t for t, until in self._tokens.items() if until <= now]:
            del self._tokens[old]
        token = secrets.token_urlsafe(32)
        self._tokens[token] = now + MYSIGN_TOKEN_SECONDS
        self._count("mysign.token")
        return _mysign_answer(
            200,
            _MYSIGN_OK,
            "Thành công",
            data={"access_token": token, "expires_in": MYSIGN_TOKEN_SECONDS},
        )

    def _bearer_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        until = next(
            (u for t, u in self._tokens.items() if hmac.compare_digest(t.encode(), token.encode())),
            None,
        )
        return until is not None and until > time.monotonic()

    async def mysign_result(self, request: Request) -> Response:
        if not self._bearer_ok(request):
            self._refuse(MYSIGN_PROVIDER, "wrong-token")
            return _mysign_answer(401, "01", "Mã truy cập không hợp lệ hoặc đã hết hạn")
        try:
            body = await _json(request)
        except ValueError:
            body = None
        meta = body.get("meta_data") if isinstance(body, dict) else None
        tx = meta.get("transaction_id") if isinstance(meta, dict) else None
        if not isinstance(tx, str) or not tx:
            self._refuse(MYSIGN_PROVIDER, "malformed")
            return _mysign_answer(400, "03", "Thiếu mã giao dịch")
        assert isinstance(meta, dict)
        if (MYSIGN_PROVIDER, tx) not in self.awaited:
            self._refuse(MYSIGN_PROVIDER, "unknown-transaction", tx)
            return _mysign_answer(404, "02", "Không có lượt ký nào đang chờ giao dịch này")
        self._wake(MYSIGN_PROVIDER, tx, str(meta.get("status", "")))
        return _mysign_answer(200, _MYSIGN_OK, "Thành công")


def create_receiver_app(
    config: ReceiverConfig,
    awaited: AwaitedTransactions,
    *,
    emit: Callable[..., Any] | None = None,
) -> Starlette:
    """The receiver as an ASGI app.

    Args:
        config: who may call back.
        awaited: the transactions waiting runs announced (fed by ``follow_approvals``).
        emit: how to send the wake-up event (default ``prefect.events.emit_event``).

    Routes: ``POST /misa/webhook/{token}``, ``POST /mysign/auth``, ``POST /mysign/result``,
    ``GET /health`` (no secret: whether the approval stream is open, how many
    transactions are awaited, the counts of accepted and refused callbacks).
    """
    receiver = _Receiver(config, awaited, emit)

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "following": awaited.following,
                "awaited": len(awaited),
                "counts": receiver.counts,
            }
        )

    routes = [Route("/health", health, methods=["GET"])]
    if config.misa_webhook_token:
        routes.append(Route("/misa/webhook/{token}", receiver.misa_webhook, methods=["POST"]))
    if config.mysign_client_secret:
        routes += [
            # The MySign document prints both calls as GET with a JSON body; POST is taken too
            # (receivers behind proxies that drop a GET's body): the choice is ours.
            Route("/mysign/auth", receiver.mysign_auth, methods=["GET", "POST"]),
            Route("/mysign/result", receiver.mysign_result, methods=["GET", "POST"]),
        ]
    app = Starlette(routes=routes)
    app.state.receiver = receiver
    return app
