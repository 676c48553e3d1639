"""The Inngest check against the real inngest SDK in cloud mode: 401 unsigned, the
authenticated introspection when signed with the stack's key (SDK helper), refused otherwise."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.smoke.helpers import dead_outputs, free_port, run_smoke

SIGNING_KEY = "signkey-prod-" + "5e1f0c0ffee0" * 5 + "c0ffee5e"  # hex, like real keys


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """The reference app's five functions behind the SDK's FastAPI handler, in cloud mode."""
    import fastapi
    import inngest
    import inngest.fast_api
    import uvicorn

    from reference_app.jobs import APP_ID, FUNCTIONS

    client = inngest.Inngest(app_id=APP_ID, is_production=True, signing_key=SIGNING_KEY)
    app = fastapi.FastAPI()
    inngest.fast_api.serve(app, client, FUNCTIONS)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def run_inngest_check(tmp_path: Path, app_url: str, env_extra: dict[str, str]) -> object:
    outputs = dead_outputs(free_port(), free_port(), free_port(), app_url=app_url)
    outputs["env"].update(env_extra)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    target = str(Path(__file__).resolve().parents[3] / "smoke" / "checks" / "app.py")
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
