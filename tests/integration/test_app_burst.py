"""The reference app's `/api/health` under a burst of 300 concurrent requests (issue 19): every
answer is about the services, none about the app's own pools. Before, the Redis client's default
pool raised MaxConnectionsError past 100 connections: 174 of 300 answers were 503 while Redis
was healthy. Bounded: loopback only, one burst, 20 s per request."""

from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from devtools.ports import free_port, port_open

if TYPE_CHECKING:
    from tests.integration.pg_fixture import PgServer

pytest_plugins = ["tests.integration.pg_fixture", "tests.integration.redis_fixture"]
ROOT = Path(__file__).resolve().parents[2]
BURST = 300


@pytest.fixture(scope="module")
def app_url(pg_server: PgServer, redis_url: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": pg_server.create_database("burst"),
        "REDIS_URL": redis_url,
        "PORT": str(port),
    }
    command = [sys.executable, "-m", "uvicorn", "reference_app.main:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    app = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while not port_open(port) and time.monotonic() < deadline:
        assert app.poll() is None, "the app exited"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    app.terminate()
    app.wait(timeout=10)


async def burst(url: str) -> list[tuple[int, str]]:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(limits=limits, timeout=20) as client:

        async def one() -> tuple[int, str]:
            response = await client.get(f"{url}/api/health")
            return response.status_code, response.text

        return await asyncio.gather(*(one() for _ in range(BURST)))


def test_a_burst_of_health_requests_is_answered_about_the_services(app_url: str) -> None:
    for _ in range(2):  # cold (no connection yet), then warm
        answers = asyncio.run(burst(app_url))
        codes = collections.Counter(code for code, _ in answers)
        assert codes == {200: BURST}, [text for code, text in answers if code != 200][:3]
