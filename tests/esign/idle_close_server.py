"""An HTTP/1.1 server whose keep-alive window closes exactly as a late request arrives.

A real server closes an idle connection when its keep-alive timer fires; a client that
sends on that connection at the same moment sees ``ReadError`` / ``RemoteProtocolError``
after its request left. This server makes that race certain: a request arriving on a
connection that has answered before and then sat idle for longer than ``window`` seconds
is read and dropped unanswered (the socket is reset). Fresh connections and brisk reuse
are answered by ``handler``.

Plain asyncio on 127.0.0.1, in a thread; enough HTTP/1.1 for httpx (Content-Length
bodies, keep-alive).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

#: (method, path, JSON body or None) -> (HTTP status, JSON answer)
Handler = Callable[[str, str, Any], tuple[int, Any]]


class IdleCloseServer:
    def __init__(self, handler: Handler, *, window: float) -> None:
        self.handler = handler
        self.window = window
        self.connections = 0
        self.dropped: list[str] = []
        self.answered: list[str] = []
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    # ------------------------------------------------------------------ serving
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        last: float | None = None  # when this connection last answered (keep-alive only)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                raw = await reader.readexactly(int(headers.get("content-length", "0")))
                if last is not None and time.monotonic() - last > self.window:
                    self.dropped.append(f"{method} {path}")
                    writer.transport.abort()  # the keep-alive timer fired: reset, no answer
                    return
                status, answer = self.handler(method, path, json.loads(raw) if raw else None)
                payload = json.dumps(answer).encode()
                # Recorded before the answer leaves: once the client has read it, a test
                # may look at this list at once.
                self.answered.append(f"{method} {path}")
                writer.write(
                    f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
                last = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            if not writer.transport.is_closing():
                writer.close()

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            port = self._server.sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
            self._ready.set()
            async with self._server:
                await self._server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(main())

    def __enter__(self) -> IdleCloseServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("idle-close server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop)
        self._thread.join(timeout=10)

    def _stop(self) -> None:
        for task in asyncio.all_tasks():
            task.cancel()
