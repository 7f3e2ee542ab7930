"""The stack's plain API client sends a request again while the server says it is busy
(429, 502, 503), as Prefect's own client does, and not on other errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest

from deployments.stack import BusyRetry


class _Answers(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        status = self.answers.pop(0) if self.answers else 201
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _post(url: str) -> httpx.Response:
    with httpx.Client(base_url=url, transport=BusyRetry()) as client:
        return client.post("/flow_runs/", json={"name": "x"})


def test_a_busy_server_is_asked_again_with_the_same_body(server: str) -> None:
    _Answers.answers, _Answers.bodies = [503, 502, 429], []
    assert _post(server).status_code == 201
    assert [json.loads(b) for b in _Answers.bodies] == [{"name": "x"}] * 4


def test_other_errors_are_answered_at_once(server: str) -> None:
    _Answers.answers, _Answers.bodies = [500], []
    assert _post(server).status_code == 500
    assert len(_Answers.bodies) == 1
