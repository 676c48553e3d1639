"""The Inngest check against a cloud-mode handler: 401 unsigned, introspection when signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.unit.smoke.helpers import dead_outputs, free_port, run_smoke

SIGNING_KEY = "signkey-prod-5e1f0c0ffee5e1f0c0ffee5e1f0c0ffee"
FUNCTIONS = [
    "process-video",
    "generate-quiz",
    "aggregate-daily-analytics",
    "check-content-health",
    "send-email",
]


class CloudModeHandler(BaseHTTPRequestHandler):
    """Answers GET /api/inngest like a cloud-mode Inngest handler: only signed requests."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        header = self.headers.get("X-Inngest-Signature", "")
        fields = dict(part.split("=", 1) for part in header.split("&") if "=" in part)
        key = SIGNING_KEY.removeprefix("signkey-prod-").encode()
        expected = hmac.new(key, fields.get("t", "").encode(), hashlib.sha256).hexdigest()
        if not fields.get("s") or not hmac.compare_digest(fields["s"], expected):
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps(
            {"mode": "cloud", "function_count": 5, "functions": [{"id": f} for f in FUNCTIONS]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CloudModeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run_inngest_check(tmp_path: Path, app_url: str, env_extra: dict[str, str]) -> object:
    outputs = dead_outputs(free_port(), free_port(), free_port(), app_url=app_url)
    outputs["env"].update(env_extra)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    target = str(Path(__file__).resolve().parents[3] / "smoke" / "test_app.py")
    return run_smoke(tmp_path, target, "--outputs-file", path, "-k", "inngest_serves", "-rA")


def test_signed_introspection_passes(tmp_path: Path, app_url: str) -> None:
    result = run_inngest_check(tmp_path, app_url, {"INNGEST_SIGNING_KEY": SIGNING_KEY})
    assert result.ret == 0, result.output  # type: ignore[attr-defined]
    assert SIGNING_KEY not in result.output  # type: ignore[attr-defined]


def test_cloud_mode_without_signing_key_fails_naming_it(tmp_path: Path, app_url: str) -> None:
    result = run_inngest_check(tmp_path, app_url, {})
    assert result.ret == 1  # type: ignore[attr-defined]
    assert "INNGEST_SIGNING_KEY" in result.output  # type: ignore[attr-defined]


def test_wrong_signing_key_fails(tmp_path: Path, app_url: str) -> None:
    result = run_inngest_check(tmp_path, app_url, {"INNGEST_SIGNING_KEY": "signkey-prod-00ff"})
    assert result.ret == 1  # type: ignore[attr-defined]
    assert "/api/inngest answered 401" in result.output  # type: ignore[attr-defined]
