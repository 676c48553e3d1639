"""The port preflight: another program's port is found; the stack's own running server is not."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from components.local.preflight import PID_FILES, taken_ports
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


def test_the_stacks_own_live_server_may_hold_its_port(taken_port: int, tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    # A stand-in for the stack's server: a live process whose command line names its port.
    server = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", str(taken_port)]
    )
    try:
        pid_file = data_dir / PID_FILES["postgres"]
        pid_file.parent.mkdir(parents=True)
        pid_file.write_text(f"{server.pid}\n")
        assert taken_ports({"postgres": (taken_port, data_dir)}) == []
    finally:
        server.kill()
        server.wait()


def test_a_pid_file_naming_an_unrelated_live_process_does_not_excuse_a_taken_port(
    taken_port: int, tmp_path: Path
) -> None:
    # The pid was reused by another program (here: this test process): not our server.
    data_dir = tmp_path / "redis"
    data_dir.mkdir()
    (data_dir / PID_FILES["redis"]).write_text(f"{os.getpid()}\n")
    assert [(t.service, t.port) for t in taken_ports({"redis": (taken_port, data_dir)})] == [
        ("redis", taken_port)
    ]


def test_a_stale_pid_file_does_not_excuse_a_foreign_taken_port(
    taken_port: int, tmp_path: Path
) -> None:
    data_dir = tmp_path / "app"
    data_dir.mkdir()
    (data_dir / PID_FILES["app"]).write_text("999999999\n")
    assert len(taken_ports({"app": (taken_port, data_dir)})) == 1


def test_free_ports_are_fine(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = int(sock.getsockname()[1])  # bound, not listening: nothing accepts connections
    assert taken_ports({"storage": (free, tmp_path / "s3")}) == []
