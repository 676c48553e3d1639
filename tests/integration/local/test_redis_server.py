"""RedisServer's provider against a real redis-server: create, crash, refresh, restart, delete."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from components.local import ownership, processes
from components.local.redis_server import RedisProvider
from devtools.ports import free_port
from tests.integration.local.conftest import files_containing, kill_hard


def test_lifecycle_keeps_data_and_password_across_a_crash(state_dir: Path) -> None:
    import redis

    provider, port = RedisProvider(), free_port()
    data_dir = state_dir / "redis"
    props = {"port": port, "data_dir": str(data_dir)}
    started = time.monotonic()
    outs = provider.create(props).outs
    print(f"redis create took {time.monotonic() - started:.2f}s")
    assert outs is not None and outs["running"] is True
    password = outs["password"]
    assert outs["url"] == f"redis://default:{password}@127.0.0.1:{port}/0"

    client = redis.Redis.from_url(outs["url"], socket_timeout=5)
    assert client.ping() is True
    client.set("lesson:1", "survives a crash")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port, socket_timeout=5).ping()
    pid = processes.read_pid(data_dir / "redis.pid")
    assert pid is not None
    assert password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert files_containing(state_dir, password) == []

    kill_hard(pid)
    read = provider.read(f"redis-{port}", outs)
    assert read.outs is not None and read.outs["running"] is False
    diff = provider.diff(read.id or "", read.outs, props)
    assert (diff.changes, diff.replaces) == (True, [])

    started = time.monotonic()
    updated = provider.update(read.id or "", read.outs, props).outs
    print(f"redis restart took {time.monotonic() - started:.2f}s")
    assert updated == outs
    restarted = redis.Redis.from_url(updated["url"], socket_timeout=5)
    assert restarted.get("lesson:1") == b"survives a crash"
    restarted.close()

    new_pid = processes.read_pid(data_dir / "redis.pid")
    provider.delete(f"redis-{port}", updated)
    assert not ownership.pid_alive(new_pid)
    assert not processes.port_open(port)
    assert not data_dir.exists()
