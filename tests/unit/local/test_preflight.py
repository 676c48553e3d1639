"""The port preflight: another program's port is named; the stack's own running server is not."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from components.local.preflight import PORT_OWNERS, port_problems


def dirs(tmp_path: Path) -> dict[str, Path]:
    return {key: tmp_path / key for key in PORT_OWNERS}


def test_a_port_held_by_another_program_is_named_with_its_fix(
    taken_port: int, tmp_path: Path
) -> None:
    (problem,) = port_problems("local", {"redisPort": taken_port}, dirs(tmp_path))
    assert problem.startswith(f"mentora:redisPort={taken_port}: redis: port {taken_port}")
    assert "already in use by another program" in problem
    assert "pulumi config set mentora:redisPort <port> -s local" in problem


def test_the_stacks_own_live_server_may_hold_its_port(taken_port: int, tmp_path: Path) -> None:
    data_dir = dirs(tmp_path)["postgresPort"]
    pid_file = data_dir / PORT_OWNERS["postgresPort"][1]
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{os.getpid()}\n")
    assert port_problems("local", {"postgresPort": taken_port}, dirs(tmp_path)) == []


def test_a_stale_pid_file_does_not_excuse_a_foreign_taken_port(
    taken_port: int, tmp_path: Path
) -> None:
    data_dir = dirs(tmp_path)["appPort"]
    data_dir.mkdir()
    (data_dir / PORT_OWNERS["appPort"][1]).write_text("999999999\n")
    assert len(port_problems("local", {"appPort": taken_port}, dirs(tmp_path))) == 1


def test_free_ports_are_fine(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = int(sock.getsockname()[1])  # bound, not listening: nothing accepts connections
    assert port_problems("local", {"storagePort": free}, dirs(tmp_path)) == []
