"""The local stack end to end with the real Pulumi engine: up -> smoke -> heal -> destroy.

Tests run in file order and share one stack (module-scoped fixture), like a user's session.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from typing import Any
from xml.etree import ElementTree

import pytest

from devtools.ports import port_open
from devtools.project import REPO, LocalProject


def secret_values(project: LocalProject) -> set[str]:
    """Every generated credential of the stack (passwords and keys), from the secret outputs."""
    outputs = json.loads(project.outputs(show_secrets=True).output)
    found: set[str] = set()
    for url in (outputs["database_url"], outputs["redis_url"], outputs["env"]["DATABASE_URL"]):
        password = re.match(r"^\w+://[^:]*:([^@]+)@", url)
        assert password, "expected credentials in the URL"
        found.add(password.group(1))
    found.add(outputs["env"]["AWS_SECRET_ACCESS_KEY"])
    found.add(outputs["env"]["AWS_ACCESS_KEY_ID"])
    assert all(len(v) >= 16 for v in found)
    return found


def test_up_from_nothing_without_plugin_downloads(local_project: LocalProject) -> None:
    result = local_project.up()
    assert "created" in result.output
    # Every HTTP(S) request would hit a closed proxy port; the engine must not have tried any.
    for needle in ("downloading plugin", "Downloading plugin", "127.0.0.1:9", "failed to download"):
        assert needle not in result.output
    for port in local_project.server_ports.values():
        assert port_open(port)
    print(f"\ncold up: {result.seconds:.1f}s")


def test_outputs_contract_and_secrecy(local_project: LocalProject) -> None:
    plain = json.loads(local_project.outputs(show_secrets=False).output)
    assert plain["database_url"] == "[secret]"
    assert plain["redis_url"] == "[secret]"
    assert plain["env"] == "[secret]"
    assert plain["bucket_name"] == "mentora-videos"
    assert plain["storage_region"] == "us-east-1"
    assert plain["storage_endpoint"] == f"http://127.0.0.1:{local_project.ports['storagePort']}"
    shown = json.loads(local_project.outputs(show_secrets=True).output)
    assert shown["database_url"].startswith("postgresql://mentora_app:")
    assert shown["redis_url"].startswith("redis://")
    expected = {
        "DATABASE_URL",
        "REDIS_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_S3_BUCKET",
        "AWS_ENDPOINT_URL_S3",
        "NODE_ENV",
        "LOG_LEVEL",
        "NEXT_PUBLIC_APP_URL",
        "MENTORA_CONFIG_FINGERPRINT",
        "INNGEST_DEV",
        "INNGEST_BASE_URL",
        "SENTRY_DSN",
        "SENTRY_AUTH_TOKEN",
        "SENTRY_API_URL",
        "SENTRY_PROJECT",
    }
    assert set(shown["env"]) == expected
    assert shown["config_fingerprint"] == shown["env"]["MENTORA_CONFIG_FINGERPRINT"]
    assert plain["target"] == "local"
    app_url = f"http://127.0.0.1:{local_project.ports['appPort']}"
    assert plain["app_url"] == app_url
    assert shown["env"]["NEXT_PUBLIC_APP_URL"] == app_url


def test_env_file_is_private_and_complete(local_project: LocalProject) -> None:
    env_file = local_project.env_file
    assert env_file.stat().st_mode & 0o777 == 0o600
    keys = {line.split("=", 1)[0] for line in env_file.read_text().splitlines() if "=" in line}
    assert {"DATABASE_URL", "REDIS_URL", "AWS_S3_BUCKET", "NODE_ENV"} <= keys


def test_servers_listen_on_loopback_only_and_postgres_is_unprivileged(
    local_project: LocalProject, host: Any
) -> None:
    # `host` is pytest-testinfra's view of this machine (ss, ps).
    for key, port in local_project.server_ports.items():
        assert host.socket(f"tcp://127.0.0.1:{port}").is_listening, key
        for wildcard in (f"tcp://0.0.0.0:{port}", f"tcp://:::{port}"):
            assert not host.socket(wildcard).is_listening, f"{key} is reachable from outside"
    pid_file = local_project.state_dir / "postgres" / "pgdata" / "postmaster.pid"
    postmaster = host.process.get(pid=int(pid_file.read_text().split()[0]))
    assert postmaster.comm == "postgres"
    assert postmaster.user != "root"


def test_smoke_suite_is_green(local_project: LocalProject) -> None:
    result = local_project.smoke()
    assert result.returncode == 0, result.output[-4000:]
    assert "SMOKE: all" in result.output
    print(f"\nsmoke: {result.seconds:.1f}s")


def test_the_app_holds_up_under_a_health_burst_and_rotating_client_ids(
    local_project: LocalProject,
) -> None:
    import asyncio

    import httpx

    app_url = f"http://127.0.0.1:{local_project.ports['appPort']}"

    async def burst() -> tuple[list[int], list[int]]:
        async with httpx.AsyncClient(timeout=10) as client:
            health = await asyncio.gather(
                *(client.get(f"{app_url}/api/health") for _ in range(150))
            )
            chat = await asyncio.gather(
                *(
                    client.post(f"{app_url}/api/chat", headers={"X-Client-Id": f"rot-{i}"})
                    for i in range(60)
                )
            )
        return [r.status_code for r in health], [r.status_code for r in chat]

    health, chat = asyncio.run(burst())
    # A bounded probe pool: 150 concurrent health checks never exhaust max_connections.
    assert health.count(200) == 150, sorted(set(health))
    # Unsigned, rotating ids mint no quota: they all count against this one peer address.
    assert chat.count(200) <= 20 and chat.count(429) >= 40, sorted(set(chat))


def test_gate_reports_agree_check_for_check(local_project: LocalProject) -> None:
    junit, report = local_project.root / "r" / "smoke.xml", local_project.root / "r" / "smoke.json"
    result = local_project.gate("smoke", "local", "--junit", str(junit), "--json", str(report))
    assert result.returncode == 0, result.output[-3000:]
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    from_junit = {f"{c.get('classname')}::{c.get('name')}" for c in cases}
    document = json.loads(report.read_text())
    from_json = {c["check"].replace("/", ".").replace(".py::", "::") for c in document["checks"]}
    assert from_junit == from_json and document["passed"] is True
    ran = [c for c in document["checks"] if c["outcome"] != "skipped"]
    assert ran and all(c["attempts"] >= 1 and c["target"] for c in ran)


def test_second_up_reports_no_changes(local_project: LocalProject) -> None:
    result = local_project.run("preview", "--expect-no-changes", "--refresh")
    assert result.returncode == 0
    result = local_project.up("--expect-no-changes")
    assert "unchanged" in result.output
    print(f"\nwarm up: {result.seconds:.1f}s")


def test_dead_redis_fails_smoke_fast_and_refresh_heals(local_project: LocalProject) -> None:
    pid_file = next(local_project.state_dir.glob("redis/**/*.pid"))
    os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while port_open(local_project.ports["redisPort"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not port_open(local_project.ports["redisPort"])

    start = time.monotonic()
    failed = local_project.smoke()
    took = time.monotonic() - start
    assert failed.returncode != 0
    assert re.search(r"cache.*(refused|unreachable|down)", failed.output, re.IGNORECASE)
    assert "SMOKE: FAILED" in failed.output and "cache" in failed.output.split("SMOKE: FAILED")[1]
    # The pytest process itself needs ~1-2 s to start; the failing checks must be fast.
    assert took < 15, f"smoke took {took:.1f}s with redis down"

    gate = local_project.gate("smoke", "local")
    assert gate.returncode == 1 and "SMOKE: FAILED" in gate.output, gate.output[-3000:]

    local_project.up("--refresh")
    assert port_open(local_project.ports["redisPort"])
    healed = local_project.smoke()
    assert healed.returncode == 0, healed.output[-4000:]


def test_dead_postgres_makes_health_503_and_smoke_fail_fast(local_project: LocalProject) -> None:
    import httpx

    pid_file = next(local_project.state_dir.glob("postgres/pgdata/postmaster.pid"))
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while port_open(local_project.ports["postgresPort"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    app_url = f"http://127.0.0.1:{local_project.ports['appPort']}"
    health = httpx.get(f"{app_url}/api/health", timeout=5)
    assert health.status_code == 503
    assert health.json()["services"]["database"]["healthy"] is False
    assert health.json()["services"]["cache"]["healthy"] is True

    failed = local_project.smoke()
    assert failed.returncode != 0
    assert "database: postgres at" in failed.output
    assert "database" in failed.output.split("SMOKE: FAILED")[1]

    local_project.up("--refresh")
    healed = local_project.smoke()
    assert healed.returncode == 0, healed.output[-4000:]


def test_no_generated_secret_in_plaintext_anywhere(local_project: LocalProject) -> None:
    values = secret_values(local_project)
    hits: list[str] = []

    def scan(label: str, text: str) -> None:
        hits.extend(f"{label}: {len(v)}-char secret" for v in values if v in text)

    for path in (local_project.root / ".pulumi-local").rglob("*"):
        if path.is_file() and not path.is_symlink():
            scan(str(path), path.read_bytes().decode("utf-8", errors="replace"))
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        path = REPO / name
        if path.is_file():
            scan(f"repo:{name}", path.read_text(errors="replace"))
    scan("outputs without --show-secrets", local_project.outputs(show_secrets=False).output)
    for result in local_project.log:
        if "--show-secrets" not in result.args:
            scan(f"log of {' '.join(result.args[:3])}", result.output)
    assert hits == []


def test_destroy_stops_servers_and_deletes_data(local_project: LocalProject) -> None:
    local_project.run("destroy", "--yes", "--skip-preview")
    for name, port in local_project.ports.items():
        assert not port_open(port), f"{name} {port} still listening after destroy"
    state = local_project.state_dir
    leftovers = list(state.rglob("*")) if state.exists() else []
    assert leftovers == []
    assert not local_project.env_file.exists()


@pytest.mark.parametrize("key", ["redisPort"])
def test_port_taken_is_a_clear_error_before_anything_is_created(
    local_project: LocalProject, key: str
) -> None:
    with socket.socket() as blocker:
        # The server's port can still be in TIME_WAIT right after the destroy above.
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", local_project.ports[key]))
        blocker.listen()
        result = local_project.run("up", "--yes", "--skip-preview", check=False)
    assert result.returncode != 0
    assert f"port {local_project.ports[key]}" in result.output
    assert f"mentora:{key}" in result.output
    local_project.run("destroy", "--yes", "--skip-preview")
