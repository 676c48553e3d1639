"""Smoke across a faulty network: Toxiproxy in front of one service of the real local stack at a
time (its URL in a copy of the outputs rewritten to the proxy), one fault at a time. Smoke must
pass through latency, a slow close and a limited link, and fail on a blackhole or a reset naming
the service and the kind of fault, never hanging.

The times printed are measured; the speed targets live in bench/ (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from devtools import toxiproxy as tp
from devtools.project import LocalProject

BINARY = tp.toxiproxy_binary()
pytestmark = pytest.mark.skipif(
    not os.access(BINARY, os.X_OK),
    reason=f"no toxiproxy-server at {BINARY} (set TOXIPROXY_BIN or run scripts/bootstrap.sh)",
)
CHECK_TIMEOUT_S = "1"
HANG_S = 25.0  # a run past this hung (a healthy one takes 2-5 s here)
# service -> (its port setting, the outputs and env entries that point at it, what to run)
SERVICES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "database": ("postgresPort", ("database_url", "env.DATABASE_URL"), ("database.py",)),
    "cache": ("redisPort", ("redis_url", "env.REDIS_URL"), ("cache.py",)),
    "storage": (
        "storagePort",
        ("storage_endpoint", "env.AWS_ENDPOINT_URL_S3"),
        ("storage.py",),
    ),
    "app": ("appPort", ("app_url",), ("app.py", "-k", "health or configuration")),
}
# fault -> (toxics, what smoke says: None = it passes)
FAULTS: dict[str, tuple[list[tp.Toxic], str | None]] = {
    "latency 100 ms": ([tp.latency(100, jitter_ms=20, stream="downstream")], None),
    "slow close": ([tp.slow_close(3000)], None),
    "limited link": ([tp.bandwidth(32, stream="downstream")], None),
    "blackhole": ([tp.timeout(0, stream="upstream")], "timed out"),
    "reset": ([tp.reset_peer(0)], "dropped the connection"),
}


@pytest.fixture(scope="module")
def running(local_project: LocalProject) -> LocalProject:
    local_project.up()
    return local_project


@pytest.fixture(scope="module")
def toxiproxy() -> Iterator[tp.ToxiproxyClient]:
    with tp.ToxiproxyServer(BINARY) as server:
        yield server.client


def through(url: str, port: int) -> str:
    """`url` with its port replaced by the proxy's."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def outputs_through(project: LocalProject, fields: tuple[str, ...], port: int) -> dict[str, Any]:
    outputs = json.loads(project.outputs(show_secrets=True).output)
    for field in fields:
        if field.startswith("env."):
            name = field.removeprefix("env.")
            outputs["env"][name] = through(outputs["env"][name], port)
        else:
            outputs[field] = through(outputs[field], port)
    return outputs


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("service", list(SERVICES))
def test_smoke_through_a_faulty_link(
    running: LocalProject,
    toxiproxy: tp.ToxiproxyClient,
    tmp_path: Path,
    service: str,
    fault: str,
) -> None:
    key, fields, selection = SERVICES[service]
    toxics, expected = FAULTS[fault]
    name = f"{service}-{fault.replace(' ', '-')}"
    with toxiproxy.proxy(name, upstream=f"127.0.0.1:{running.ports[key]}") as proxy:
        saved = tmp_path / "outputs.json"
        saved.write_text(json.dumps(outputs_through(running, fields, proxy.port)))
        for toxic in toxics:
            toxiproxy.add_toxic(name, toxic)
        args = [f"smoke/checks/{selection[0]}", *selection[1:], "--check-timeout", CHECK_TIMEOUT_S]
        result = running.smoke_file(saved, *args, "-rA", timeout=HANG_S + 30)
        saved.unlink()
    print(f"\nsmoke of {service} through {fault}: {result.seconds:.2f}s, exit {result.returncode}")
    assert result.seconds < HANG_S, f"smoke hung through {fault}: {result.seconds:.1f}s"
    if expected is None:
        assert result.returncode == 0, result.output[-3000:]
    else:
        assert result.returncode == 1, result.output[-3000:]
        assert f"{service}: " in result.output and expected in result.output, result.output[-3000:]


def test_the_app_answers_503_within_its_deadline_when_the_cache_hangs(
    running: LocalProject,
) -> None:
    pid = running.server_pid("redis")
    assert pid
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = httpx.get(f"http://127.0.0.1:{running.ports['appPort']}/api/health", timeout=10)
        took = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    print(f"\n/api/health with the cache hung: {response.status_code} in {took:.2f}s")
    assert response.status_code == 503
    cache = response.json()["services"]["cache"]
    assert cache["healthy"] is False and "timed out" in cache.get("error", "")
    assert took < 6, f"/api/health took {took:.1f}s (its probes' deadline is 2 s)"
