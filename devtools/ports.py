"""Loopback ports for throwaway servers; one `free_port` and `port_open` for tests, bench and
devtools (`port_open` is the providers' own)."""

from __future__ import annotations

import os
import random
import socket
import tempfile
import time
from pathlib import Path

import psutil

from components.local.processes import HOST, port_open

__all__ = ["free_port", "port_open"]

# A port handed out stays claimed while the process that asked for it lives (a session-long
# stack's server may leave it free for a moment while a test restarts it), and for this long
# after, for servers a short-lived command started: no other test process (`make test` runs
# four workers) may get it meanwhile.
CLAIM_S = 900.0
CLAIMS = Path(tempfile.gettempdir()) / "mentora-port-claims"
ATTEMPTS = 50
# Below the kernel's ephemeral range (32768-60999 here: /proc/sys/net/ipv4/ip_local_port_range)
# and below review stacks' 21000-31999: a port the kernel picks for a bind(0) (Pulumi's own gRPC
# servers, a drill) can never be one a test claimed and has not bound yet.
PORTS = range(10000, 21000)


def free_port(host: str = HOST) -> int:
    """A TCP port of PORTS on `host` that nothing was bound to a moment ago and that no other
    process using devtools was handed in the last CLAIM_S seconds."""
    CLAIMS.mkdir(exist_ok=True)
    for _ in range(ATTEMPTS):
        port = random.choice(PORTS)  # noqa: S311 - a port, not a secret
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue  # bound by something else now
        if _claim(CLAIMS / str(port)):
            return port
    raise RuntimeError(f"no unclaimed free port after {ATTEMPTS} tries (claims in {CLAIMS})")


def _claim(path: Path) -> bool:
    try:
        if time.time() - path.stat().st_mtime > CLAIM_S and not _claimer_lives(path):
            path.unlink(missing_ok=True)  # an old claim: its stack is long gone or bound
    except FileNotFoundError:
        pass
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    me = psutil.Process()
    with os.fdopen(fd, "w") as claim:
        claim.write(f"{me.pid} {me.create_time()}\n")
    return True


def _claimer_lives(path: Path) -> bool:
    """Whether the process named in the claim (pid and start time: a reused pid is not it)
    still runs."""
    try:
        pid, started = path.read_text().split()
        return psutil.Process(int(pid)).create_time() == float(started)
    except (OSError, ValueError, psutil.Error):
        return False
