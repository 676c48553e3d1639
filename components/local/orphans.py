"""Servers of ours running outside the stack's state, and how they are stopped.

A cold `up` interrupted twice leaves servers running whose resources never reached the state; a
data dir deleted under a running server makes refresh drop it from the state while it still holds
its port. Such a server is ours when `ownership` proves it (its record beside the data dir, or it
works in the data dir); anything else is never signalled.
"""

from __future__ import annotations

from pathlib import Path

from components.local import ownership


def stop_orphan(service: str, port: int, data_dir: Path) -> int | None:
    """Kill `service`'s server of `data_dir` if one of ours runs (its data is gone or was never
    in the state); its pid, or None when nothing of ours runs there."""
    owner = ownership.find(data_dir, port)
    if owner is None:
        return None
    ownership.stop(owner, service, grace_s=0)  # returns once its last thread is gone
    return owner.pid
