"""The deployment check: the app must report the configuration fingerprint this update
exported; a stale deployment (an older env) fails naming both fingerprints."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.unit.smoke.helpers import SMOKE_DIR, dead_outputs, free_port, run_smoke


def serving(config: str | None) -> type[BaseHTTPRequestHandler]:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = {"status": "healthy", "services": {}, "config": config}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Health


@pytest.fixture
def app(request: pytest.FixtureRequest) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), serving(request.param))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run_check(tmp_path: Path, **overrides: Any) -> tuple[int, str]:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port(), **overrides)))
    args = ("--outputs-file", path, "-k", "this_updates_configuration", "-rA")
    result = run_smoke(tmp_path, SMOKE_DIR / "checks" / "app.py", *args)
    return result.ret, result.output


@pytest.mark.parametrize("app", ["abc123"], indirect=True)
def test_the_current_deployment_passes(app: str, tmp_path: Path) -> None:
    ret, out = run_check(tmp_path, app_url=app, config_fingerprint="abc123")
    assert ret == 0 and "1 passed" in out, out


@pytest.mark.parametrize("app", ["0ld0ld"], indirect=True)
def test_a_stale_deployment_fails_naming_both_configurations(app: str, tmp_path: Path) -> None:
    ret, out = run_check(tmp_path, app_url=app, config_fingerprint="abc123")
    assert ret == 1, out
    assert "runs configuration 0ld0ld, not this update's abc123: it is stale" in out


@pytest.mark.parametrize("app", [None], indirect=True)
def test_an_app_that_reports_no_configuration_fails_naming_the_contract(
    app: str, tmp_path: Path
) -> None:
    ret, out = run_check(tmp_path, app_url=app, config_fingerprint="abc123")
    assert ret == 1 and "must echo MENTORA_CONFIG_FINGERPRINT" in out, out


@pytest.mark.parametrize("app", ["abc123"], indirect=True)
def test_a_stack_without_a_fingerprint_skips_with_the_reason(app: str, tmp_path: Path) -> None:
    ret, out = run_check(tmp_path, app_url=app)
    assert ret == 0 and "exports no config_fingerprint" in out, out
