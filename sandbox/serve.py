"""Run an ASGI app with uvicorn on 127.0.0.1 in a background thread (tests, demo).

The sandbox binds loopback only. Port 0 picks a free port; the bound URL is read back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import uvicorn

__all__ = ["ServerThread"]


class ServerThread:
    """A uvicorn server in a daemon thread.

    Example:
        >>> with ServerThread(app) as server:  # doctest: +SKIP
        ...     httpx.get(server.url + "/health")
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("the sandbox binds loopback only")
        self._config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(self._config)
        self._thread = threading.Thread(target=self._run, name="sandbox-server", daemon=True)
        self.url = ""

    def _run(self) -> None:
        asyncio.run(self._server.serve())

    def start(self, timeout: float = 20.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sandbox server did not start")
            time.sleep(0.01)
        sock = self._server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
