"""A wire-faithful stand-in for the remote-signing providers, with a virtual phone.

One Starlette app serves both wire formats, as the vendor documents print them:

* MISA eSign RemoteSigning V2 ("Tài liệu tích hợp API eSign RemoteSigning - V2"): auth
  at the guide's ``/api/auth/api/v1/auth/...`` and at ``/webdev/api/auth/api/v1/auth/...``
  (MISA's test host), the signing service under ``/external/esrm/service/...``;
* VNPT SmartCA sp769 ("Tài liệu tích hợp VNPT SMARTCA", section 3) under
  ``/sca/sp769/v1/...``;
* Viettel MySign ("MySign Integration Document" v1.8/v1.9) under ``/vtss/service/...``,
  with its callbacks (``async`` = 3) to the integrator's URLs;
* CA2 RemoteSigning (NACENCOMM; no vendor document: read from eBH's public client code)
  under ``/ca2/api/data/...``;
* the virtual phone at ``/phone/{user}`` (HTML for a person) and ``/phone/api/...`` (JSON,
  for tests and demos, guarded by the ``x-sandbox-token`` header);
* ``/health``. Every other path answers ``200 text/html``, as the real MISA web app does.

Signatures are real: RSA PKCS#1 v1.5 over the submitted SHA-256 digest with the key of
the account's certificate from the test PKI. This package must not import ``esign``.

Strict where the documents are strict (a VNPT serial compared as listed, a VNPT
transaction id used once, the types of every documented field), lenient where they say
optional. Where a document is silent, a comment says "the sandbox's choice".
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox.audit import AuditLog
from sandbox.pki import TestPKI
from sandbox.provider.ca2 import ca2_routes
from sandbox.provider.config import ProviderConfig
from sandbox.provider.misa import misa_routes
from sandbox.provider.mysign import mysign_routes
from sandbox.provider.phone import phone_routes
from sandbox.provider.state import ProviderState
from sandbox.provider.vnpt import vnpt_routes

__all__ = ["create_provider_app"]

_WEB_APP = (
    "<!doctype html><html lang=vi><head><meta charset=utf-8><title>MISA eSign</title></head>"
    "<body><div id=app>Đang tải…</div></body></html>"
)


async def _web_app(request: Request) -> Response:
    return HTMLResponse(_WEB_APP)


def create_provider_app(config: ProviderConfig, pki: TestPKI, audit: AuditLog) -> Starlette:
    """The provider sandbox as an ASGI app (both wire formats, the phone, /health)."""
    state = ProviderState(config, pki, audit)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "accounts": len(state.accounts)})

    routes = [
        Route("/health", health, methods=["GET"]),
        *misa_routes(state),
        *vnpt_routes(state),
        *mysign_routes(state),
        *ca2_routes(state),
        *phone_routes(state),
        Route("/{path:path}", _web_app, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    app = Starlette(routes=routes)
    app.state.provider = state
    return app
