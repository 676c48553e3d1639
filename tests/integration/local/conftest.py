"""Fixtures for the local providers against real servers: free ports and a state folder."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.local import processes
from components.local.ownership import pid_alive


def kill_hard(pid: int | None, *, group: bool = False) -> None:
    """SIGKILL, as a crash would, and wait until the process is gone. With `group`, its whole
    process group (gunicorn: master and worker), as a crash of the whole server would."""
    assert pid is not None and pid_alive(pid)
    (os.killpg if group else os.kill)(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(pid)


def port_closes(port: int, deadline_s: float = 5.0) -> bool:
    """Whether nothing accepts on `port` within the deadline (a closing socket may linger)."""
    end = time.monotonic() + deadline_s
    while processes.port_open(port):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def files_containing(root: Path, secret: str) -> list[Path]:
    """Files under `root` whose bytes contain `secret` (plaintext leaks on disk)."""
    needle = secret.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its 0700 parents would hide the data dir from the postgres user.
    base = Path(tempfile.mkdtemp(prefix="mentora-local-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)
