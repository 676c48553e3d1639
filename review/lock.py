"""One `review up`/`down` of a stack at a time, and one port allocation at a time.

The same flock as the gate's (gate/lock.py: kernel-released on any exit, holder named in the
file, GateBusy when taken), on `.pulumi-local/gate/review-<name>.lock`. Unlike the gate's, a
review lock file is removed when its stack is torn down; a process that was waiting on the
removed file notices (the path no longer names the file it locked) and takes the new one, so
two holders can never coexist.
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

from gate.lock import POLL_S, GateBusy, holder, lock_path

PORTS = "ports"


def review_lock_path(name: str, root: Path) -> Path:
    return lock_path(f"review-{name}", root)


@contextmanager
def review_lock(name: str, root: Path, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold review lock `name` (a stack, or PORTS) inside the block; GateBusy naming the holder
    when it is not free within `wait_s`. Yields the lock file's path (for `unlink_held`)."""
    path = review_lock_path(name, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + max(wait_s, 0.0)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise GateBusy(
                    f"{name}: another review command is running ({holder(path)}); nothing was "
                    "done. Wait for it, or pass --lock-wait <seconds>"
                ) from None
            time.sleep(POLL_S)
            continue
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file as it finished: lock the current one
    try:
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": " ".join(["mentora-infra", *sys.argv[1:]])[:200],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield path
    finally:
        os.close(fd)


def is_held(name: str, root: Path) -> bool:
    """Whether a live process holds review lock `name` now (a killed holder never does)."""
    return held(review_lock_path(name, root))


def held(path: Path) -> bool:
    """Whether a live process holds the flock on `path` (the gate's or a review lock)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
