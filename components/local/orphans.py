"""Servers of ours running outside the stack's state, and how they are stopped.

A cold `up` interrupted twice leaves servers running whose resources never reached the state; a
data dir deleted under a running server makes refresh drop it from the state while it still holds
its port. Such a server is ours when it works in its data dir or writes its output there
(`process_identity.lives_in`), also once that dir is deleted; anything else is never signalled.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from components.local import processes
from components.local.process_identity import find_listener, lives_in

STOP_S = 3.0  # SIGTERM, then SIGKILL: an orphan's data is gone or was never in state
_log = logging.getLogger(__name__)


def stop_orphan(service: str, port: int, data_dir: Path) -> int | None:
    """Stop the process listening on `port` if it is `service`'s server of `data_dir`; its pid,
    or None when nothing of ours listens there."""
    pid = find_listener(port)
    if pid is None or not lives_in(pid, data_dir):
        return None
    _log.info("%s: stopping pid %d, left running outside the stack's state", service, pid)
    leader = os.getpgid(pid) == pid and pid != os.getpgrp()  # a session of its own: workers
    processes.stop_pid(pid, STOP_S, group=leader)  # returns once its last thread is gone
    return pid
