"""Checks the local stack runs before it registers any resource.

A port held by another program would make that one server fail while the others are created,
leaving a half-built stack. Checking every port first means nothing is touched at all; a port
held by the stack's own running server (proven ours by `ownership`) is fine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from components.local import ownership
from components.local.processes import port_open


@dataclass(frozen=True)
class PortTaken:
    """A server's port is held by a program that is not that server."""

    service: str
    port: int
    holder: str = ""
    """What holds it, when this machine says (`pid 4242: nginx`)."""


def held_by_another_program(port: int, data_dir: Path) -> bool:
    """Whether something listens on `port` that is not the server of `data_dir` (`ownership`:
    its record, or it works in the data dir; one left outside the stack's state is stopped by
    the provider's create)."""
    if not port_open(port):
        return False
    listener = ownership.listener(port)
    owner = ownership.find(data_dir, port)
    return owner is None or listener not in {p.pid for p in owner.processes()}


def taken_ports(servers: Mapping[str, tuple[int, Path]]) -> list[PortTaken]:
    """The servers (service -> (port, data dir)) whose port another program holds."""
    return [
        PortTaken(service, port, holder_of(port))
        for service, (port, data_dir) in servers.items()
        if held_by_another_program(port, data_dir)
    ]


def holder_of(port: int) -> str:
    """`pid N: <command>` of the process listening on `port` (IPv4 or IPv6), '' when unknown
    (it may belong to another user)."""
    pid = ownership.listener(port)
    return "" if pid is None else ownership.describe(pid)
