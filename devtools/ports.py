"""Loopback ports for throwaway servers; one `free_port` and `port_open` for tests, bench and
devtools (`port_open` is the providers' own)."""

from __future__ import annotations

import socket

from components.local.processes import HOST, port_open

__all__ = ["free_port", "port_open"]


def free_port(host: str = HOST) -> int:
    """A TCP port on `host` that nothing was bound to a moment ago (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
