"""One gate per stack at a time: an exclusive `flock` on `.pulumi-local/gate/<stack>.lock` of the
checkout, taken before the ledger is read and kept through deploy, smoke and rollback.

The kernel drops the lock when its holder ends, even on SIGKILL, so it is never stale; the file
names the holder (pid, host, command, since when) for the gate that finds it taken. Gates of
other checkouts or machines sharing the backend are kept apart by Pulumi's own stack lock, which
the gate reports as busy too (gate/runner.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gate.ledger import now

POLL_S = 0.2


class GateBusy(Exception):
    """Another gate holds the stack's gate lock (or Pulumi's stack lock); the message names it."""


def lock_path(stack: str, root: Path) -> Path:
    return root / ".pulumi-local" / "gate" / f"{stack}.lock"


def holder(path: Path) -> str:
    """Who holds (or last held) the lock, as the file says."""
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "another gate (unnamed)"
    return (
        f"pid {info.get('pid', '?')} on {info.get('host', '?')} since {info.get('since', '?')}: "
        f"{info.get('command', '?')}"
    )


@contextmanager
def gate_lock(stack: str, root: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the stack's gate lock inside the block; GateBusy naming the holder when it is not
    free within `wait_s` seconds."""
    path = lock_path(stack, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait_s, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise GateBusy(
                        f"{stack}: another gate is running ({holder(path)}); nothing was done. "
                        f"Wait for it, or pass --lock-wait <seconds>"
                    ) from None
                time.sleep(POLL_S)
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": now(),
            "command": " ".join(["mentora-infra", *sys.argv[1:]])[:200],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the lock
