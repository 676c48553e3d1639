"""Servers of ours left running outside the stack's state are stopped by the next create, never
blamed on "another program"; a program that is not ours keeps its port and is named by pid.

A cold `up` interrupted twice leaves servers running with no resource in state (the next `up`
creates them again); a deleted data dir makes refresh drop a server that still holds its port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from components.local import ownership, processes, redis_server
from components.local.errors import PortInUseError
from components.local.preflight import taken_ports
from components.local.redis_server import RedisProvider
from devtools.ports import free_port


def _ping(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=3)
    try:
        return bool(client.ping())
    finally:
        client.close()


def test_a_server_whose_data_dir_was_deleted_is_ours_and_is_replaced(state_dir: Path) -> None:
    provider, port = RedisProvider(), free_port()
    data_dir = state_dir / "redis"
    props = {"port": port, "data_dir": str(data_dir)}
    first = provider.create(props).outs
    old_pid = processes.read_pid(data_dir / "redis.pid")
    shutil.rmtree(data_dir)  # what a user's `rm -rf .pulumi-local/servers/redis` does
    assert provider.read(f"redis-{port}", first).id == ""  # refresh drops it from state...
    assert ownership.pid_alive(old_pid)  # ...while it still holds the port
    assert taken_ports({redis_server.SERVICE: (port, data_dir)}) == []  # not "another program"

    second = provider.create(props).outs  # the next `up` creates it again
    assert not ownership.pid_alive(old_pid)
    assert second["password"] != first["password"] and _ping(second["url"])
    provider.delete(f"redis-{port}", second)


def test_a_server_left_by_an_interrupted_up_is_stopped_by_the_next_create(
    state_dir: Path,
) -> None:
    provider, port = RedisProvider(), free_port()
    data_dir = state_dir / "redis"
    props = {"port": port, "data_dir": str(data_dir)}
    provider.create(props)  # its resource never reached state (double Ctrl-C)
    old_pid = processes.read_pid(data_dir / "redis.pid")
    again = provider.create(props).outs
    assert not ownership.pid_alive(old_pid) and _ping(again["url"])
    provider.delete(f"redis-{port}", again)


def test_another_program_keeps_its_port_and_is_named(state_dir: Path) -> None:
    other = subprocess.Popen(  # a listener that is not ours: works elsewhere, logs nowhere here
        [
            sys.executable,
            "-c",
            "import socket,time\ns=socket.socket()\n"
            "s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True)\n"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    try:
        assert other.stdout is not None
        port = int(other.stdout.readline())
        data_dir = state_dir / "redis"
        [taken] = taken_ports({redis_server.SERVICE: (port, data_dir)})
        assert taken.holder.startswith(f"pid {other.pid}: ")
        with pytest.raises(PortInUseError):
            RedisProvider().create({"port": port, "data_dir": str(data_dir)})
        assert other.poll() is None  # never signalled
    finally:
        other.kill()
        other.wait()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
