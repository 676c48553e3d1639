"""`BenchProject.freeze` / `thaw` / `tree` on a real process tree (a parent with one child),
found through a pid file the way the bench finds the stack's servers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.proc import BenchError
from bench.project import PID_FILES, BenchProject

PORT = 47_913  # only ever a marker on the command line: nothing listens on it


Server = tuple[BenchProject, "subprocess.Popen[bytes]", int]


def state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A 'server' (python with the port on its command line) that started one child."""
    code = "import subprocess, sys, time; c = subprocess.Popen(['sleep', '60']); print(c.pid)"
    code += "; sys.stdout.flush(); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code, str(PORT)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    ports = {"postgresPort": PORT, "errorTrackerPort": PORT}
    project = BenchProject(root=tmp_path / "project", ports=ports)
    for service in ("postgres", "errors"):
        pid_file = project.state_dir / PID_FILES[service]
        pid_file.parent.mkdir(parents=True)
        pid_file.write_text(f"{proc.pid}\n")
    try:
        yield project, proc, child
    finally:
        BenchProject.thaw([proc.pid, child])
        proc.kill()
        proc.wait(timeout=10)
        subprocess.run(["kill", "-9", str(child)], check=False, capture_output=True)


def wait_state(pid: int, want: str) -> str:
    end = time.monotonic() + 5
    while state(pid) != want and time.monotonic() < end:
        time.sleep(0.01)
    return state(pid)


def test_a_server_is_frozen_with_its_children_and_thawed(server: Server) -> None:
    project, proc, child = server
    assert project.tree("errors") == [proc.pid, child]
    assert project.freeze("errors") == [proc.pid, child]
    assert (wait_state(proc.pid, "T"), wait_state(child, "T")) == ("T", "T")
    assert BenchProject.thaw([proc.pid, child]) == [proc.pid, child]
    assert wait_state(proc.pid, "S") == "S" and wait_state(child, "S") == "S"


def test_postgres_freezes_only_the_postmaster(server: Server) -> None:
    project, proc, child = server
    assert project.freeze("postgres") == [proc.pid]
    assert wait_state(proc.pid, "T") == "T"
    assert state(child) == "S"


def test_thaw_skips_processes_that_are_gone(server: Server) -> None:
    project, proc, child = server
    subprocess.run(["kill", "-9", str(child)], check=True)
    time.sleep(0.2)  # the parent never waits: the child stays a zombie, which is gone too
    assert BenchProject.thaw([child, 2**22 + 7]) == []


def test_a_pid_file_naming_another_program_is_refused(tmp_path: Path) -> None:
    project = BenchProject(root=tmp_path / "project", ports={"redisPort": PORT})
    pid_file = project.state_dir / PID_FILES["redis"]
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text("1\n")  # init: its command line does not carry our port
    with pytest.raises(BenchError, match="no running server of this stack"):
        project.freeze("redis")
