"""InngestDevServer's provider against the real Dev Server: create, probe, kill, heal, delete."""

from __future__ import annotations

import time
from pathlib import Path

from components.local import inngest_server, ownership, processes
from components.local.inngest_server import InngestDevServerProvider
from devtools.ports import free_port
from tests.integration.local.conftest import kill_hard, port_closes


def rss_kib(pgid: int) -> int:
    """RSS summed over the process group `pgid` (a server and its workers)."""
    total = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            status = (proc / "status").read_text().splitlines()
        except (OSError, IndexError, ValueError):
            continue
        total += sum(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return total


def test_lifecycle_create_probe_kill_heal_delete(state_dir: Path) -> None:
    provider, port = InngestDevServerProvider(), free_port()
    data_dir = state_dir / "inngest"
    app_url = f"http://127.0.0.1:{free_port()}/api/inngest"
    props = {"port": port, "data_dir": str(data_dir), "app_url": app_url}
    started = time.monotonic()
    outs = provider.create(props).outs
    try:
        print(f"inngest create (cold start) took {time.monotonic() - started:.2f}s")
        assert outs is not None and outs["running"] is True
        assert outs["url"] == f"http://127.0.0.1:{port}"
        assert outs["version"].startswith("1.0.0")
        assert inngest_server.probe(port) == outs["version"]
        pid = processes.read_pid(data_dir / inngest_server.PID_FILE)
        assert pid is not None
        time.sleep(1)  # settle before measuring memory
        print(f"inngest RSS {rss_kib(pid) / 1024:.0f} MiB")
        assert "127.0.0.1" in Path(f"/proc/{pid}/cmdline").read_bytes().decode()

        kill_hard(pid)
        assert inngest_server.probe(port) is None
        read = provider.read(f"inngest-{port}", outs)
        assert read.outs is not None and read.outs["running"] is False
        diff = provider.diff(read.id or "", read.outs, props)
        assert (diff.changes, diff.replaces) == (True, [])

        started = time.monotonic()
        healed = provider.update(read.id or "", read.outs, props).outs
        print(f"inngest restart (warm) took {time.monotonic() - started:.2f}s")
        assert healed == outs
        new_pid = processes.read_pid(data_dir / inngest_server.PID_FILE)
        assert new_pid != pid and inngest_server.probe(port) == outs["version"]

        provider.delete(f"inngest-{port}", healed)
        assert not ownership.pid_alive(new_pid)
        assert port_closes(port)
        assert not data_dir.exists()
    finally:  # a failed assertion must not leave the server running
        provider.delete("cleanup", props)


def test_app_url_change_restarts_and_port_change_moves(state_dir: Path) -> None:
    provider, port = InngestDevServerProvider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "i"), "app_url": "http://127.0.0.1:9/x"}
    outs = provider.create(props).outs
    try:
        moved = {**props, "app_url": "http://127.0.0.1:10/api/inngest"}
        assert provider.diff("i", outs, moved).changes is True
        port_change = provider.diff("i", outs, {**props, "port": free_port()})
        assert (port_change.changes, port_change.replaces) == (True, [])  # a move, not a replace
        updated = provider.update("i", outs, moved).outs
        assert updated["app_url"] == moved["app_url"]
        pid = processes.read_pid(state_dir / "i" / inngest_server.PID_FILE)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        assert "http://127.0.0.1:10/api/inngest" in cmdline
    finally:
        provider.delete("i", props)


def test_the_event_api_exposure_is_what_readme_documents(state_dir: Path) -> None:
    """The Dev Server v1.0.0 has no event-key setting (`inngest dev --help`; its `/e/{key}`
    handler in pkg/api/api.go only refuses an empty key, and `/v1` has no auth): README's
    security section says so. If a new pinned version starts refusing unknown keys, this fails
    and the stack must pass its event key instead. What can be bound is bound: every socket the
    Dev Server listens on is on loopback."""
    import httpx
    import psutil

    provider, port = InngestDevServerProvider(), free_port()
    data_dir = state_dir / "inngest"
    props = {"port": port, "data_dir": str(data_dir), "app_url": "http://127.0.0.1:9/api/inngest"}
    outs = provider.create(props).outs
    assert outs is not None
    try:
        event = {"name": "video/uploaded", "data": {"videoId": "another-stack's"}}
        sent = httpx.post(f"{outs['url']}/e/not-this-stacks-key", json=event, timeout=5)
        assert sent.status_code == 200, "the Dev Server now checks event keys: use the stack's"
        assert httpx.post(f"{outs['url']}/e/", json=event, timeout=5).status_code != 200
        pid = processes.read_pid(data_dir / inngest_server.PID_FILE)
        assert pid is not None
        listening = [
            c.laddr
            for c in psutil.Process(pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
        assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
    finally:
        provider.delete(f"inngest-{port}", {**props, **outs})
