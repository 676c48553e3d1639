"""A recorded process identity survives while the process lives and matches nothing else; the
listener of a loopback port is found from /proc."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.local.process_identity import ProcessIdentity, find_listener, listeners


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "30"])
    yield proc
    proc.kill()
    proc.wait(timeout=5)


def test_identity_survives_while_the_process_lives(sleeper: subprocess.Popen[bytes]) -> None:
    identity = ProcessIdentity.capture(sleeper.pid)
    assert identity.exe is not None and identity.exe.endswith("sleep")
    assert ProcessIdentity.from_json(identity.to_json()) == identity
    assert identity.matches()
    assert ProcessIdentity.capture(sleeper.pid).matches()


def test_a_dead_or_reaped_process_does_not_match(sleeper: subprocess.Popen[bytes]) -> None:
    identity = ProcessIdentity.capture(sleeper.pid)
    sleeper.kill()
    sleeper.wait(timeout=5)
    assert not identity.matches()
    with pytest.raises(ProcessLookupError):
        ProcessIdentity.capture(sleeper.pid)


def test_a_zombie_does_not_match(sleeper: subprocess.Popen[bytes]) -> None:
    identity = ProcessIdentity.capture(sleeper.pid)
    sleeper.kill()
    os.waitid(os.P_PID, sleeper.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
    assert not identity.matches()


def test_a_reused_pid_does_not_match(sleeper: subprocess.Popen[bytes]) -> None:
    # A pid file naming our server's pid, now held by another process: same pid, other start.
    ours = ProcessIdentity.capture(sleeper.pid)
    time.sleep(0.05)  # a later start (start times tick every 10 ms)
    other = subprocess.Popen(["sleep", "30"])
    try:
        stale = dataclasses.replace(ours, pid=other.pid)
        assert not stale.matches()
        assert ProcessIdentity.capture(other.pid).start_ticks >= ours.start_ticks
    finally:
        other.kill()
        other.wait(timeout=5)


def test_another_program_with_our_start_time_does_not_match(
    sleeper: subprocess.Popen[bytes],
) -> None:
    me = ProcessIdentity.capture(os.getpid())
    forged = dataclasses.replace(me, pid=sleeper.pid)  # sleeper's pid, our program and cwd
    forged = dataclasses.replace(
        forged, start_ticks=ProcessIdentity.capture(sleeper.pid).start_ticks
    )
    assert not forged.matches()


def test_identity_from_another_boot_does_not_match(sleeper: subprocess.Popen[bytes]) -> None:
    identity = ProcessIdentity.capture(sleeper.pid)
    assert not dataclasses.replace(
        identity, boot_id="00000000-0000-0000-0000-000000000000"
    ).matches()


def test_find_listener_names_the_process_holding_the_port() -> None:
    code = (
        "import socket, sys, time\n"
        "s = socket.create_server(('127.0.0.1', 0))\n"
        "print(s.getsockname()[1], flush=True)\n"
        "time.sleep(30)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        assert find_listener(port) == proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=5)
    assert find_listener(port) is None


def test_find_listener_sees_our_own_socket_and_not_a_connected_one() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            assert listeners(port) == [os.getpid()]
            assert find_listener(port) == os.getpid()
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        assert find_listener(free.getsockname()[1]) is None  # bound, not listening


def test_lives_in_sees_a_process_working_or_logging_in_a_folder_also_once_deleted(
    tmp_path: Path,
) -> None:
    import shutil

    from components.local.process_identity import lives_in

    works, logs, elsewhere = tmp_path / "works", tmp_path / "logs", tmp_path / "elsewhere"
    for folder in (works, logs, elsewhere):
        folder.mkdir()
    sleep = [sys.executable, "-c", "import time; time.sleep(30)"]
    with (logs / "app.log").open("ab") as log:
        in_cwd = subprocess.Popen(sleep, cwd=works)
        logging_there = subprocess.Popen(sleep, cwd="/", stdout=log)
    try:
        assert lives_in(in_cwd.pid, works) and lives_in(logging_there.pid, logs)
        assert not lives_in(in_cwd.pid, elsewhere) and not lives_in(logging_there.pid, works)
        assert not lives_in(in_cwd.pid, tmp_path / "wor")  # a prefix of the name is not "in"
        shutil.rmtree(works)
        shutil.rmtree(logs)
        assert lives_in(in_cwd.pid, works) and lives_in(logging_there.pid, logs)
        assert not lives_in(None, works)
    finally:
        for proc in (in_cwd, logging_there):
            proc.kill()
            proc.wait()
