"""The Toxiproxy client against the real pinned server: a proxy forwards, a latency toxic delays
answers, a reset_peer toxic resets, and everything is gone after the context managers exit."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from devtools import toxiproxy as tp

BINARY = tp.toxiproxy_binary()
pytestmark = pytest.mark.skipif(
    not os.access(BINARY, os.X_OK),
    reason=f"no toxiproxy-server at {BINARY} (set TOXIPROXY_BIN or run scripts/bootstrap.sh)",
)


@pytest.fixture(scope="module")
def server() -> Iterator[tp.ToxiproxyServer]:
    with tp.ToxiproxyServer(BINARY) as running:
        yield running


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that echoes each connection's bytes back."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):  # a reset link ends this connection
                while data := conn.recv(4096):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    listener.close()


def roundtrip(port: int, timeout_s: float = 3.0) -> float:
    """Seconds for one echo through `port`."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        start = time.perf_counter()
        sock.sendall(b"ping")
        assert sock.recv(16) == b"ping"
        return time.perf_counter() - start


def test_proxy_latency_and_cleanup(server: tp.ToxiproxyServer, echo_port: int) -> None:
    client = server.client
    assert client.version()  # "git" for a `go install` build, "2.12.0" for a release
    with client.proxy("echo_latency", upstream=f"127.0.0.1:{echo_port}") as proxy:
        assert roundtrip(proxy.port) < 0.05
        with client.toxic(proxy.name, tp.latency(200, jitter_ms=0)):
            assert 0.18 < roundtrip(proxy.port) < 1.0
        assert client.toxics(proxy.name) == []
        assert roundtrip(proxy.port) < 0.05
    with pytest.raises(tp.ToxiproxyError, match="404: proxy not found"):
        client.get_proxy("echo_latency")


def test_reset_peer_resets_the_connection(server: tp.ToxiproxyServer, echo_port: int) -> None:
    client = server.client
    with (
        client.proxy("echo_reset", upstream=f"127.0.0.1:{echo_port}") as proxy,
        client.toxic(proxy.name, tp.reset_peer(0)),
        pytest.raises((ConnectionResetError, AssertionError)),
    ):
        # The toxic resets the link: the client sees ECONNRESET (or an empty read first).
        roundtrip(proxy.port)


def test_disabled_proxy_refuses(server: tp.ToxiproxyServer, echo_port: int) -> None:
    client = server.client
    with client.proxy("echo_down", upstream=f"127.0.0.1:{echo_port}") as proxy:
        client.set_enabled(proxy.name, False)
        with pytest.raises(ConnectionRefusedError):
            roundtrip(proxy.port)
