"""The reference app's contract with its dependencies unreachable: 503, named, fast."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from starlette.testclient import TestClient

from reference_app.health import ServiceHealth, overall, probe
from reference_app.jobs import FUNCTIONS
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


def test_inngest_lists_the_five_guide_functions(client: TestClient) -> None:
    with client:
        body = client.get("/api/inngest").json()
    assert body["function_count"] == 5
    assert tuple(f["id"] for f in body["functions"]) == GUIDE_FUNCTIONS
    assert len(FUNCTIONS) == 5


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
