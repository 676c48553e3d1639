"""The reference app's contract: 503 named and fast with dependencies down, the real Inngest
SDK serving the guide's functions, `/api/test-sentry` delivering through the real sentry-sdk."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from starlette.testclient import TestClient

from reference_app import video_chunks
from reference_app.health import ServiceHealth, overall, probe
from reference_app.jobs import FUNCTIONS, TRIGGERS
from smoke.guide import GUIDE_FUNCTIONS


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://u:dbsecret@127.0.0.1:{closed_port()}/d")
    monkeypatch.setenv("REDIS_URL", f"redis://default:cachesecret@127.0.0.1:{closed_port()}/0")
    from reference_app.main import app

    return TestClient(app)


def test_health_is_503_and_names_both_services_when_down(client: TestClient) -> None:
    with client:
        start = time.monotonic()
        response = client.get("/api/health")
        took = time.monotonic() - start
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["services"]["database"]["healthy"] is False
    assert body["services"]["cache"]["healthy"] is False
    assert "dbsecret" not in response.text and "cachesecret" not in response.text
    assert took < 3


def test_inngest_sdk_serves_the_five_guide_functions(client: TestClient) -> None:
    with client:
        response = client.get("/api/inngest")
    body = response.json()
    # The SDK's unauthenticated inspection (inngest/_internal/server_lib/inspection.py).
    assert response.status_code == 200, body
    assert body["function_count"] == 5 and body["mode"] == "dev"
    assert tuple(TRIGGERS) == GUIDE_FUNCTIONS
    assert [f.local_id for f in FUNCTIONS] == list(GUIDE_FUNCTIONS)
    assert [f.id for f in FUNCTIONS][0] == "mentora-process-video"


def test_guide_triggers() -> None:
    assert TRIGGERS["process-video"].event == "video/upload.completed"  # type: ignore[union-attr]
    assert TRIGGERS["aggregate-daily-analytics"].cron == "0 2 * * *"  # type: ignore[union-attr]
    assert TRIGGERS["check-content-health"].cron == "0 */6 * * *"  # type: ignore[union-attr]


@pytest.mark.parametrize("marker", ["videos", "", None, "Smoke:x", "smoke:" + "x" * 100])
def test_process_video_refuses_markers_outside_the_smoke_namespace(marker: object) -> None:
    with pytest.raises(ValueError, match="smokeMarker must start with 'smoke:'"):
        video_chunks.require_marker(marker)


def test_missing_env_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    from reference_app.main import app

    with pytest.raises(RuntimeError, match="set DATABASE_URL"), TestClient(app):
        pass


def test_probe_times_out_and_reports_the_deadline() -> None:
    async def hang() -> None:
        await asyncio.sleep(5)

    result = asyncio.run(probe(hang, 0.05))
    assert not result.healthy
    assert result.error == "timed out after 0.05s"
    assert 40 <= result.latency < 1000


def test_overall_status() -> None:
    up, down = ServiceHealth(True, 1), ServiceHealth(False, 2, "ConnectionError")
    assert overall({"database": up, "cache": up}) == ("healthy", 200)
    assert overall({"database": up, "cache": down}) == ("degraded", 503)


RECEIVED: list[tuple[str, bytes]] = []


class EnvelopeSink(BaseHTTPRequestHandler):
    """Accepts what sentry-sdk POSTs to `/api/<project>/envelope/`, like Sentry or Bugsink."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":  # sentry-sdk compresses with brotli when it is installed
            import brotli  # type: ignore[import-untyped]

            body = brotli.decompress(body)
        RECEIVED.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sink() -> Iterator[int]:
    RECEIVED.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), EnvelopeSink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    import sentry_sdk

    monkeypatch.setenv("DATABASE_URL", f"postgresql://u:p@127.0.0.1:{closed_port()}/d")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    yield monkeypatch
    # sentry-sdk is process-global: leave it off for other tests (init reads SENTRY_DSN too).
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    sentry_sdk.init(dsn=None)


def test_test_sentry_delivers_the_event_it_names(app_env: pytest.MonkeyPatch, sink: int) -> None:
    app_env.setenv("SENTRY_DSN", f"http://publickey@127.0.0.1:{sink}/42")
    from reference_app.main import app

    with TestClient(app) as client:
        response = client.get("/api/test-sentry", params={"tag": "run7"})
    assert response.status_code == 200
    event_id = response.json()["event_id"]
    assert len(event_id) == 32
    paths = [path for path, _ in RECEIVED]
    assert "/api/42/envelope/" in paths
    envelope = next(body for path, body in RECEIVED if path == "/api/42/envelope/")
    header, *items = (json.loads(line) for line in envelope.splitlines() if line.strip())
    assert header["event_id"] == event_id
    event = next(i for i in items if i.get("event_id") == event_id)
    assert event["exception"]["values"][0]["type"] == "SentryTestError"
    assert event["tags"]["smoke_run"] == "run7"


def test_test_sentry_without_dsn_is_503_naming_it(app_env: pytest.MonkeyPatch) -> None:
    app_env.delenv("SENTRY_DSN", raising=False)
    from reference_app.main import app

    with TestClient(app) as client:
        response = client.get("/api/test-sentry")
    assert response.status_code == 503
    assert "SENTRY_DSN" in response.json()["fix"]


def test_the_rate_limit_counts_requests_against_what_the_caller_cannot_mint() -> None:
    from reference_app.client_identity import client_key, sign, signing_key

    key = signing_key("redis://default:pw@127.0.0.1:6390/0")
    # Rotating unsigned ids mints no fresh quota: every one counts against the peer address.
    assert {client_key({"x-client-id": f"c{i}"}, "10.0.0.7", key) for i in range(50)} == {
        "ip:10.0.0.7"
    }
    forged = {"x-client-id": "smoke-1", "x-client-signature": sign(b"other key", "smoke-1")}
    assert client_key(forged, "10.0.0.7", key) == "ip:10.0.0.7"
    huge = "x" * 32_000  # never becomes a Redis key
    assert client_key({"x-client-id": huge, "x-client-signature": sign(key, huge)}, "p", key) == (
        "ip:p"
    )
    signed = {"x-client-id": "smoke-1", "x-client-signature": sign(key, "smoke-1")}
    assert client_key(signed, "10.0.0.7", key) == "id:smoke-1"


def test_a_slow_tracker_does_not_hold_up_the_apps_other_requests(
    app_env: pytest.MonkeyPatch,
) -> None:
    """`/api/test-sentry` waits for the tracker off the event loop: /api/health answers at once
    meanwhile (a blocking flush held every request of the app for up to its 2 s)."""
    from reference_app.errors import FLUSH_TIMEOUT_S

    release = threading.Event()

    class SlowSink(EnvelopeSink):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            release.wait(FLUSH_TIMEOUT_S + 1)
            super().do_POST()

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowSink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app_env.setenv("SENTRY_DSN", f"http://publickey@127.0.0.1:{server.server_address[1]}/42")
    from reference_app.main import app

    try:
        with TestClient(app) as client:
            flushing = threading.Thread(target=client.get, args=("/api/test-sentry",))
            flushing.start()
            time.sleep(0.3)  # the event is on its way to the stalled tracker
            started = time.monotonic()
            health = client.get("/api/health")
            waited = time.monotonic() - started
            release.set()
            flushing.join()
        assert health.status_code == 503  # its database and cache are closed ports
        assert waited < 1.0, f"/api/health waited {waited:.2f} s behind the flush"
    finally:
        release.set()
        server.shutdown()
