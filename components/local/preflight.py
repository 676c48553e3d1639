"""Checks the local stack runs before it registers any resource.

A port held by another program would make that one server fail while the others are created,
leaving a half-built stack. Checking every port first means nothing is touched at all; a port
held by the stack's own running server (its pid file names our live process) is fine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from components.local import (
    app_process,
    error_tracker,
    inngest_server,
    postgres_server,
    redis_server,
    s3_server,
)
from components.local.process_identity import find_listener, lives_in
from components.local.processes import cmdline, port_open, read_pid, runs_server

# Each local server's pid file, inside its data dir.
PID_FILES: dict[str, str] = {
    postgres_server.SERVICE: postgres_server.PID_FILE,
    redis_server.SERVICE: redis_server.PID_FILE,
    s3_server.SERVICE: s3_server.PID_FILE,
    app_process.SERVICE: app_process.PID_FILE,
    inngest_server.SERVICE: inngest_server.PID_FILE,
    error_tracker.SERVICE: error_tracker.PID_FILE,
}


@dataclass(frozen=True)
class PortTaken:
    """A server's port is held by a program that is not that server."""

    service: str
    port: int
    holder: str = ""
    """What holds it, when this machine says (`pid 4242: nginx`)."""


def held_by_another_program(service: str, port: int, data_dir: Path) -> bool:
    """Whether something listens on `port` that is not `service`'s server of `data_dir`: its pid
    file names it, or it works in the data dir (one left outside the stack's state, which the
    provider's create stops)."""
    if not port_open(port):
        return False
    pid = read_pid(data_dir / PID_FILES[service])
    if runs_server(pid, (str(port), str(data_dir))):
        return False
    return not lives_in(find_listener(port), data_dir)


def taken_ports(servers: Mapping[str, tuple[int, Path]]) -> list[PortTaken]:
    """The servers (service -> (port, data dir)) whose port another program holds."""
    return [
        PortTaken(service, port, holder_of(port))
        for service, (port, data_dir) in servers.items()
        if held_by_another_program(service, port, data_dir)
    ]


def holder_of(port: int) -> str:
    """`pid N: <command>` of the process listening on 127.0.0.1:`port`, '' when unknown (it
    may belong to another user)."""
    pid = find_listener(port)
    if pid is None:
        return ""
    command = cmdline(pid).strip()[:60]
    return f"pid {pid}: {command}" if command else f"pid {pid}"
