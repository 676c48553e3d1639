"""The app's refresh probe asks whether its HTTP server answers at all, not its health: a hung
dependency made `/api/health` answer only after the app's own 2 s timeout, and every heal of a
hung database or cache waited that long for the app's probe (issue 17's heal target)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from components.local.app_process import AppProcessProvider


class SlowHealth(BaseHTTPRequestHandler):
    """Health waits on a hung dependency; every other path is a quick 404, as in any app."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/api/health":
            time.sleep(5)
        self.send_response(503 if self.path == "/api/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHealth)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_an_app_waiting_on_a_hung_dependency_is_running(app_port: int, tmp_path: Path) -> None:
    provider = AppProcessProvider()
    settings = provider.settings({"port": app_port, "data_dir": str(tmp_path / "app")})
    started = time.monotonic()
    assert provider.probe(settings, {}) is True
    assert time.monotonic() - started < 1.0


def test_an_app_that_does_not_answer_is_not_running(tmp_path: Path) -> None:
    import socket

    with socket.socket() as silent:  # accepts (the kernel does), never answers: a hung app
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        provider = AppProcessProvider()
        port = silent.getsockname()[1]
        settings = provider.settings({"port": port, "data_dir": str(tmp_path / "app")})
        assert provider.probe(settings, {}) is False
