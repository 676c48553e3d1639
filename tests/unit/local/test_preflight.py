"""The port preflight: another program's port is found; the stack's own running server is not."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from components.local import ownership
from components.local.preflight import taken_ports
from stacks.local import _port_problem


def test_a_port_held_by_another_program_is_named_with_its_fix(
    taken_port: int, tmp_path: Path
) -> None:
    (taken,) = taken_ports({"redis": (taken_port, tmp_path / "redis")})
    # The holder is named: this test process listens there.
    assert (taken.service, taken.port) == ("redis", taken_port)
    assert taken.holder.startswith(f"pid {os.getpid()}: ")
    problem = _port_problem("local", "redis", taken_port, taken.holder)
    assert f"another program (pid {os.getpid()}: " in problem
    assert problem.startswith(f"mentora:redisPort={taken_port}: redis: port {taken_port}")
    assert "already in use by another program" in problem
    assert "pulumi config set mentora:redisPort <port> -s local" in problem


def test_the_stacks_own_live_server_may_hold_its_port(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    data_dir.mkdir()
    # A stand-in for the stack's server: it listens on the port and works in its data dir.
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        cwd=data_dir,
        pass_fds=(listening.fileno(),),
    )
    listening.close()
    try:
        assert taken_ports({"postgres": (port, data_dir)}) == []
        ownership.record(server.pid, data_dir, "postgres")  # recorded: ours all the more
        assert taken_ports({"postgres": (port, data_dir)}) == []
    finally:
        server.kill()
        server.wait()


@pytest.mark.parametrize("service", ["redis", "app"])
def test_a_pid_file_naming_any_live_process_does_not_excuse_a_taken_port(
    service: str, taken_port: int, tmp_path: Path
) -> None:
    # Pid files prove nothing: this one names the very process that holds the port.
    data_dir = tmp_path / service
    data_dir.mkdir()
    (data_dir / f"{service}.pid").write_text(f"{os.getpid()}\n")
    assert [(t.service, t.port) for t in taken_ports({service: (taken_port, data_dir)})] == [
        (service, taken_port)
    ]


def test_free_ports_are_fine(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = int(sock.getsockname()[1])  # bound, not listening: nothing accepts connections
    assert taken_ports({"storage": (free, tmp_path / "s3")}) == []


# A server that forks a short-lived child per connection, as postgres does: each child holds the
# inherited listening socket until it exits. psutil names one pid per socket (the highest that
# holds it), so it often names a child that is gone before anyone can look at it.
FORKING_SERVER = """
import os, socket, sys, time
listening = socket.create_server(("127.0.0.1", 0))
print(listening.getsockname()[1], flush=True)
while True:
    if (child := os.fork()) == 0:
        time.sleep(0.002)
        os._exit(0)
    os.waitpid(child, 0)
"""


def test_the_stacks_own_forking_server_is_never_taken_for_another_program(
    tmp_path: Path,
) -> None:
    """CI stop 27: the stack's own postgres, under connections, was refused as `another
    program` (11% of preflights under churn here: psutil named a backend that had exited)."""
    data_dir = tmp_path / "postgres"
    data_dir.mkdir()
    server = subprocess.Popen(
        [sys.executable, "-c", FORKING_SERVER], cwd=data_dir, stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        ownership.record(server.pid, data_dir, "postgres")
        seen = [ownership.listener(port) for _ in range(15)]
        assert seen == [server.pid] * 15
        assert taken_ports({"postgres": (port, data_dir)}) == []
    finally:
        server.kill()
        server.wait()
