"""Proving that a pid is still the server we started before signalling it, and finding the
process that listens on a loopback port, from /proc alone (Linux; no psutil).

A pid alone proves nothing: pids are reused, and a stale pid file may name any process. The
identity recorded right after a server is ready is the kernel's start time of the process
(/proc/<pid>/stat field 22, clock ticks since boot; with the boot id it never repeats), its
executable, its working directory (postgres and redis chdir into their data dir; the S3 store
and the app are started with cwd=data dir) and a hash of its command line. Capture it after the
server is ready: redis-server rewrites its command line at startup ("redis-server 127.0.0.1:P").

>>> me = ProcessIdentity.capture(os.getpid())
>>> me.matches()
True
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

PROC = Path("/proc")
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's `st` column


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # gone, or another user's process without the right to read it
        return None


def _link(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat; the name (field 2) may hold spaces and parentheses."""
    raw = _read(PROC / str(pid) / "stat")
    if raw is None:
        return None
    return raw.decode(errors="replace").rsplit(")", 1)[1].split()


def boot_id() -> str:
    """This boot's id: start ticks count from boot, so an identity is only valid within it."""
    return (PROC / "sys/kernel/random/boot_id").read_text().strip()


@dataclass(frozen=True)
class ProcessIdentity:
    """What proves that `pid` is the very process seen at capture time (see the module doc)."""

    pid: int
    start_ticks: int
    boot_id: str
    exe: str | None
    cwd: str | None
    cmdline_sha256: str

    @classmethod
    def capture(cls, pid: int) -> ProcessIdentity:
        """Read `pid`'s identity now; `ProcessLookupError` when no such process is running."""
        fields = _stat_fields(pid)
        cmdline = _read(PROC / str(pid) / "cmdline")
        if fields is None or cmdline is None or fields[0] == "Z":
            raise ProcessLookupError(f"process {pid} is not running")
        return cls(
            pid=pid,
            start_ticks=int(fields[19]),  # field 22 of the whole line
            boot_id=boot_id(),
            exe=_link(PROC / str(pid) / "exe"),
            cwd=_link(PROC / str(pid) / "cwd"),
            cmdline_sha256=hashlib.sha256(cmdline).hexdigest(),
        )

    def matches(self) -> bool:
        """Whether `pid` is still this process (alive, not a zombie, same start, same program)."""
        try:
            now = ProcessIdentity.capture(self.pid)
        except ProcessLookupError:
            return False
        return now == self

    def to_json(self) -> str:
        """The identity as one JSON line, for a pid file or a resource's state."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ProcessIdentity:
        return cls(**json.loads(text))


def _hex_addr(host: str, port: int) -> str:
    """`127.0.0.1`, 6390 -> `0100007F:18F6` (the kernel's little-endian IPv4 in /proc/net/tcp)."""
    packed = socket.inet_aton(host)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"


def _listen_inodes(host: str, port: int) -> set[str]:
    """Socket inodes listening on host:port or on every address (0.0.0.0) at that port."""
    wanted = {_hex_addr(host, port), _hex_addr("0.0.0.0", port)}
    inodes: set[str] = set()
    raw = _read(PROC / "net" / "tcp") or b""
    for line in raw.decode().splitlines()[1:]:
        cols = line.split()
        if len(cols) > 9 and cols[1] in wanted and cols[3] == _LISTEN:
            inodes.add(cols[9])
    return inodes


def listeners(port: int, host: str = "127.0.0.1") -> list[int]:
    """Pids holding a listening socket on host:port (those whose fds this user may read)."""
    inodes = _listen_inodes(host, port)
    if not inodes:
        return []
    targets = {f"socket:[{inode}]" for inode in inodes}
    found: list[int] = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        if any(_link(fd) in targets for fd in fds):
            found.append(int(entry.name))
    return sorted(found)


def find_listener(port: int, host: str = "127.0.0.1") -> int | None:
    """The pid that listens on host:port; when forked workers share the socket, the one whose
    parent does not hold it. None when nothing listens or the holder is not ours to see."""
    pids = listeners(port, host)
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None and int(fields[1]) not in pids:  # field 4: the parent pid
            return pid
    return pids[0] if pids else None


def lives_in(pid: int | None, folder: Path) -> bool:
    """Whether `pid` works in `folder` or writes its output there: its working directory, or its
    stdout or stderr, is `folder` or below it, also after `folder` was deleted (the kernel then
    adds ` (deleted)`). That is how each local server of ours runs (postgres and redis chdir into
    their data dir, the others start in it; the app logs into it), so a server left running
    outside the stack's state is still recognised as ours, and nothing else is."""
    if not pid:
        return False
    root = os.path.realpath(folder)
    base = PROC / str(pid)
    for link in (base / "cwd", base / "fd" / "1", base / "fd" / "2"):
        target = _link(link)
        if target is None:
            continue
        target = target.removesuffix(" (deleted)")
        if target == root or target.startswith(root + os.sep):
            return True
    return False
