"""The virtual phone: what the signer sees and presses, as a web page and a JSON API.

The page (``GET /phone/{user}``) lists pending requests exactly as the real phone shows
them: the display text (``DataToBeDisplayed`` / ``transaction_desc`` / MySign's decoded
``description``) as sanitised HTML, every document name and id (MySign: the name only),
and a countdown. **Đồng ý** leads to a PIN step; **Từ chối**
rejects. The forms carry a single-use CSRF token bound to the page's user. The page
keeps itself current as a phone app does: it asks ``GET /phone/{user}/version`` every
two seconds and reloads when a request came or went (never while a PIN is being typed).
A form that worked answers with a redirect to the page (post, redirect, get), so that
reloading it afterwards shows the page again instead of sending the form twice.

The JSON control API (``/phone/api/...``) needs the ``x-sandbox-token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.provider.config import FaultsConfig, PhonePolicy
from sandbox.provider.state import ProviderState, SigningTx

__all__ = ["ALLOWED_TAGS", "phone_routes", "sanitize_html"]

#: The only tags kept from a display text; they keep no attributes.
ALLOWED_TAGS = frozenset({"b", "i", "u", "strong", "em", "br", "p", "ul", "ol", "li"})
_CSRF_TTL = 3600.0
_CSRF_MAX = 1000


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def _escape_raw(self) -> None:
        self.out.append(html.escape(self.get_starttag_text() or ""))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self._escape_raw()
        elif tag == "br":
            self.out.append("<br>")
        else:
            self.out.append(f"<{tag}>")
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.out.append("<br>")
        else:
            self._escape_raw()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open:
                top = self.open.pop()
                self.out.append(f"</{top}>")
                if top == tag:
                    break
        elif tag != "br":
            self.out.append(html.escape(f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data))

    def handle_comment(self, data: str) -> None:
        self.out.append(html.escape(f"<!--{data}-->"))

    def handle_decl(self, decl: str) -> None:
        self.out.append(html.escape(f"<!{decl}>"))

    def unknown_decl(self, data: str) -> None:
        self.out.append(html.escape(f"<![{data}]>"))

    def handle_pi(self, data: str) -> None:
        self.out.append(html.escape(f"<?{data}>"))

    def result(self) -> str:
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def sanitize_html(text: str) -> str:
    """Keep a few formatting tags (no attributes) and escape everything else.

    Example:
        >>> sanitize_html('<b>Ký</b> <img src=x onerror=alert(1)>')
        '<b>Ký</b> &lt;img src=x onerror=alert(1)&gt;'
    """
    parser = _Sanitiser()
    parser.feed(text)
    return parser.result()


# ====================================================================== the page

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:34rem;margin:1rem auto;padding:0 1rem;
background:#f4f5f7}
.card{background:#fff;border-radius:12px;padding:1rem;margin:1rem 0;
box-shadow:0 1px 3px #0002}
.meta{color:#555;font-size:.85rem}.error{color:#b00020;font-weight:600}
.ok{color:#1b5e20;font-weight:600}
form{display:inline-block;margin:.25rem .5rem .25rem 0}
button{font-size:1rem;padding:.5rem 1.2rem;border-radius:8px;border:0;cursor:pointer}
.yes{background:#1565c0;color:#fff}.no{background:#e0e0e0}
.docs{font-size:.9rem}
"""

_SCRIPT = """
for (const el of document.querySelectorAll('[data-left]')) {
  let left = parseInt(el.dataset.left, 10);
  setInterval(() => { left = Math.max(0, left - 1); el.textContent = left; }, 1000);
}
const shown = document.body.dataset.version;
const typing = () => [...document.querySelectorAll('input[name=pin]')].some(
  (i) => i.value !== '' || i === document.activeElement);
setInterval(async () => {
  if (typing()) { return; }
  try {
    const answer = await fetch(document.body.dataset.versionUrl, {cache: 'no-store'});
    const now = (await answer.json()).version;
    if (now !== shown) { window.location.replace(document.body.dataset.pageUrl); }
  } catch (e) { /* the sandbox is restarting: ask again later */ }
}, 2000);
"""

#: What a form that worked says on the page it redirects to (``?done=...``).
_DONE = {
    "approve": "Nhập mã PIN để xác nhận ký.",
    "reject": "Đã từ chối yêu cầu ký.",
    "signed": "Đã ký thành công.",
}


#: A request's outcome as the phone's history says it (the phone speaks Vietnamese only).
STATE_WORDS: dict[str, str] = {
    "pending": "đang chờ",
    "approved": "đã duyệt",
    "rejected": "đã từ chối",
    "expired": "hết hạn",
    "failed": "lỗi",
    "cancelled": "đã hủy",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _tx_card(user: str, tx: SigningTx, token: str) -> str:
    base = f"/phone/{quote(user, safe='')}/{quote(tx.id, safe='')}"
    # The MySign app shows each document's name (``document_name``), not our id.
    docs = "".join(
        f"<li><span class=docname>{_e(d.name)}</span>"
        + ("" if tx.service == "mysign" else f" <code class=docid>{_e(d.id)}</code>")
        + "</li>"
        for d in tx.documents
    )
    csrf = f'<input type=hidden name=csrf value="{_e(token)}">'
    reject = (
        f'<form method=post action="{base}/reject">{csrf}'
        "<button class=no type=submit name=action value=reject>Từ chối</button></form>"
    )
    if tx.awaiting_pin:
        actions = (
            f'<form method=post action="{base}/pin" class=pin>{csrf}'
            "<label>Mã PIN <input type=password name=pin inputmode=numeric "
            "autocomplete=off required></label> "
            "<button class=yes type=submit name=action value=pin>Xác nhận</button></form>" + reject
        )
    else:
        actions = (
            f'<form method=post action="{base}/approve">{csrf}'
            "<button class=yes type=submit name=action value=approve>Đồng ý</button></form>"
            + reject
        )
    return (
        f'<section class="card request" data-transaction="{_e(tx.id)}">'
        f"<div class=meta>{_e(tx.service.upper())} · giao dịch <code>{_e(tx.id)}</code>"
        f" · chứng thư {_e(tx.cert.alias)}</div>"
        f"<div class=display>{sanitize_html(tx.display_text)}</div>"
        f"<p>{len(tx.documents)} tài liệu:</p><ul class=docs>{docs}</ul>"
        f'<p class=countdown>Hết hạn sau <span data-left="{tx.seconds_left}">'
        f"{tx.seconds_left}</span> giây</p>"
        f"{actions}</section>"
    )


def page_version(state: ProviderState, user: str) -> str:
    """What the page shows, in short: it changes when a request comes, goes or moves on."""
    pending = [f"{tx.id}:{int(tx.awaiting_pin)}" for tx in state.pending(user)]
    recent = [f"{tx.id}:{tx.state}" for tx in state.recent(user)]
    return hashlib.sha256("|".join([*pending, "/", *recent]).encode()).hexdigest()[:16]


def render_phone_page(
    state: ProviderState, user: str, token: str, nonce: str, message: str = "", error: str = ""
) -> str:
    """The phone page of ``user`` (pending requests, then the last outcomes)."""
    pending = state.pending(user)
    page_url = f"/phone/{quote(user, safe='')}"
    cards = "".join(_tx_card(user, tx, token) for tx in pending) or (
        "<p class=empty>Không có yêu cầu ký nào đang chờ.</p>"
    )
    history = "".join(
        f"<li><code>{_e(tx.id)}</code>: {_e(STATE_WORDS.get(tx.state, tx.state))} "
        f"({len(tx.documents)} tài liệu)</li>"
        for tx in state.recent(user)
    )
    notice = ""
    if error:
        notice += f"<p class=error role=alert>{_e(error)}</p>"
    if message:
        notice += f"<p class=ok role=status>{_e(message)}</p>"
    return (
        "<!doctype html><html lang=vi><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>Điện thoại ảo: {_e(user)}</title><style>{_STYLE}</style></head>"
        f'<body data-version="{_e(page_version(state, user))}" data-page-url="{_e(page_url)}" '
        f'data-version-url="{_e(page_url)}/version">'
        f"<h1>Điện thoại ảo</h1><p class=meta>Tài khoản <b>{_e(user)}</b></p>{notice}"
        f"{cards}<h2>Gần đây</h2><ul class=history>{history}</ul>"
        f'<script nonce="{_e(nonce)}">{_SCRIPT}</script></body></html>'
    )


def _page_response(
    state: ProviderState, user: str, *, message: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    token = _issue_csrf(state, user)
    nonce = secrets.token_urlsafe(12)
    return HTMLResponse(
        render_phone_page(state, user, token, nonce, message, error),
        status_code=status,
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            # Not "no-referrer": under it browsers send ``Origin: null`` with the page's own
            # form posts, which the same-origin check refuses. Nothing leaves the origin.
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        },
    )


def _issue_csrf(state: ProviderState, user: str) -> str:
    now = time.monotonic()
    if len(state.csrf) >= _CSRF_MAX:
        for key in [k for k, (_, exp) in state.csrf.items() if exp < now] or list(state.csrf)[:100]:
            state.csrf.pop(key, None)
    token = secrets.token_urlsafe(24)
    state.csrf[token] = (user, now + _CSRF_TTL)
    return token


def _take_csrf(state: ProviderState, user: str, token: str) -> bool:
    entry = state.csrf.pop(token, None)
    return entry is not None and entry[0] == user and entry[1] >= time.monotonic()


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def phone_routes(state: ProviderState) -> list[BaseRoute]:
    """The routes of the phone page and its control API, over ``state``."""

    def known(user: str) -> bool:
        return user in state.accounts

    async def page(request: Request) -> Response:
        user = request.path_params["user"]
        if not known(user):
            return HTMLResponse("<p>Không có tài khoản này.</p>", status_code=404)
        return _page_response(
            state, user, message=_DONE.get(request.query_params.get("done", ""), "")
        )

    async def version(request: Request) -> Response:
        user = request.path_params["user"]
        if not known(user):
            return JSONResponse({"error": "unknown account"}, status_code=404)
        return JSONResponse(
            {"version": page_version(state, user)}, headers={"Cache-Control": "no-store"}
        )

    def done(user: str, what: str) -> Response:
        # Post, redirect, get: a reload shows the page, it does not send the form again.
        return RedirectResponse(f"/phone/{quote(user, safe='')}?done={what}", status_code=303)

    async def act(request: Request) -> Response:
        user, tx_id, action = (request.path_params[k] for k in ("user", "tx", "action"))
        if not known(user):
            return HTMLResponse("<p>Không có tài khoản này.</p>", status_code=404)
        raw = await request.body()
        form = parse_qs(raw[:8192].decode("utf-8", "replace"))
        token = (form.get("csrf") or [""])[0]
        if not _same_origin(request) or not _take_csrf(state, user, token):
            return _page_response(
                state, user, error="Phiên đã hết hạn: hãy thử lại trên trang mới.", status=403
            )
        tx = state.transactions.get(tx_id)
        if tx is None or tx.account != user or state.settle(tx).state != "pending":
            return _page_response(state, user, error="Yêu cầu không còn chờ ký.", status=409)
        if action == "approve":
            tx.awaiting_pin = True
            return done(user, "approve")
        if action == "reject":
            state.reject(tx.id, via="phone")
            return done(user, "reject")
        pin = (form.get("pin") or [""])[0]
        if not tx.awaiting_pin:
            return _page_response(state, user, error="Hãy bấm Đồng ý trước.", status=409)
        if not hmac.compare_digest(pin.encode(), state.accounts[user].config.pin.encode()):
            state.audit.write(tx.service, "pin_failed", user=user, transaction=tx.id)
            return _page_response(state, user, error="Mã PIN không đúng.", status=400)
        if state.approve(tx.id, via="phone"):
            return done(user, "signed")
        return _page_response(state, user, error="Yêu cầu đã hết hạn.", status=409)

    # ---------------------------------------------------------------- JSON control
    def authorised(request: Request) -> bool:
        given = request.headers.get("x-sandbox-token", "")
        return hmac.compare_digest(given.encode(), state.config.control_token.encode())

    def denied() -> JSONResponse:
        return JSONResponse({"error": "x-sandbox-token missing or wrong"}, status_code=401)

    def tx_json(tx: SigningTx) -> dict[str, Any]:
        return {
            "transaction_id": tx.id,
            "service": tx.service,
            "state": tx.state,
            "certificate": tx.cert.alias,
            "display_text": tx.display_text,
            "display_html": sanitize_html(tx.display_text),
            "documents": [{"id": d.id, "name": d.name} for d in tx.documents],
            "expires_at": tx.deadline_wall.isoformat(),
            "seconds_left": tx.seconds_left,
            "awaiting_pin": tx.awaiting_pin,
        }

    async def api_pending(request: Request) -> Response:
        if not authorised(request):
            return denied()
        user = request.path_params["user"]
        if not known(user):
            return JSONResponse({"error": f"unknown account {user!r}"}, status_code=404)
        return JSONResponse({"user": user, "pending": [tx_json(t) for t in state.pending(user)]})

    async def _body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def api_act(request: Request) -> Response:
        if not authorised(request):
            return denied()
        user, tx_id, action = (request.path_params[k] for k in ("user", "tx", "action"))
        tx = state.transactions.get(tx_id)
        if tx is None or tx.account != user:
            return JSONResponse({"error": f"no transaction {tx_id!r} for {user!r}"}, 404)
        if state.settle(tx).state != "pending":
            return JSONResponse({"error": "not pending", "state": tx.state}, status_code=409)
        body = await _body(request)
        if action == "approve":
            pin = body.get("pin", state.accounts[user].config.pin)
            if not isinstance(pin, str) or not hmac.compare_digest(
                pin.encode(), state.accounts[user].config.pin.encode()
            ):
                return JSONResponse({"error": "wrong PIN", "state": tx.state}, status_code=403)
            state.approve(tx.id, via="api")
        elif action == "reject":
            state.reject(tx.id, via="api")
        else:
            state.fail(tx.id, str(body.get("fail_code") or "SIGNING_FAILED"))
        return JSONResponse(tx_json(tx))

    async def api_policy(request: Request) -> Response:
        if not authorised(request):
            return denied()
        user = request.path_params["user"]
        if not known(user):
            return JSONResponse({"error": f"unknown account {user!r}"}, status_code=404)
        if request.method == "PUT":
            try:
                policy = PhonePolicy.model_validate(await _body(request))
            except ValidationError as exc:
                return JSONResponse({"error": exc.errors(include_url=False)}, status_code=422)
            state.set_policy(user, policy)
        current = state.policies.get(user) or PhonePolicy()
        return JSONResponse(current.model_dump())

    async def api_faults(request: Request) -> Response:
        if not authorised(request):
            return denied()
        if request.method == "PUT":
            try:
                state.set_faults(FaultsConfig.model_validate(await _body(request)))
            except ValidationError as exc:
                return JSONResponse({"error": exc.errors(include_url=False)}, status_code=422)
        return JSONResponse(state.faults.model_dump())

    return [
        Route("/phone/api/_faults", api_faults, methods=["GET", "PUT"]),
        Route("/phone/api/{user}/pending", api_pending, methods=["GET"]),
        Route("/phone/api/{user}/policy", api_policy, methods=["GET", "PUT"]),
        Route(
            "/phone/api/{user}/{tx}/{action:str}",
            api_act,
            methods=["POST"],
        ),
        Route("/phone/{user}", page, methods=["GET"]),
        Route("/phone/{user}/version", version, methods=["GET"]),
        Route("/phone/{user}/{tx}/{action}", act, methods=["POST"]),
    ]
